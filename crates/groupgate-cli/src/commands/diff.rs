//! `groupgate policy diff`: what a policy change would change for past requests.

use super::FactsSource;
use crate::error::{CliError, Exit};
use crate::files;
use chrono::{DateTime, Utc};
use groupgate_core::{CompiledPolicy, Decision, Facts, Request};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One line of the history file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Past {
    request: Request,
    now: DateTime<Utc>,
    #[serde(default)]
    facts: Option<Facts>,
}

/// The parts of a decision a reviewer cares about.
#[derive(Debug, Clone, PartialEq, Serialize)]
struct Summary {
    outcome: String,
    group: Option<String>,
    approvers: Vec<String>,
    expiry: Option<String>,
}

impl Summary {
    fn of(d: &Decision) -> Self {
        Self {
            outcome: serde_json::to_value(d.outcome)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            group: d.group.as_ref().map(|g| g.key.to_string()),
            approvers: d
                .stages
                .iter()
                .map(|s| {
                    let ids: Vec<&str> = s.approvers.iter().map(|a| &*a.id).collect();
                    format!("{} ({} of {})", s.name, s.required, ids.join(", "))
                })
                .collect(),
            expiry: d.expiry.as_ref().map(|e| {
                let cap = e
                    .max_duration_seconds
                    .map(|s| format!("max {}d", s / 86_400));
                let end = e.end_date.map(|t| format!("end {}", t.to_rfc3339()));
                [end, cap]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(", ")
            }),
        }
    }
}

#[derive(Debug, Serialize)]
struct Change {
    line: usize,
    ticket: String,
    changed: Vec<&'static str>,
    old: Summary,
    new: Summary,
}

pub(crate) fn run(
    old_path: &Path,
    new_path: &Path,
    requests: &Path,
    directory: Option<&Path>,
    json: bool,
) -> Result<Exit, CliError> {
    let old = files::load_policy(old_path)?;
    let new = files::load_policy(new_path)?;
    let directory = directory.map(FactsSource::load).transpose()?;
    let text = files::read_text(requests, files::Input::Large)?;
    let mut changes = Vec::new();
    let mut total = 0;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let past: Past = serde_json::from_str(line).map_err(|e| CliError::Parse {
            path: requests.display().to_string(),
            location: format!(":{}:{}", i + 1, e.column()),
            field: "(line)".to_owned(),
            message: e.to_string().split(" at line ").next().unwrap_or_default().to_owned(),
            expected: "one JSON object per line: {\"request\": …, \"now\": …, \"facts\": … (optional)}",
        })?;
        total += 1;
        let evaluate = |policy: &CompiledPolicy| -> Result<Decision, CliError> {
            let facts = match (&past.facts, &directory) {
                (Some(f), _) => f.clone(),
                (None, Some(d)) => d.facts_for(policy, &past.request),
                (None, None) => {
                    return Err(CliError::Argument(format!(
                        "{}:{}: the line has no `facts`; pass --directory to derive them",
                        requests.display(),
                        i + 1
                    )));
                }
            };
            Ok(policy.evaluate(&past.request, &facts, past.now))
        };
        let (a, b) = (Summary::of(&evaluate(&old)?), Summary::of(&evaluate(&new)?));
        let mut changed = Vec::new();
        if a.outcome != b.outcome {
            changed.push("outcome");
        }
        if a.group != b.group {
            changed.push("group");
        }
        if a.approvers != b.approvers {
            changed.push("approvers");
        }
        if a.expiry != b.expiry {
            changed.push("expiry");
        }
        if !changed.is_empty() {
            changes.push(Change {
                line: i + 1,
                ticket: past.request.ticket.to_string(),
                changed,
                old: a,
                new: b,
            });
        }
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&changes).unwrap_or_default()
        );
    } else {
        for c in &changes {
            println!(
                "{} (line {}): {} changed",
                c.ticket,
                c.line,
                c.changed.join(", ")
            );
            for field in &c.changed {
                let (a, b) = match *field {
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
            changes.len(),
            total
        );
    }
    Ok(if changes.is_empty() {
        Exit::Success
    } else {
        Exit::Findings
    })
}

fn show(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "none".to_owned())
}
