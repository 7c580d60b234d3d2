//! Durable storage of the audit trail (which is also the workflows' event
//! log), of each workflow's index row, and of timers.

use super::{ErrorClass, PortError, PortResult};
use crate::audit::{AuditRecord, ChainHead, NewRecord};
use crate::model::{GroupId, TicketRef, UserId, WorkflowId};
use crate::workflow::Wake;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A durable wake-up of one workflow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timer {
    /// The workflow to wake.
    pub workflow: WorkflowId,
    /// The timer's key within the workflow (see
    /// [`crate::workflow::PendingWake`]).
    pub key: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Why.
    pub purpose: Wake,
}

/// A workflow's index row: what finding and listing workflows needs, kept
/// in step with its records (written in the same commit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowSummary {
    /// The workflow.
    pub id: WorkflowId,
    /// Its ticket.
    pub ticket: TicketRef,
    /// The target as the request names them.
    pub target_name: String,
    /// The target's directory object id, once resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<UserId>,
    /// The resolved group's object id, once resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<GroupId>,
    /// The phase's name.
    pub phase: String,
    /// Not ended, or closing effects still pending.
    pub open: bool,
    /// Commands issued and not completed.
    pub pending: u32,
    /// Whether a command's intent is recorded without its outcome.
    pub in_flight: bool,
    /// The earliest pending wake-up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_wake: Option<DateTime<Utc>>,
    /// The last failure, for operators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Records of this workflow so far (set by the store on commit).
    pub version: u64,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// Everything one step writes, committed atomically: its records, the
/// workflow's index row and its timers. A recorded phase never exists
/// without its timers, and a stale writer cannot interleave.
#[derive(Debug, Clone, PartialEq)]
pub struct Commit {
    /// The workflow (or pseudo-workflow, e.g. `audit`) the records belong to.
    pub workflow: WorkflowId,
    /// The workflow's version (its record count) the writer read; `None`
    /// appends without the check (records outside a workflow).
    pub expected_version: Option<u64>,
    /// Records to seal onto the chain, in order.
    pub records: Vec<NewRecord>,
    /// The workflow's index row after the step (its `version` is ignored).
    pub summary: Option<WorkflowSummary>,
    /// The workflow's timers after the step (replacing all of them); `None`
    /// leaves them as they are.
    pub timers: Option<Vec<Timer>>,
}

impl Commit {
    /// Refuses the commit (a conflict) when the writer read another version
    /// of the workflow than `actual`, the store's: optimistic concurrency,
    /// checked by every store the same way.
    pub fn check_version(&self, actual: u64) -> PortResult<()> {
        match self.expected_version {
            Some(expected) if expected != actual => Err(PortError::new(
                ErrorClass::Conflict,
                format!(
                    "workflow `{}` is at version {actual}, not {expected}",
                    self.workflow
                ),
            )),
            _ => Ok(()),
        }
    }
}

/// What a commit wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Committed {
    /// The records, sealed.
    pub records: Vec<AuditRecord>,
    /// The workflow's version after the commit.
    pub version: u64,
}

/// Which workflows to list.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WorkflowFilter {
    /// Only open (or only ended) ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open: Option<bool>,
    /// Only ones in this phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// Only ones for this target (object id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<UserId>,
    /// Only ones for this group (object id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<GroupId>,
    /// Only ones whose id sorts after this (paging).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<WorkflowId>,
    /// At most this many (0: no limit).
    #[serde(default)]
    pub limit: usize,
}

impl WorkflowFilter {
    /// Whether `row` passes the filter (ignoring paging).
    pub fn matches(&self, row: &WorkflowSummary) -> bool {
        self.open.is_none_or(|o| row.open == o)
            && self.phase.as_deref().is_none_or(|p| row.phase == p)
            && self
                .target
                .as_ref()
                .is_none_or(|t| row.target.as_ref().is_some_and(|r| r.same(t)))
            && self
                .group
                .as_ref()
                .is_none_or(|g| row.group.as_ref().is_some_and(|r| r.same(g)))
            && self.after.as_ref().is_none_or(|a| row.id > *a)
    }
}

/// The audit trail, workflow index and timers.
///
/// Guarantees an implementation must give:
/// - `commit` is atomic: its records are sealed onto the one global chain
///   (consecutive `seq`, each linking to the previous hash), and its index
///   row and timers are written, all or nothing;
/// - `commit` fails with `Conflict` when `expected_version` is not the
///   workflow's current version (another writer got there first): nothing
///   is written, and the writer re-reads;
/// - records come back in order; every call costs in proportion to the
///   workflow(s) concerned, never to the length of the history;
/// - timers and index rows survive restarts.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait Store: Send + Sync {
    /// Commits one step.
    async fn commit(&self, commit: &Commit) -> PortResult<Committed>;

    /// The end of the trail, if it has any record.
    async fn head(&self) -> PortResult<Option<ChainHead>>;

    /// A workflow's records from position `from` (0 for all), in order.
    async fn records(&self, workflow: &WorkflowId, from: u64) -> PortResult<Vec<AuditRecord>>;

    /// A workflow's index row.
    async fn summary(&self, workflow: &WorkflowId) -> PortResult<Option<WorkflowSummary>>;

    /// Index rows matching `filter`, ordered by workflow id.
    async fn find(&self, filter: &WorkflowFilter) -> PortResult<Vec<WorkflowSummary>>;

    /// Up to `limit` records of the whole trail from `seq` on, in order.
    async fn trail(&self, from_seq: u64, limit: usize) -> PortResult<Vec<AuditRecord>>;

    /// Timers due at `now`, earliest first, at most `limit`.
    async fn due_timers(&self, now: DateTime<Utc>, limit: usize) -> PortResult<Vec<Timer>>;

    /// The earliest pending timer, if any (simulated time jumps to it).
    async fn next_timer(&self) -> PortResult<Option<Timer>>;
}
