//! What the state machine asks the engine to do, and the timers it keeps.

use super::Verdict;
use crate::evaluate::Approver;
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
    /// Retry a failed effect (or, for the add, re-check and try again).
    Retry,
    /// Read the membership again (propagation).
    VerifyPoll,
    /// Time-bound access ends.
    Expiry,
    /// Nothing else will wake a workflow that waits on the outside world: the
    /// engine looks at it again (resolving an effect a crash interrupted).
    Watchdog,
}

impl Wake {
    /// The purpose's name, e.g. `approval_deadline`.
    pub fn name(self) -> &'static str {
        match self {
            Wake::Escalate => "escalate",
            Wake::ApprovalDeadline => "approval_deadline",
            Wake::WindowOpens => "window_opens",
            Wake::Retry => "retry",
            Wake::VerifyPoll => "verify_poll",
            Wake::Expiry => "expiry",
            Wake::Watchdog => "watchdog",
        }
    }
}

/// A pending wake-up, part of the workflow's state: the store's timer index
/// is written from these in the same transaction as the step, so a phase is
/// never recorded without its timer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingWake {
    /// Unique within the workflow: the purpose's name, or `retry:<command
    /// key>` for one command's retry, so two retries never replace each other.
    pub key: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Why.
    pub purpose: Wake,
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
        /// Append the audit trail's head (sequence number and hash) to the
        /// note, so the trail is anchored outside the store.
        #[serde(default)]
        anchor: bool,
    },
    /// Ask a stage's approvers.
    RequestApproval {
        /// The stage.
        stage: Arc<str>,
        /// Who to ask, by directory object id and name.
        approvers: Vec<Approver>,
        /// The binding digest the answers must carry.
        binding: String,
        /// Whether these are the stage's alternates after escalation.
        escalation: bool,
        /// When unanswered asks expire.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deadline: Option<DateTime<Utc>>,
    },
    /// Withdraw a stage's outstanding asks.
    CancelApprovals {
        /// The stage.
        stage: Arc<str>,
        /// Why, for the people still holding an ask (e.g. `rejected`).
        #[serde(default)]
        reason: String,
    },
    /// Record an approval decision on the ticket (when it came from another
    /// channel, it is written back to the ticket's approval record).
    RecordApproval {
        /// The stage.
        stage: Arc<str>,
        /// Who, as the channel named them.
        approver: Arc<str>,
        /// Who, as a directory object id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        approver_id: Option<UserId>,
        /// What.
        verdict: Verdict,
        /// Through which channel.
        channel: String,
        /// When the approver answered.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<DateTime<Utc>>,
        /// The approver's comment.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
    },
    /// Add the member.
    AddMember {
        /// The group.
        group: GroupId,
        /// The user.
        user: UserId,
    },
    /// Read the (direct) membership back.
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
        /// Success, failure or information.
        kind: NoticeKind,
        /// The text.
        text: String,
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
        }
    }

    /// Which commands it keeps its order with: ticket updates and approval
    /// records among themselves (the ticket reads in the order things
    /// happened), asks and notices among themselves; the membership writes
    /// and reads that drive the phase stand alone.
    pub fn lane(&self) -> Lane {
        match self {
            Action::UpdateTicket { .. } | Action::RecordApproval { .. } => Lane::Ticket,
            Action::RequestApproval { .. }
            | Action::CancelApprovals { .. }
            | Action::Notify { .. } => Lane::Channel,
            Action::Evaluate { .. }
            | Action::AddMember { .. }
            | Action::CheckMembership { .. }
            | Action::RemoveMember { .. } => Lane::Directory,
        }
    }

    /// Whether the action only reads (facts, a membership): re-running it is
    /// harmless, so the engine records no intent before it.
    pub fn is_read(&self) -> bool {
        matches!(
            self,
            Action::Evaluate { .. } | Action::CheckMembership { .. }
        )
    }
}

/// Commands of one lane execute in the order they were issued: a later one
/// waits while an earlier one is pending (retrying, say).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lane {
    /// The ticket: updates and approval records.
    Ticket,
    /// The approval channel: asks, cancellations and notices.
    Channel,
    /// The directory: evaluations, membership writes and read-backs.
    Directory,
}

/// An action with its idempotency key: `<workflow>/<step>/<n>:<action>`.
/// Executing a command twice (after a crash, say) must have the effect of
/// executing it once; adapters use the key to make sure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Command {
    /// The idempotency key.
    pub key: String,
    /// The step that issued it.
    #[serde(default)]
    pub step: u64,
    /// What to do.
    pub action: Action,
}

/// A command waiting in the workflow's outbox: issued by a step, not yet
/// completed. Each keeps its own retry count, so one failing effect never
/// uses up (or replaces) another's retries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    /// The command.
    pub command: Command,
    /// The engine recorded its intent and has not recorded its outcome: after
    /// a crash, the world is asked what happened.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub in_flight: bool,
    /// Failed attempts so far.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub attempts: u32,
    /// When it first failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<DateTime<Utc>>,
    /// Not before this time: it waits for its retry timer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<DateTime<Utc>>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Pending {
    pub(crate) fn new(command: Command) -> Self {
        Self {
            command,
            in_flight: false,
            attempts: 0,
            failing_since: None,
            retry_at: None,
        }
    }

    /// Whether the engine may execute it at `now`.
    pub fn is_ready(&self, now: DateTime<Utc>) -> bool {
        !self.in_flight && self.retry_at.is_none_or(|at| at <= now)
    }
}
