//! `groupgate policy lint`: every error and warning, located.

use crate::error::{CliError, Exit};
use crate::files;
use groupgate_core::{PolicyFormat, Severity, lint_policy_text};
use std::path::Path;

pub(crate) fn run(file: &Path, strict: bool, json: bool) -> Result<Exit, CliError> {
    let text = files::read_text(file, files::Input::Large)?;
    let name = file.display().to_string();
    let found = lint_policy_text(&text, PolicyFormat::from_file_name(&name));
    let errors = found
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = found.len() - errors;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&found).unwrap_or_default()
        );
    } else {
        for d in &found {
            println!("{}", d.render(&name));
        }
        println!("{name}: {errors} error(s), {warnings} warning(s)");
    }
    Ok(if errors > 0 || (strict && warnings > 0) {
        Exit::Findings
    } else {
        Exit::Success
    })
}
