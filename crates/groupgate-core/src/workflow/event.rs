//! What the engine feeds the state machine: the outcomes of its commands,
//! answers from approvers, timers, and requests such as offboarding.

use super::{ApprovalAnswer, Command, Wake};
use crate::evaluate::Decision;
use crate::model::{Facts, MembershipState};
use crate::ports::{PortError, WriteReceipt};
use serde::{Deserialize, Serialize};

/// An input to a workflow. Outcome events name the command they complete by
/// its idempotency key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The intake evaluation: facts gathered, policy evaluated. Facts and
    /// decision are both recorded, so the decision can be replayed.
    Evaluated {
        /// The `evaluate` command.
        key: String,
        /// The facts gathered from the directory.
        facts: Box<Facts>,
        /// The decision.
        decision: Box<Decision>,
    },
    /// The re-check right before acting.
    Rechecked {
        /// The `evaluate` command.
        key: String,
        /// The fresh facts.
        facts: Box<Facts>,
        /// The fresh decision.
        decision: Box<Decision>,
    },
    /// An approver answered.
    Answered {
        /// The answer.
        answer: ApprovalAnswer,
    },
    /// A timer fired.
    Woke {
        /// The timer's key (see [`super::PendingWake`]).
        key: String,
        /// Why it was set.
        purpose: Wake,
    },
    /// The add succeeded (or the user already was a member).
    MemberAdded {
        /// The `add_member` command.
        key: String,
        /// The receipt.
        receipt: WriteReceipt,
    },
    /// The membership as read back.
    MembershipObserved {
        /// The `check_membership` command.
        key: String,
        /// What the directory says.
        state: MembershipState,
    },
    /// The removal succeeded (or the user already was not a member).
    MemberRemoved {
        /// The `remove_member` command.
        key: String,
        /// The receipt.
        receipt: WriteReceipt,
    },
    /// A side effect (ticket update, ask, notice, …) succeeded.
    EffectDone {
        /// The command.
        key: String,
        /// What the engine wants on record about it (e.g. the anchor written).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<serde_json::Value>,
    },
    /// A command failed.
    EffectFailed {
        /// The command that failed.
        command: Command,
        /// Why.
        error: PortError,
        /// A random number in `[0, 1)` drawn by the engine for backoff jitter.
        jitter: f64,
    },
    /// The engine is about to execute a command (its intent, recorded before
    /// the effect, with the command in full so the trail shows what was
    /// about to be done).
    Issuing {
        /// The command, as it waits in the outbox.
        command: Command,
    },
    /// A command's intent was recorded but its outcome never was (the process
    /// died in between). For membership writes the engine read the
    /// membership first: `observed` is what the directory says now.
    Interrupted {
        /// The command.
        key: String,
        /// The membership read after the interruption (adds and removals).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        observed: Option<MembershipState>,
        /// Backoff jitter, as for a failure.
        jitter: f64,
    },
    /// The target is being offboarded: end the request, remove the access.
    Offboard,
}

impl Event {
    /// A short name of the event, e.g. `answered`.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Evaluated { .. } => "evaluated",
            Event::Rechecked { .. } => "rechecked",
            Event::Answered { .. } => "answered",
            Event::Woke { .. } => "woke",
            Event::MemberAdded { .. } => "member_added",
            Event::MembershipObserved { .. } => "membership_observed",
            Event::MemberRemoved { .. } => "member_removed",
            Event::EffectDone { .. } => "effect_done",
            Event::EffectFailed { .. } => "effect_failed",
            Event::Issuing { .. } => "issuing",
            Event::Interrupted { .. } => "interrupted",
            Event::Offboard => "offboard",
        }
    }

    /// The key of the command whose outcome drives the phase, for the events
    /// that carry one.
    pub fn outcome_key(&self) -> Option<&str> {
        match self {
            Event::Evaluated { key, .. }
            | Event::Rechecked { key, .. }
            | Event::MemberAdded { key, .. }
            | Event::MembershipObserved { key, .. }
            | Event::MemberRemoved { key, .. } => Some(key),
            _ => None,
        }
    }
}
