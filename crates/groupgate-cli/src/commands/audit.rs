//! `groupgate audit verify | keygen | replay`.

use crate::error::{CliError, Exit};
use crate::files;
use groupgate_core::audit::{
    Anchor, AuditError, AuditRecord, CheckpointKey, CheckpointVerifier, VerifyOptions,
    replay as replay_records, verify_trail,
};
use std::path::{Path, PathBuf};

/// What `audit verify` checks besides the chain.
pub(crate) struct VerifyArgs {
    pub(crate) expect_head: Vec<String>,
    pub(crate) anchors: Option<PathBuf>,
    pub(crate) public_key: Option<String>,
    pub(crate) json: bool,
}

fn options(args: &VerifyArgs) -> Result<VerifyOptions, CliError> {
    let mut anchors: Vec<Anchor> = Vec::new();
    for text in &args.expect_head {
        anchors.push(
            text.parse()
                .map_err(|e: groupgate_core::audit::AnchorError| {
                    CliError::Argument(format!("--expect-head: {e}"))
                })?,
        );
    }
    if let Some(path) = &args.anchors {
        let text = files::read_text(path, files::Input::Large)?;
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            // A work note's marker, or a bare `SEQ:HASH`.
            let bare = line
                .trim_start_matches("[groupgate audit anchor ")
                .trim_end_matches(']');
            anchors.push(
                bare.parse()
                    .map_err(|e: groupgate_core::audit::AnchorError| {
                        CliError::Argument(format!("{}:{}: {e}", path.display(), i + 1))
                    })?,
            );
        }
    }
    let verifier = match &args.public_key {
        None => None,
        Some(given) => {
            let path = Path::new(given);
            let text = if path.is_file() {
                files::read_text(path, files::Input::Large)?
            } else {
                given.clone()
            };
            Some(
                CheckpointVerifier::from_text(&text)
                    .map_err(|e| CliError::Argument(format!("--public-key: {e}")))?,
            )
        }
    };
    Ok(VerifyOptions { anchors, verifier })
}

pub(crate) fn verify(file: &Path, args: &VerifyArgs) -> Result<Exit, CliError> {
    let options = options(args)?;
    let text = files::read_text(file, files::Input::Large)?;
    let result = verify_trail(&text, &options);
    if args.json {
        let value = match &result {
            Ok(report) => serde_json::json!({ "ok": true, "report": report }),
            Err(e) => serde_json::json!({ "ok": false, "error": e.to_string() }),
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        );
    }
    match result {
        Ok(report) => {
            if !args.json {
                let mut what = vec![format!(
                    "{} record(s), hash chain intact, head {}",
                    report.records, report.head
                )];
                if report.anchors_checked > 0 {
                    what.push(format!("{} anchor(s) confirmed", report.anchors_checked));
                }
                if options.verifier.is_some() {
                    what.push(format!(
                        "{} signed checkpoint(s) verified; {} record(s) after the last one are covered by the chain and anchors only",
                        report.checkpoints_verified, report.unsigned_tail
                    ));
                } else if report.anchors_checked == 0 {
                    what.push(
                        "no anchor or key given: a cut or rewritten trail would look the same (see docs/audit.md)"
                            .to_owned(),
                    );
                }
                println!("{}: {}", file.display(), what.join("; "));
            }
            Ok(Exit::Success)
        }
        Err(AuditError::Empty) => {
            if !args.json {
                println!("{}: no records; nothing is proven", file.display());
            }
            Ok(Exit::Findings)
        }
        Err(e) => {
            if !args.json {
                println!("{}: {e}", file.display());
            }
            Ok(Exit::Findings)
        }
    }
}

pub(crate) fn keygen(out: &Path) -> Result<Exit, CliError> {
    let mut seed = [0u8; 32];
    rand::TryRngCore::try_fill_bytes(&mut rand::rngs::OsRng, &mut seed)
        .map_err(|e| CliError::Argument(format!("no randomness from the system: {e}")))?;
    let key = CheckpointKey::from_seed(seed);
    write_secret(out, &key.seed_base64())?;
    println!(
        "signing key written to {} (keep it secret; the worker reads it with GROUPGATE_AUDIT_SIGNING_KEY_FILE)",
        out.display()
    );
    println!("public key: {}", key.public_key_base64());
    Ok(Exit::Success)
}

/// Writes `text` to a new file readable by its owner only.
fn write_secret(path: &Path, text: &str) -> Result<(), CliError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|source| CliError::Read {
        path: path.display().to_string(),
        source,
    })?;
    file.write_all(format!("{text}\n").as_bytes())
        .map_err(|source| CliError::Read {
            path: path.display().to_string(),
            source,
        })
}

pub(crate) fn replay(file: &Path, policy_path: &Path, json: bool) -> Result<Exit, CliError> {
    let text = files::read_text(file, files::Input::Large)?;
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
