//! Verifying a trail: the hash chain, strictly parsed records, time that
//! never runs backwards, anchors kept outside the store, and signed
//! checkpoints.

use super::CheckpointVerifier;
use super::record::{AuditRecord, ChainHead, Entry, GENESIS, canonical, chain_hash};
use super::strict::parse_strict;
use serde::Serialize;
use std::str::FromStr;

/// A chain head recorded outside the store (in a ticket's work note, a
/// witness file, a SIEM): the trail must reach it, with this exact hash.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Anchor {
    /// The sequence number.
    pub seq: u64,
    /// The record's hash at that position.
    pub hash: String,
}

/// An anchor that does not read as `SEQ:HASH`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an anchor; write it as SEQ:HASH, e.g. `1234:sha256:9f2c…`")]
pub struct AnchorError(pub String);

impl FromStr for Anchor {
    type Err = AnchorError;

    /// Parses `SEQ:HASH` (the form work notes carry, `seq=… hash=…` too).
    fn from_str(text: &str) -> Result<Self, AnchorError> {
        let t = text.trim();
        let bad = || AnchorError(t.chars().take(120).collect());
        let (seq, hash) = if let Some(rest) = t.strip_prefix("seq=") {
            let (seq, hash) = rest.split_once(" hash=").ok_or_else(bad)?;
            (seq, hash)
        } else {
            t.split_once(':').ok_or_else(bad)?
        };
        let seq = seq.trim().parse::<u64>().map_err(|_| bad())?;
        let hash = hash.trim();
        if !hash.starts_with("sha256:") || hash.len() != 7 + 64 {
            return Err(bad());
        }
        Ok(Anchor {
            seq,
            hash: hash.to_owned(),
        })
    }
}

impl From<ChainHead> for Anchor {
    fn from(head: ChainHead) -> Self {
        Anchor {
            seq: head.seq,
            hash: head.hash,
        }
    }
}

/// What to check besides the chain itself.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// Heads recorded outside the store; the trail must contain each.
    pub anchors: Vec<Anchor>,
    /// Check every checkpoint's signature with this key, and require at least one.
    pub verifier: Option<CheckpointVerifier>,
}

/// What a verification found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Records in the trail.
    pub records: usize,
    /// The last record.
    pub head: ChainHead,
    /// Anchors confirmed.
    pub anchors_checked: usize,
    /// Checkpoints whose signature was verified.
    pub checkpoints_verified: usize,
    /// The last record a verified checkpoint covers.
    pub signed_through: Option<u64>,
    /// Records (other than checkpoints) after the last verified checkpoint:
    /// covered by the hash chain and the anchors only.
    pub unsigned_tail: usize,
}

/// A trail that does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditError {
    /// The file holds no records at all: nothing is proven.
    #[error("no records: the trail is empty, so nothing can be verified")]
    Empty,
    /// A line is not a record.
    #[error("line {line}: not an audit record: {message}")]
    Malformed {
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The chain is broken at a record.
    #[error(
        "line {line} (seq {seq}): {what}; the trail was edited, reordered, or records were inserted or deleted here"
    )]
    Broken {
        /// 1-based line.
        line: usize,
        /// The record's sequence number.
        seq: u64,
        /// What did not match.
        what: String,
    },
    /// A record is older than the one before it.
    #[error(
        "line {line} (seq {seq}): recorded at {at}, before the previous record ({previous}); time never runs backwards in a genuine trail"
    )]
    TimeWentBack {
        /// 1-based line.
        line: usize,
        /// The record's sequence number.
        seq: u64,
        /// Its time.
        at: String,
        /// The previous record's time.
        previous: String,
    },
    /// The trail ends before an anchor.
    #[error(
        "the trail has {records} records, but an anchor names seq {anchor}: records were cut from its end"
    )]
    Truncated {
        /// The anchor's sequence number.
        anchor: u64,
        /// Records found.
        records: usize,
    },
    /// The trail's record at an anchor has another hash.
    #[error(
        "seq {anchor} has hash `{found}`, but the anchor says `{expected}`: the trail was rewritten (its hashes recomputed)"
    )]
    AnchorMismatch {
        /// The anchor's sequence number.
        anchor: u64,
        /// The anchored hash.
        expected: String,
        /// The trail's hash.
        found: String,
    },
    /// A checkpoint does not verify.
    #[error("line {line} (seq {seq}): checkpoint {what}")]
    Checkpoint {
        /// 1-based line.
        line: usize,
        /// The checkpoint record's sequence number.
        seq: u64,
        /// What is wrong.
        what: String,
    },
    /// A public key was given but the trail carries no checkpoint signed with it.
    #[error(
        "no checkpoint signed by key `{key_id}` is in the trail, so nothing is proven by signature"
    )]
    NoCheckpoint {
        /// The key's id.
        key_id: String,
    },
}

