//! Durable storage of workflow events and timers.

use super::PortResult;
use crate::model::WorkflowId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One stored event of a workflow, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    /// The workflow.
    pub workflow: WorkflowId,
    /// Position in the workflow's history, from 0.
    pub sequence: u64,
    /// The event as JSON (a `workflow::Event` or an engine record).
    pub body: serde_json::Value,
}

/// A durable wake-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timer {
    /// The workflow to wake.
    pub workflow: WorkflowId,
    /// When.
    pub at: DateTime<Utc>,
    /// Why (the wake's purpose, for the state machine).
    pub purpose: String,
}

/// Workflow events and timers.
///
/// Guarantees: `append` is atomic and fails with `Conflict` when
/// `expected_sequence` is not the workflow's next position (another writer
/// got there first); events are returned in order; timers survive restarts
/// and are neither lost nor fired twice once `complete_timer` returned.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait Store: Send + Sync {
    /// Appends events at `expected_sequence` and after.
    async fn append(
        &self,
        workflow: &WorkflowId,
        expected_sequence: u64,
        events: &[serde_json::Value],
    ) -> PortResult<()>;

    /// A workflow's events, in order.
    async fn load(&self, workflow: &WorkflowId) -> PortResult<Vec<StoredEvent>>;

    /// Every workflow id, in creation order.
    async fn workflows(&self) -> PortResult<Vec<WorkflowId>>;

    /// Schedules a timer (replacing one with the same workflow and purpose).
    async fn schedule(&self, timer: &Timer) -> PortResult<()>;

    /// Timers due at `now`, earliest first.
    async fn due_timers(&self, now: DateTime<Utc>) -> PortResult<Vec<Timer>>;

    /// Marks a timer as handled.
    async fn complete_timer(&self, timer: &Timer) -> PortResult<()>;

    /// The earliest pending timer, if any (for simulated time to jump to).
    async fn next_timer(&self) -> PortResult<Option<Timer>>;
}
