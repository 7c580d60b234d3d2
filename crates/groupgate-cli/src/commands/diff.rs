//! `groupgate policy diff`: what a policy change would change for past requests.

use crate::error::{CliError, Exit};
use groupgate::suite::diff_policy_files;
use std::path::Path;

pub(crate) fn run(
    old_path: &Path,
    new_path: &Path,
    requests: &Path,
    directory: Option<&Path>,
    json: bool,
) -> Result<Exit, CliError> {
    let report = diff_policy_files(old_path, new_path, requests, directory)
        .map_err(super::test::suite_error)?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report.changes).unwrap_or_default()
        );
    } else {
        for c in &report.changes {
            println!(
                "{} (line {}): {} changed",
                c.ticket,
                c.line,
                c.changed.join(", ")
            );
            for field in &c.changed {
                let (a, b) = match field.as_str() {
                    "outcome" => (c.old.outcome.clone(), c.new.outcome.clone()),
                    "group" => (show(&c.old.group), show(&c.new.group)),
                    "approvers" => (c.old.approvers.join("; "), c.new.approvers.join("; ")),
                    _ => (show(&c.old.expiry), show(&c.new.expiry)),
                };
                println!("    {field}: {a}  →  {b}");
            }
        }
        println!(
            "{} of {} request(s) would be decided differently",
            report.changes.len(),
            report.total
        );
    }
    Ok(if report.changes.is_empty() {
        Exit::Success
    } else {
        Exit::Findings
    })
}

fn show(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "none".to_owned())
}
