//! What the state machine asks the engine to do.

use super::Verdict;
use crate::model::{GroupId, UserId};
use crate::ports::{NoticeKind, TicketState};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Why a workflow wants to be woken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Wake {
    /// A stage went unanswered: ask its alternates.
    Escalate,
    /// Approvals took too long.
    ApprovalDeadline,
    /// The change window opens.
    WindowOpens,
    /// Retry a failed effect.
    Retry,
    /// Read the membership again (propagation).
    VerifyPoll,
    /// Time-bound access ends.
    Expiry,
}

/// An effect for the engine to execute through a port.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Gather facts from the directory and evaluate the policy, then feed
    /// [`super::Event::Evaluated`] (or `Rechecked` when `recheck`).
    Evaluate {
        /// A re-check right before acting.
        recheck: bool,
    },
    /// Update the ticket.
    UpdateTicket {
        /// The new state, if it changes.
        state: Option<TicketState>,
        /// The work note.
        note: String,
    },
    /// Ask a stage's approvers.
    RequestApproval {
        /// The stage.
        stage: Arc<str>,
        /// Who to ask.
        approvers: Vec<Arc<str>>,
        /// The binding digest the answers must carry.
        binding: String,
        /// Whether these are the stage's alternates after escalation.
        escalation: bool,
    },
    /// Withdraw a stage's outstanding asks.
    CancelApprovals {
        /// The stage.
        stage: Arc<str>,
    },
    /// Record an approval decision on the ticket (when it came from another channel).
    RecordApproval {
        /// The stage.
        stage: Arc<str>,
        /// Who.
        approver: Arc<str>,
        /// What.
        verdict: Verdict,
        /// Through which channel.
        channel: String,
    },
    /// Add the member.
    AddMember {
        /// The group.
        group: GroupId,
        /// The user.
        user: UserId,
    },
    /// Read the membership back.
    CheckMembership {
        /// The group.
        group: GroupId,
        /// The user.
        user: UserId,
    },
    /// Remove the member (the membership reference only).
    RemoveMember {
        /// The group.
        group: GroupId,
        /// The user.
        user: UserId,
    },
    /// Post a notice to the chat channel.
    Notify {
        /// Success or failure.
        kind: NoticeKind,
        /// The text.
        text: String,
    },
    /// Cancel a pending timer that no longer matters (e.g. the approval
    /// deadline once every stage is approved).
    CancelWake {
        /// Which timer.
        purpose: Wake,
    },
    /// Wake the workflow at a time (a durable timer, never a sleep).
    WakeAt {
        /// When.
        at: DateTime<Utc>,
        /// Why.
        purpose: Wake,
    },
}

impl Action {
    /// A short name of the action, e.g. `add_member`.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Evaluate { .. } => "evaluate",
            Action::UpdateTicket { .. } => "update_ticket",
            Action::RequestApproval { .. } => "request_approval",
            Action::CancelApprovals { .. } => "cancel_approvals",
            Action::RecordApproval { .. } => "record_approval",
            Action::AddMember { .. } => "add_member",
            Action::CheckMembership { .. } => "check_membership",
            Action::RemoveMember { .. } => "remove_member",
            Action::Notify { .. } => "notify",
            Action::CancelWake { .. } => "cancel_wake",
            Action::WakeAt { .. } => "wake_at",
        }
    }
}

/// An action with its idempotency key: `<workflow>/<step>/<n>:<action>`.
/// Executing a command twice (after a crash, say) must have the effect of
/// executing it once; adapters use the key to make sure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Command {
    /// The idempotency key.
    pub key: String,
    /// What to do.
    pub action: Action,
}
