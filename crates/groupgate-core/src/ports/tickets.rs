//! The ticket system (ServiceNow in production).

use super::PortResult;
use crate::model::{Request, TicketRef};
use crate::workflow::Verdict;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Where a ticket stands, as groupgate moves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketState {
    /// Being worked on.
    InProgress,
    /// Waiting for approvals (or for re-approval).
    ApprovalRequired,
    /// Done: access granted (or already present, or removed as planned).
    ClosedComplete,
    /// Done without granting: denied, rejected, expired.
    ClosedIncomplete,
    /// A person must look at it: something failed and could not be rolled forward.
    ManualIntervention,
}

/// One update to a ticket: an optional state change and a work note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketUpdate {
    /// The new state, if it changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<TicketState>,
    /// The work note to append (internal, not shown to the requester).
    pub work_note: String,
    /// A unique marker for this update, so a retried update is not appended twice.
    pub idempotency_key: String,
}

/// An approval decision to record on the ticket (in ServiceNow, on the
/// approval record when the decision came from chat).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalDecision {
    /// The stage.
    pub stage: Arc<str>,
    /// Who decided, as the channel named them.
    pub approver: Arc<str>,
    /// Who decided, as a directory object id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver_id: Option<crate::model::UserId>,
    /// Approve or reject.
    pub verdict: Verdict,
    /// Through which channel.
    pub channel: String,
    /// When the approver answered.
    pub at: DateTime<Utc>,
    /// The approver's comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// A unique marker, so a retried record is written once.
    pub idempotency_key: String,
}

/// Tickets.
///
/// Guarantees: `update` is idempotent per `idempotency_key` (an
/// implementation may search for the key before appending a note); a missing
/// ticket is `NotFound`; errors are classified.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait TicketSystem: Send + Sync {
    /// Reads a ticket into a request.
    async fn read_request(&self, ticket: &TicketRef) -> PortResult<Request>;

    /// Applies an update (state and work note).
    async fn update(&self, ticket: &TicketRef, update: &TicketUpdate) -> PortResult<()>;

    /// Records an approval decision on the ticket. Idempotent per key.
    async fn record_approval(
        &self,
        ticket: &TicketRef,
        decision: &ApprovalDecision,
    ) -> PortResult<()>;
}
