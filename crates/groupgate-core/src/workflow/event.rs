//! What the engine feeds the state machine: the results of its commands,
//! answers from approvers, timers, and requests such as offboarding.

use super::{ApprovalAnswer, Command, Wake};
use crate::evaluate::Decision;
use crate::model::{MembershipState, UserId};
use crate::ports::{PortError, WriteReceipt};
use serde::{Deserialize, Serialize};

/// An input to a workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The intake evaluation: facts gathered, policy evaluated.
    Evaluated {
        /// The decision.
        decision: Box<Decision>,
        /// The target's object id, from the facts.
        target: Option<UserId>,
    },
    /// An approver answered.
    Answered {
        /// The answer.
        answer: ApprovalAnswer,
    },
    /// A timer fired.
    Woke {
        /// Why it was set.
        purpose: Wake,
    },
    /// The re-check right before acting.
    Rechecked {
        /// The fresh decision.
        decision: Box<Decision>,
        /// The target's object id, from the fresh facts.
        target: Option<UserId>,
    },
    /// The add succeeded (or the user already was a member).
    MemberAdded {
        /// The receipt.
        receipt: WriteReceipt,
    },
    /// The membership as read back.
    MembershipObserved {
        /// What the directory says.
        state: MembershipState,
    },
    /// The removal succeeded (or the user already was not a member).
    MemberRemoved {
        /// The receipt.
        receipt: WriteReceipt,
    },
    /// The target is being offboarded: remove the access now.
    Offboard,
    /// A command failed.
    EffectFailed {
        /// The command that failed.
        command: Command,
        /// Why.
        error: PortError,
        /// A random number in `[0, 1)` drawn by the engine for backoff jitter.
        jitter: f64,
    },
}

impl Event {
    /// A short name of the event, e.g. `answered`.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Evaluated { .. } => "evaluated",
            Event::Answered { .. } => "answered",
            Event::Woke { .. } => "woke",
            Event::Rechecked { .. } => "rechecked",
            Event::MemberAdded { .. } => "member_added",
            Event::MembershipObserved { .. } => "membership_observed",
            Event::MemberRemoved { .. } => "member_removed",
            Event::Offboard => "offboard",
            Event::EffectFailed { .. } => "effect_failed",
        }
    }
}
