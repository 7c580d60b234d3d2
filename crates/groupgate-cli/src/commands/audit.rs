//! `groupgate audit verify` and `groupgate audit replay`.

use crate::error::{CliError, Exit};
use crate::files;
use groupgate_core::audit::{AuditRecord, replay as replay_records, verify_jsonl};
use std::path::Path;

pub(crate) fn verify(file: &Path) -> Result<Exit, CliError> {
    let text = files::read_text(file)?;
    match verify_jsonl(&text) {
        Ok(n) => {
            println!("{}: {n} record(s), hash chain intact", file.display());
            Ok(Exit::Success)
        }
        Err(e) => {
            println!("{}: {e}", file.display());
            Ok(Exit::Findings)
        }
    }
}

pub(crate) fn replay(file: &Path, policy_path: &Path, json: bool) -> Result<Exit, CliError> {
    let text = files::read_text(file)?;
    let policy = files::load_policy(policy_path)?;
    let mut records = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let record: AuditRecord = serde_json::from_str(line).map_err(|e| CliError::Parse {
            path: file.display().to_string(),
            location: format!(":{}:{}", i + 1, e.column()),
            field: "(record)".to_owned(),
            message: e
                .to_string()
                .split(" at line ")
                .next()
                .unwrap_or_default()
                .to_owned(),
            expected: "an audit trail written by groupgate (JSON Lines)",
        })?;
        records.push(record);
    }
    let (replayed, differences) = replay_records(&records, &policy);
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&differences).unwrap_or_default()
        );
    } else {
        for d in &differences {
            let why = if d.recorded_digest == d.replayed_digest {
                "same policy digest: the evaluator changed".to_owned()
            } else {
                format!(
                    "policy changed ({} → {})",
                    short(&d.recorded_digest),
                    short(&d.replayed_digest)
                )
            };
            println!(
                "seq {} ({}): recorded `{}`, replayed `{}` — {why}",
                d.seq, d.workflow, d.recorded_outcome, d.replayed_outcome
            );
        }
        println!(
            "{replayed} decision(s) replayed, {} differ",
            differences.len()
        );
    }
    Ok(if differences.is_empty() {
        Exit::Success
    } else {
        Exit::Findings
    })
}

fn short(digest: &str) -> &str {
    digest.get(..19).unwrap_or(digest)
}
