//! `groupgate policy test`: run the expectations a policy ships beside it.

use crate::error::{CliError, Exit};
use groupgate::suite::{SuiteFileError, test_policy_file};
use std::path::Path;

pub(crate) fn suite_error(e: SuiteFileError) -> CliError {
    match e {
        SuiteFileError::File(e) => e.into(),
        SuiteFileError::Suite { path, error } => CliError::Argument(format!("{path}: {error}")),
    }
}

pub(crate) fn run(policy_path: &Path, tests: Option<&Path>, json: bool) -> Result<Exit, CliError> {
    let report = test_policy_file(policy_path, tests).map_err(suite_error)?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report.results).unwrap_or_default()
        );
    } else {
        for r in &report.results {
            println!("{} {}", if r.passed { "ok  " } else { "FAIL" }, r.name);
            for m in &r.mismatches {
                println!("       {m}");
            }
        }
        println!("{} passed, {} failed", report.passed, report.failed);
    }
    Ok(if report.failed > 0 {
        Exit::Findings
    } else {
        Exit::Success
    })
}
