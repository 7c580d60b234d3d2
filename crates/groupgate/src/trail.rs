//! Audit trail files: verifying one (hash chain, anchors, signed
//! checkpoints) and replaying its decisions, from paths — what `groupgate
//! audit verify` and `audit replay` do.

use crate::files::{self, FileError, Input};
use groupgate_core::audit::{
    Anchor, AuditError, AuditRecord, CheckpointVerifier, ReplayDifference, VerifyOptions,
    VerifyReport, replay, verify_trail,
};
use serde::Serialize;
use std::path::Path;

/// Why a trail could not be checked, or did not verify.
#[derive(Debug, thiserror::Error)]
pub enum TrailError {
    /// A file could not be read.
    #[error(transparent)]
    File(#[from] FileError),
    /// An anchor or key given is malformed.
    #[error("{0}")]
    Argument(String),
    /// The trail does not verify (or holds no records).
    #[error("{path}: {error}")]
    Audit {
        /// The trail.
        path: String,
        /// What failed first.
        error: AuditError,
    },
}

/// What to check besides the hash chain.
#[derive(Debug, Clone, Default)]
pub struct VerifyFileOptions {
    /// Heads recorded elsewhere (`SEQ:HASH`) the trail must contain.
    pub expect_heads: Vec<String>,
    /// A file of anchors: `SEQ:HASH` or a ticket's `[groupgate audit anchor
    /// seq=… hash=…]` marker per line, `#` comments allowed.
    pub anchors_file: Option<std::path::PathBuf>,
    /// The checkpoint public key (base64 or hex), or a file holding it;
    /// every signed checkpoint is then checked and at least one required.
    pub public_key: Option<String>,
}

impl VerifyFileOptions {
    fn resolve(&self) -> Result<VerifyOptions, TrailError> {
        let mut anchors: Vec<Anchor> = Vec::new();
        for text in &self.expect_heads {
            anchors.push(
                text.parse()
                    .map_err(|e: groupgate_core::audit::AnchorError| {
                        TrailError::Argument(format!("expected head `{text}`: {e}"))
                    })?,
            );
        }
        if let Some(path) = &self.anchors_file {
            let text = files::read_text(path, Input::Large)?;
            for (i, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let bare = line
                    .trim_start_matches("[groupgate audit anchor ")
                    .trim_end_matches(']');
                anchors.push(
                    bare.parse()
                        .map_err(|e: groupgate_core::audit::AnchorError| {
                            TrailError::Argument(format!("{}:{}: {e}", path.display(), i + 1))
                        })?,
                );
            }
        }
        let verifier = match &self.public_key {
            None => None,
            Some(given) => {
                let path = Path::new(given);
                let text = if path.is_file() {
                    files::read_text(path, Input::Small)?
                } else {
                    given.clone()
                };
                Some(
                    CheckpointVerifier::from_text(&text)
                        .map_err(|e| TrailError::Argument(format!("public key: {e}")))?,
                )
            }
        };
        Ok(VerifyOptions { anchors, verifier })
    }

    /// Whether a key was given.
    pub fn has_key(&self) -> bool {
        self.public_key.is_some()
    }
}

/// Verifies the trail at `path`.
pub fn verify_file(path: &Path, options: &VerifyFileOptions) -> Result<VerifyReport, TrailError> {
    let resolved = options.resolve()?;
    let text = files::read_text(path, Input::Large)?;
    verify_trail(&text, &resolved).map_err(|error| TrailError::Audit {
        path: path.display().to_string(),
        error,
    })
}

/// Reads the records of a trail file (JSON Lines).
pub fn read_records(path: &Path) -> Result<Vec<AuditRecord>, FileError> {
    let text = files::read_text(path, Input::Large)?;
    let mut records = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let record: AuditRecord = serde_json::from_str(line).map_err(|e| FileError::Parse {
            path: path.display().to_string(),
            location: Some((i + 1, e.column())),
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
    Ok(records)
}

/// What replaying a trail's decisions found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplayReport {
    /// Decisions replayed.
    pub replayed: usize,
    /// Those that came out differently.
    pub differences: Vec<ReplayDifference>,
}

/// Re-evaluates every decision recorded in the trail at `trail` against the
/// policy at `policy` and lists those that come out differently.
pub fn replay_file(trail: &Path, policy: &Path) -> Result<ReplayReport, FileError> {
    let records = read_records(trail)?;
    let policy = files::load_policy(policy)?;
    let (replayed, differences) = replay(&records, &policy);
    Ok(ReplayReport {
        replayed,
        differences,
    })
}
