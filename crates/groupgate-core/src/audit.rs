//! The audit trail: every input, decision, approval, action and failure as an
//! append-only, hash-chained record. The same records are the workflows'
//! event log (event sourcing): a workflow is rebuilt by replaying them.
//!
//! Each record's `hash` is SHA-256 over the previous record's hash and the
//! record's canonical JSON (keys sorted, `hash` left out), so editing,
//! deleting, inserting or reordering records breaks the chain.

use crate::CompiledPolicy;
use crate::evaluate::Decision;
use crate::model::{Facts, Request, WorkflowId};
use crate::policy::digest::hex_digest;
use crate::ports::PortError;
use crate::workflow::{Command, Event};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The hash the first record links to.
pub const GENESIS: &str = "sha256:genesis";

/// Who caused a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Actor {
    /// groupgate itself.
    System,
    /// The requester (submitting a request).
    Requester(String),
    /// An approver (answering).
    Approver(String),
    /// An operator (e.g. starting an offboarding).
    Operator(String),
}

/// What a record says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "entry", rename_all = "snake_case")]
pub enum Entry {
    /// A workflow started for a request.
    Started {
        /// The request.
        request: Request,
    },
    /// The policy was evaluated: every input and the full decision, so the
    /// decision can be replayed.
    Evaluation {
        /// The request.
        request: Request,
        /// The facts gathered from the directory.
        facts: Box<Facts>,
        /// The evaluation time.
        now: DateTime<Utc>,
        /// The decision (with reasons and policy digest).
        decision: Box<Decision>,
        /// Whether this was the re-check right before acting.
        recheck: bool,
    },
    /// An event was applied to the workflow.
    Applied {
        /// The event.
        event: Box<Event>,
        /// The phase after it.
        phase: String,
    },
    /// An event did not fit and was not applied.
    Refused {
        /// The event.
        event: Box<Event>,
        /// Why.
        reason: String,
    },
    /// A command is about to be executed (the intent, before the effect).
    Issued {
        /// The command.
        command: Command,
    },
    /// A command was executed (the outcome, right after the effect).
    Executed {
        /// The command's idempotency key.
        key: String,
        /// What it returned, when it succeeded.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        result: Option<serde_json::Value>,
        /// Why it failed, when it did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<PortError>,
    },
}

/// One audit record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Position in the whole trail, from 0.
    pub seq: u64,
    /// When it was recorded.
    pub at: DateTime<Utc>,
    /// The workflow it belongs to.
    pub workflow: WorkflowId,
    /// Who caused it.
    pub actor: Actor,
    /// What it says.
    #[serde(flatten)]
    pub entry: Entry,
    /// The previous record's hash ([`GENESIS`] for the first).
    pub prev_hash: String,
    /// This record's hash.
    pub hash: String,
}

/// A broken audit trail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditError {
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
}

/// The canonical JSON of a record without its `hash` (keys sorted).
fn canonical(value: &serde_json::Value) -> String {
    let mut v = value.clone();
    if let Some(map) = v.as_object_mut() {
        map.remove("hash");
    }
    // serde_json's map is a BTreeMap here: keys come out sorted.
    v.to_string()
}

fn chain_hash(prev: &str, canonical: &str) -> String {
    let mut bytes = Vec::with_capacity(prev.len() + 1 + canonical.len());
    bytes.extend_from_slice(prev.as_bytes());
    bytes.push(b'\n');
    bytes.extend_from_slice(canonical.as_bytes());
    hex_digest(&bytes)
}

impl AuditRecord {
    /// A new record after `prev` (or the first one), sealed with its hash.
    pub fn seal(
        prev: Option<&AuditRecord>,
        at: DateTime<Utc>,
        workflow: WorkflowId,
        actor: Actor,
        entry: Entry,
    ) -> AuditRecord {
        let mut record = AuditRecord {
            seq: prev.map(|p| p.seq + 1).unwrap_or(0),
            at,
            workflow,
            actor,
            entry,
            prev_hash: prev
                .map(|p| p.hash.clone())
                .unwrap_or_else(|| GENESIS.to_owned()),
            hash: String::new(),
        };
        let value = serde_json::to_value(&record).unwrap_or(serde_json::Value::Null);
        record.hash = chain_hash(&record.prev_hash, &canonical(&value));
        record
    }

    /// The record as one JSON line.
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Verifies a JSON Lines audit trail: every line parses, sequence numbers
/// run from 0 without gaps, each record links to the previous hash, and each
/// hash matches its content. Returns the number of records.
///
/// ```
/// use groupgate_core::audit::{verify_jsonl, AuditRecord, Actor, Entry};
/// let request: groupgate_core::Request = serde_json::from_str(r#"{"ticket":"T1","requester":"a","target":"b","resource":"x"}"#).unwrap();
/// let at = "2026-11-25T10:00:00Z".parse().unwrap();
/// let first = AuditRecord::seal(None, at, "T1".into(), Actor::System, Entry::Started { request });
/// let text = first.to_json_line() + "\n";
/// assert_eq!(verify_jsonl(&text), Ok(1));
/// assert!(verify_jsonl(&text.replace("\"T1\"", "\"T2\"")).is_err());
/// ```
pub fn verify_jsonl(text: &str) -> Result<usize, AuditError> {
    let mut prev_hash = GENESIS.to_owned();
    let mut count = 0usize;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let line_no = i + 1;
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| AuditError::Malformed {
                line: line_no,
                message: e.to_string(),
            })?;
        let record: AuditRecord =
            serde_json::from_value(value.clone()).map_err(|e| AuditError::Malformed {
                line: line_no,
                message: e.to_string(),
            })?;
        let broken = |what: String| AuditError::Broken {
            line: line_no,
            seq: record.seq,
            what,
        };
        if record.seq != count as u64 {
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
        prev_hash = record.hash;
        count += 1;
    }
    Ok(count)
}

/// A recorded decision that comes out differently when replayed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplayDifference {
    /// The record's sequence number.
    pub seq: u64,
    /// The workflow.
    pub workflow: WorkflowId,
    /// The policy digest recorded with the decision.
    pub recorded_digest: String,
    /// The digest of the policy replayed against.
    pub replayed_digest: String,
    /// The recorded outcome.
    pub recorded_outcome: String,
    /// The replayed outcome.
    pub replayed_outcome: String,
}

/// Re-evaluates every recorded decision from its recorded inputs against
/// `policy`; returns how many were replayed and the ones that differ (byte
/// for byte). A different digest explains a difference: the policy changed.
pub fn replay(records: &[AuditRecord], policy: &CompiledPolicy) -> (usize, Vec<ReplayDifference>) {
    let outcome = |d: &Decision| {
        serde_json::to_value(d.outcome)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    let mut replayed = 0;
    let mut differences = Vec::new();
    for record in records {
        if let Entry::Evaluation {
            request,
            facts,
            now,
            decision,
            ..
        } = &record.entry
        {
            replayed += 1;
            let again = policy.evaluate(request, facts, *now);
            if again.to_canonical_json() != decision.to_canonical_json() {
                differences.push(ReplayDifference {
                    seq: record.seq,
                    workflow: record.workflow.clone(),
                    recorded_digest: decision.policy_digest.to_string(),
                    replayed_digest: again.policy_digest.to_string(),
                    recorded_outcome: outcome(decision),
                    replayed_outcome: outcome(&again),
                });
            }
        }
    }
    (replayed, differences)
}
