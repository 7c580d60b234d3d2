//! Durable storage of the audit trail (which is also the workflows' event
//! log) and of timers.

use super::PortResult;
use crate::audit::AuditRecord;
use crate::model::WorkflowId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A durable wake-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timer {
    /// The workflow to wake.
    pub workflow: WorkflowId,
    /// When.
    pub at: DateTime<Utc>,
    /// Why (a `workflow::Wake`, as its JSON name).
    pub purpose: String,
}

/// The audit trail and timers.
///
/// Guarantees: `append` is atomic and fails with `Conflict` unless the new
/// record's `seq` is the trail's next position and its `prev_hash` is the
/// last record's hash (another writer got there first); records are returned
/// in order; timers survive restarts, and a completed timer never fires again.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait Store: Send + Sync {
    /// Appends one sealed record at the end of the trail.
    async fn append(&self, record: &AuditRecord) -> PortResult<()>;

    /// The last record of the trail, if any.
    async fn last(&self) -> PortResult<Option<AuditRecord>>;

    /// A workflow's records, in order.
    async fn records(&self, workflow: &WorkflowId) -> PortResult<Vec<AuditRecord>>;

    /// The whole trail, in order.
    async fn all_records(&self) -> PortResult<Vec<AuditRecord>>;

    /// Every workflow id, in the order they started.
    async fn workflows(&self) -> PortResult<Vec<WorkflowId>>;

    /// Schedules a timer (replacing one with the same workflow and purpose).
    async fn schedule(&self, timer: &Timer) -> PortResult<()>;

    /// Cancels a workflow's pending timer of `purpose`, if any.
    async fn cancel_timer(&self, workflow: &WorkflowId, purpose: &str) -> PortResult<()>;

    /// Timers due at `now`, earliest first.
    async fn due_timers(&self, now: DateTime<Utc>) -> PortResult<Vec<Timer>>;

    /// Marks a timer as handled.
    async fn complete_timer(&self, timer: &Timer) -> PortResult<()>;

    /// The earliest pending timer, if any (simulated time jumps to it).
    async fn next_timer(&self) -> PortResult<Option<Timer>>;
}
