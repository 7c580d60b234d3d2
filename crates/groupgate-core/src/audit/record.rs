//! Audit records, their entries, and sealing them onto the chain.

use crate::model::{GroupId, Request, UserId, WorkflowId};
use crate::policy::digest::hex_digest;
use crate::ports::PortError;
use crate::workflow::{Event, WorkflowSettings};
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
    /// A workflow started for a request, with the settings it runs under.
    Started {
        /// The request.
        request: Request,
        /// The state machine's settings, replayed from here ever after.
        #[serde(default)]
        settings: WorkflowSettings,
    },
    /// An event was applied to the workflow. Outcome events carry what the
    /// effect returned; evaluations carry the facts and the full decision, so
    /// every decision can be replayed.
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
    /// Something went wrong outside a workflow's own steps (a workflow that
    /// could not be rebuilt or stepped during a pass, an answer from an
    /// unknown person, a refused request): recorded, and the pass went on.
    Incident {
        /// What was being done.
        operation: String,
        /// What went wrong.
        error: String,
    },
    /// Offboarding found a membership of a governed group that no workflow
    /// accounts for (added outside groupgate).
    Drift {
        /// The user.
        user: UserId,
        /// The group.
        group: GroupId,
        /// What was done about it: `removed`, `reported` or `failed`.
        action: String,
        /// The directory's request ids, or the error.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
        /// The failure, when the removal failed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<PortError>,
    },
    /// People were reminded that time-bound access ends soon (the ticket
    /// noted, the requester and the target's manager told).
    Reminded {
        /// When the access ends.
        ends_at: DateTime<Utc>,
        /// Who was told through chat.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        told: Vec<String>,
    },
    /// A new policy was put in force without a restart (a reload); the
    /// decisions after it record the new digest.
    PolicyChanged {
        /// The digest replaced.
        from: String,
        /// The digest in force from here on.
        to: String,
    },
    /// A signed statement that the trail, up to and including record
    /// `covers`, ends in `covers_hash` (see [`super::CheckpointKey`]).
    Checkpoint {
        /// The sequence number of the record covered.
        covers: u64,
        /// That record's hash.
        covers_hash: String,
        /// Which key signed (the first 16 hex digits of SHA-256 over the public key).
        key_id: String,
        /// The Ed25519 signature over [`super::checkpoint_message`], base64.
        signature: String,
    },
}

/// One audit record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Position in the whole trail, from 0.
    pub seq: u64,
    /// When it was recorded.
    pub at: DateTime<Utc>,
    /// The workflow it belongs to (or a pseudo-workflow such as `audit` or
    /// `offboarding/<user>` for records outside one).
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

/// A record to append, before the store seals it onto the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewRecord {
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: Actor,
    /// What.
    pub entry: Entry,
}

/// The end of the trail: the last record's sequence number and hash. Written
/// into ticket work notes as an anchor, and signed in checkpoints.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChainHead {
    /// The last record's sequence number.
    pub seq: u64,
    /// Its hash.
    pub hash: String,
}

impl std::fmt::Display for ChainHead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

/// The canonical JSON of a record without its `hash` (keys sorted).
pub(super) fn canonical(value: &serde_json::Value) -> String {
    match value.as_object() {
        Some(map) => {
            // serde_json's map is a BTreeMap here: keys come out sorted.
            let mut without = map.clone();
            without.remove("hash");
            serde_json::Value::Object(without).to_string()
        }
        None => value.to_string(),
    }
}

pub(super) fn chain_hash(prev: &str, canonical: &str) -> String {
    let mut bytes = Vec::with_capacity(prev.len() + 1 + canonical.len());
    bytes.extend_from_slice(prev.as_bytes());
    bytes.push(b'\n');
    bytes.extend_from_slice(canonical.as_bytes());
    hex_digest(&bytes)
}

impl AuditRecord {
    /// A new record after `prev` (or the first one), sealed with its hash.
    pub fn seal(
        prev: Option<&ChainHead>,
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
        // Written straight from the record; the value tree is only the
        // fallback for a record the direct writer refuses (none in practice:
        // both give the same bytes, see `canonical::tests`).
        let text = super::canonical::to_canonical(&record, Some("hash")).unwrap_or_else(|_| {
            canonical(&serde_json::to_value(&record).unwrap_or(serde_json::Value::Null))
        });
        record.hash = chain_hash(&record.prev_hash, &text);
        record
    }

    /// Seals `new` for `workflow` after `prev`, whose record was made at
    /// `prev_at`: records are sealed in commit order, and a step that read
    /// the clock before another committed must not come out earlier than
    /// it (the trail's time never runs backwards), so its time is raised to
    /// `prev_at`.
    pub fn seal_after(
        prev: Option<&ChainHead>,
        prev_at: Option<DateTime<Utc>>,
        workflow: WorkflowId,
        new: NewRecord,
    ) -> AuditRecord {
        let at = prev_at.map_or(new.at, |t| new.at.max(t));
        Self::seal(prev, at, workflow, new.actor, new.entry)
    }

    /// Seals `records` for `workflow` in order onto the chain whose head is
    /// `prev` (recorded at `prev_at`), each after the one before: what every
    /// store does inside a commit.
    pub fn seal_all(
        prev: Option<ChainHead>,
        prev_at: Option<DateTime<Utc>>,
        workflow: &WorkflowId,
        records: &[NewRecord],
    ) -> Vec<AuditRecord> {
        let mut head = prev;
        let mut last_at = prev_at;
        let mut sealed = Vec::with_capacity(records.len());
        for new in records {
            let record = Self::seal_after(head.as_ref(), last_at, workflow.clone(), new.clone());
            last_at = Some(record.at);
            head = Some(record.head());
            sealed.push(record);
        }
        sealed
    }

    /// Seals `new` for `workflow` after `prev`.
    pub fn seal_new(prev: Option<&ChainHead>, workflow: WorkflowId, new: NewRecord) -> AuditRecord {
        Self::seal(prev, new.at, workflow, new.actor, new.entry)
    }

    /// This record as the head of the chain.
    pub fn head(&self) -> ChainHead {
        ChainHead {
            seq: self.seq,
            hash: self.hash.clone(),
        }
    }

    /// The record as one JSON line.
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}
