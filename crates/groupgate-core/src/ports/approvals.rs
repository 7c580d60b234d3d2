//! Approval channels: ServiceNow approval records, Teams and Slack cards.

use super::PortResult;
use crate::evaluate::Approver;
use crate::model::TicketRef;
use crate::workflow::ApprovalAnswer;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A request for decisions on one stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalAsk {
    /// The ticket.
    pub ticket: TicketRef,
    /// The stage's name.
    pub stage: Arc<str>,
    /// Who is asked, by directory object id and user principal name.
    pub approvers: Vec<Approver>,
    /// A one-line summary of what is being approved, shown to approvers.
    pub summary: String,
    /// The digest of exactly what is approved (ticket, user, group, expiry,
    /// approver plan, policy); an answer must carry it back.
    pub binding: String,
    /// Whether these are the stage's alternates after escalation.
    #[serde(default)]
    pub escalation: bool,
    /// When unanswered asks expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<chrono::DateTime<chrono::Utc>>,
    /// A unique marker, so a retried ask does not ask twice.
    pub idempotency_key: String,
}

/// What asking returned.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AskReceipt {
    /// The channel's references for the asks (approval record ids, message ids).
    pub references: Vec<String>,
}

/// What a notice is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// Access was granted or removed as planned.
    Success,
    /// Something failed and people should look.
    Failure,
    /// For information: the request ended without a change (e.g. it was
    /// cancelled because the target was offboarded).
    Info,
}

/// A message to the chat channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// The ticket.
    pub ticket: TicketRef,
    /// Success or failure.
    pub kind: NoticeKind,
    /// The text.
    pub text: String,
    /// A unique marker, so a retried notice is posted once.
    pub idempotency_key: String,
}

/// A way to ask people for approval decisions.
///
/// Guarantees: `ask` is idempotent per `idempotency_key`; `answers` returns
/// every answer given since `ask` (the engine ignores ones it has seen);
/// `cancel` withdraws outstanding asks of a stage and succeeds when there are
/// none. The approver identity in an answer comes from the channel's own
/// authentication (e.g. Teams `from.aadObjectId`, Slack `user.id`, the
/// ServiceNow approval record's bound approver), never from the message
/// payload; the engine maps it to a directory object id (unless the channel
/// already gives one) and only that id is ever counted.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait ApprovalChannel: Send + Sync {
    /// Asks the approvers of a stage.
    async fn ask(&self, ask: &ApprovalAsk) -> PortResult<AskReceipt>;

    /// The answers given so far for a ticket.
    async fn answers(&self, ticket: &TicketRef) -> PortResult<Vec<ApprovalAnswer>>;

    /// Withdraws the outstanding asks of a stage; `reason` says why (for the
    /// people still holding one, e.g. `rejected by …`).
    async fn cancel(&self, ticket: &TicketRef, stage: &str, reason: &str) -> PortResult<()>;

    /// Posts a notice.
    async fn notify(&self, notice: &Notice) -> PortResult<()>;
}
