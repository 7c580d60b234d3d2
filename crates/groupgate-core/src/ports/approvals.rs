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
    /// Where the stage is asked (`servicenow`, `teams`, `slack`), as the
    /// policy says; empty: every channel. A channel composed of several
    /// asks only those named.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<String>,
    /// What approvers are shown beside the summary (chat cards show it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<AskDetails>,
}

/// What an approver is shown: who asks what for whom, on which group, until
/// when, why this stage, and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AskDetails {
    /// The requester, as the request names them.
    pub requester: String,
    /// Who is to get the access, as the request names them.
    pub target: String,
    /// The group's key in the policy.
    pub group: String,
    /// The group's display name, when the policy gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
    /// The group's directory object id.
    pub group_object_id: String,
    /// Its risk tier (`low`, `medium`, `high`).
    pub risk: String,
    /// Its tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The requested end date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<chrono::DateTime<chrono::Utc>>,
    /// The policy's cap on the access, in seconds from the grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_duration_seconds: Option<i64>,
    /// Why access is needed, as the requester wrote it.
    #[serde(default)]
    pub justification: String,
    /// The decision's reasons, in words.
    #[serde(default)]
    pub reasons: Vec<String>,
    /// This stage's position, from 0.
    pub stage_index: usize,
    /// How many stages there are.
    pub stage_count: usize,
    /// How many of the approvers must approve.
    pub required: u32,
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
    /// The requester, who is told the outcome (channels that reach people
    /// directly, such as chat, send it to them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester: Option<crate::evaluate::Approver>,
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
