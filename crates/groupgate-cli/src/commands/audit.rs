//! `groupgate audit verify | keygen | replay`.

use crate::error::{CliError, Exit};
use groupgate::trail::{ReplayReport, TrailError, VerifyFileOptions, replay_file, verify_file};
use groupgate_core::audit::{AuditError, CheckpointKey};
use std::path::{Path, PathBuf};

/// What `audit verify` checks besides the chain.
pub(crate) struct VerifyArgs {
    pub(crate) expect_head: Vec<String>,
    pub(crate) anchors: Option<PathBuf>,
    pub(crate) public_key: Option<String>,
    pub(crate) json: bool,
}

fn trail_error(e: TrailError) -> CliError {
    match e {
        TrailError::File(f) => f.into(),
        TrailError::Argument(a) => CliError::Argument(a),
        TrailError::Audit { path, error } => CliError::Argument(format!("{path}: {error}")),
    }
}

pub(crate) fn verify(file: &Path, args: &VerifyArgs) -> Result<Exit, CliError> {
    let options = VerifyFileOptions {
        expect_heads: args.expect_head.clone(),
        anchors_file: args.anchors.clone(),
        public_key: args.public_key.clone(),
    };
    let result = match verify_file(file, &options) {
        Ok(report) => Ok(report),
        Err(TrailError::Audit { error, .. }) => Err(error),
        Err(other) => return Err(trail_error(other)),
    };
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
                if options.has_key() {
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
    let ReplayReport {
        replayed,
        differences,
    } = replay_file(file, policy_path)?;
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
