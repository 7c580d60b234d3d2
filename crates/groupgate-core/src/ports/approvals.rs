//! Approval channels: ServiceNow approval records, Teams and Slack cards.

use super::PortResult;
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
    /// Who is asked (UPNs or object ids).
    pub approvers: Vec<Arc<str>>,
    /// A one-line summary of what is being approved, shown to approvers.
    pub summary: String,
    /// The digest of exactly what is approved (user, group, expiry, policy);
    /// an answer must carry it back.
    pub binding: String,
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
/// authentication (e.g. Teams `from.aadObjectId`, Slack `user.id`), never
/// from the message payload.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait ApprovalChannel: Send + Sync {
    /// Asks the approvers of a stage.
    async fn ask(&self, ask: &ApprovalAsk) -> PortResult<AskReceipt>;

    /// The answers given so far for a ticket.
    async fn answers(&self, ticket: &TicketRef) -> PortResult<Vec<ApprovalAnswer>>;

    /// Withdraws the outstanding asks of a stage.
    async fn cancel(&self, ticket: &TicketRef, stage: &str) -> PortResult<()>;

    /// Posts a notice.
    async fn notify(&self, notice: &Notice) -> PortResult<()>;
}