/// Verifies a JSON Lines audit trail: every line parses strictly (a repeated
/// key is refused), sequence numbers run from 0 without gaps, each record
/// links to the previous hash and its hash matches its content, time never
/// runs backwards, every anchor is reached with its exact hash, and every
/// checkpoint covers a record with the hash it names (and, with a key, is
/// signed by it).
///
/// ```
/// use groupgate_core::audit::{verify_trail, AuditRecord, Actor, Entry, VerifyOptions, AuditError};
/// let request: groupgate_core::Request = serde_json::from_str(r#"{"ticket":"T1","requester":"a","target":"b","resource":"x"}"#).unwrap();
/// let at = "2026-11-25T10:00:00Z".parse().unwrap();
/// let first = AuditRecord::seal(None, at, "T1".into(), Actor::System,
///     Entry::Started { request, settings: Default::default() });
/// let text = first.to_json_line() + "\n";
/// let report = verify_trail(&text, &VerifyOptions::default()).unwrap();
/// assert_eq!(report.records, 1);
/// assert!(verify_trail(&text.replace("\"T1\"", "\"T2\""), &VerifyOptions::default()).is_err());
/// assert_eq!(verify_trail("", &VerifyOptions::default()), Err(AuditError::Empty));
/// ```
pub fn verify_trail(text: &str, options: &VerifyOptions) -> Result<VerifyReport, AuditError> {
    let mut prev_hash = GENESIS.to_owned();
    let mut prev_at: Option<chrono::DateTime<chrono::Utc>> = None;
    let mut hashes: Vec<String> = Vec::new();
    let mut checkpoints_verified = 0usize;
    let mut signed_through: Option<u64> = None;
    // Sequence numbers of records other than checkpoints.
    let mut content: Vec<u64> = Vec::new();
    let key_id = options.verifier.as_ref().map(CheckpointVerifier::key_id);
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let line_no = i + 1;
        let malformed = |message: String| AuditError::Malformed {
            line: line_no,
            message,
        };
        let value = parse_strict(line).map_err(|e| malformed(e.to_string()))?;
        let record: AuditRecord =
            serde_json::from_value(value.clone()).map_err(|e| malformed(e.to_string()))?;
        let count = hashes.len() as u64;
        let broken = |what: String| AuditError::Broken {
            line: line_no,
            seq: record.seq,
            what,
        };
        if record.seq != count {
            return Err(broken(format!(
                "expected sequence {count}, found {}",
                record.seq
            )));
        }
        if record.prev_hash != prev_hash {
            return Err(broken(
                "it does not link to the previous record's hash".to_owned(),
            ));
        }
        let expected = chain_hash(&record.prev_hash, &canonical(&value));
        if record.hash != expected {
            return Err(broken("its hash does not match its content".to_owned()));
        }
        if let Some(previous) = prev_at
            && record.at < previous
        {
            return Err(AuditError::TimeWentBack {
                line: line_no,
                seq: record.seq,
                at: record.at.to_rfc3339(),
                previous: previous.to_rfc3339(),
            });
        }
        if let Entry::Checkpoint {
            covers,
            covers_hash,
            key_id: signer,
            signature,
        } = &record.entry
        {
            let bad = |what: String| AuditError::Checkpoint {
                line: line_no,
                seq: record.seq,
                what,
            };
            let covered = usize::try_from(*covers)
                .ok()
                .and_then(|c| hashes.get(c))
                .ok_or_else(|| bad(format!("covers seq {covers}, which is not before it")))?;
            if covered != covers_hash {
                return Err(bad(format!(
                    "says seq {covers} ends in `{covers_hash}`, but the trail has `{covered}`"
                )));
            }
            if let (Some(verifier), Some(expected_id)) = (&options.verifier, &key_id) {
                if signer != expected_id {
                    return Err(bad(format!(
                        "is signed by key `{signer}`, not by the given public key `{expected_id}`"
                    )));
                }
                if !verifier.verify(*covers, covers_hash, signature) {
                    return Err(bad("has a signature that does not verify".to_owned()));
                }
                checkpoints_verified += 1;
                signed_through = Some(*covers);
            }
        }
        if !matches!(record.entry, Entry::Checkpoint { .. }) {
            content.push(record.seq);
        }
        prev_at = Some(record.at);
        prev_hash = record.hash.clone();
        hashes.push(record.hash);
    }
    let Some(last) = hashes.last() else {
        return Err(AuditError::Empty);
    };
    let head = ChainHead {
        seq: hashes.len() as u64 - 1,
        hash: last.clone(),
    };
    for anchor in &options.anchors {
        let found = usize::try_from(anchor.seq).ok().and_then(|s| hashes.get(s));
        match found {
            None => {
                return Err(AuditError::Truncated {
                    anchor: anchor.seq,
                    records: hashes.len(),
                });
            }
            Some(found) if *found != anchor.hash => {
                return Err(AuditError::AnchorMismatch {
                    anchor: anchor.seq,
                    expected: anchor.hash.clone(),
                    found: found.clone(),
                });
            }
            Some(_) => {}
        }
    }
    if let Some(key_id) = key_id
        && checkpoints_verified == 0
    {
        return Err(AuditError::NoCheckpoint { key_id });
    }
    let unsigned_tail = content
        .iter()
        .filter(|seq| signed_through.is_none_or(|s| **seq > s))
        .count();
    Ok(VerifyReport {
        records: hashes.len(),
        head,
        anchors_checked: options.anchors.len(),
        checkpoints_verified,
        signed_through,
        unsigned_tail,
    })
}

/// [`verify_trail`] without anchors or a key: the number of records.
pub fn verify_jsonl(text: &str) -> Result<usize, AuditError> {
    verify_trail(text, &VerifyOptions::default()).map(|r| r.records)
}
