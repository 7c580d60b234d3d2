//! `groupgate policy test`: run the expectations a policy ships beside it.

use super::FactsSource;
use crate::error::{CliError, Exit};
use crate::files;
use chrono::{DateTime, Utc};
use groupgate_core::{Expectation, Facts, Request};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// A policy tests file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Suite {
    /// A directory snapshot (path relative to the tests file) for cases without `facts`.
    #[serde(default)]
    directory: Option<String>,
    /// The default evaluation time.
    #[serde(default)]
    now: Option<DateTime<Utc>>,
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    #[serde(default)]
    now: Option<DateTime<Utc>>,
    request: Request,
    #[serde(default)]
    facts: Option<Facts>,
    expect: Expectation,
}

#[derive(Debug, serde::Serialize)]
struct CaseResult<'a> {
    name: &'a str,
    passed: bool,
    mismatches: Vec<String>,
}

fn default_tests_path(policy: &Path) -> PathBuf {
    let stem = policy
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("policy");
    policy.with_file_name(format!("{stem}.tests.yaml"))
}

pub(crate) fn run(policy_path: &Path, tests: Option<&Path>, json: bool) -> Result<Exit, CliError> {
    let policy = files::load_policy(policy_path)?;
    let tests_path = tests
        .map(Path::to_path_buf)
        .unwrap_or_else(|| default_tests_path(policy_path));
    let suite: Suite = files::load_as(
        &tests_path,
        "a policy tests file (directory, now, cases)",
        files::Input::Large,
    )?;
    let directory = match &suite.directory {
        Some(rel) => Some(FactsSource::load(&files::beside(&tests_path, rel))?),
        None => None,
    };
    let mut results = Vec::new();
    for (i, case) in suite.cases.iter().enumerate() {
        let now = case.now.or(suite.now).ok_or_else(|| {
            CliError::Argument(format!(
                "{}: case {i} (`{}`) has no `now`, and the file sets none",
                tests_path.display(),
                case.name
            ))
        })?;
        let facts = match (&case.facts, &directory) {
            (Some(f), _) => f.clone(),
            (None, Some(dir)) => dir.facts_for(&policy, &case.request),
            (None, None) => {
                return Err(CliError::Argument(format!(
                    "{}: case {i} (`{}`) has no `facts`, and the file names no `directory`",
                    tests_path.display(),
                    case.name
                )));
            }
        };
        let decision = policy.evaluate(&case.request, &facts, now);
        let mismatches = case.expect.mismatches(&decision);
        results.push(CaseResult {
            name: &case.name,
            passed: mismatches.is_empty(),
            mismatches,
        });
    }
    let failed = results.iter().filter(|r| !r.passed).count();
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&results).unwrap_or_default()
        );
    } else {
        for r in &results {
            println!("{} {}", if r.passed { "ok  " } else { "FAIL" }, r.name);
            for m in &r.mismatches {
                println!("       {m}");
            }
        }
        println!("{} passed, {} failed", results.len() - failed, failed);
    }
    Ok(if failed > 0 {
        Exit::Findings
    } else {
        Exit::Success
    })
}
