//! Where a workflow stands, and the tunables recorded with it.

use super::RetryPolicy;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Why access is being removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RemovalReason {
    /// The end date (or maximum duration) passed.
    Expired,
    /// The target was offboarded.
    Offboarded,
}

/// Where a workflow stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    /// Recorded; waiting for the intake evaluation.
    Received,
    /// Waiting for the approvals of stage `stage` (0-based).
    AwaitingApproval {
        /// The open stage.
        stage: usize,
        /// Whether the stage's alternates have been asked.
        escalated: bool,
    },
    /// Approved; waiting for the change window.
    Scheduled {
        /// When the window opens.
        at: DateTime<Utc>,
    },
    /// Re-gathering facts and re-evaluating right before acting.
    Rechecking,
    /// Adding the member.
    Executing,
    /// An add attempt failed transiently: waiting to re-check and try again.
    AwaitingRetry {
        /// When the re-check runs.
        at: DateTime<Utc>,
    },
    /// Reading the membership back until it shows.
    Verifying {
        /// Give up (and roll back) after this.
        deadline: DateTime<Utc>,
    },
    /// Granted, time-bound.
    Active {
        /// When access ends.
        expires_at: DateTime<Utc>,
    },
    /// Granted without an end.
    Completed,
    /// Removing granted access.
    Removing {
        /// Why.
        reason: RemovalReason,
        /// Until when to wait for the removal to show; set once removed.
        verify_until: Option<DateTime<Utc>>,
    },
    /// Undoing an add after a later step failed.
    RollingBack {
        /// Until when to wait for the removal to show; set once removed.
        verify_until: Option<DateTime<Utc>>,
    },
    /// Ended: denied by policy (at intake or at the re-check).
    Denied,
    /// Ended: nothing to do, the access was already there.
    NoOp,
    /// Ended: an approver rejected.
    Rejected,
    /// Ended: approvals did not arrive in time.
    ApprovalExpired,
    /// Ended: the target was offboarded before access was granted.
    Cancelled,
    /// Ended: the add failed and nothing was changed.
    Failed,
    /// Ended: the add was undone after a later failure.
    RolledBack,
    /// Ended: a person must look (the ticket says why).
    ManualIntervention,
    /// Ended: access was removed (expiry or offboarding).
    Removed,
}

/// Whether a workflow in the phase named `phase` accounts for its
/// membership in the directory: it holds it, is adding or removing it, or
/// found it already there (what the drift report does not call drift).
pub fn accounts_for_membership(phase: &str) -> bool {
    matches!(
        phase,
        "executing"
            | "awaiting_retry"
            | "verifying"
            | "active"
            | "completed"
            | "removing"
            | "rolling_back"
            | "manual_intervention"
            | "no_op"
    )
}

/// Whether the membership of a workflow in the phase named `phase` should
/// be in the directory now (granted, and not being removed).
pub fn holds_membership(phase: &str) -> bool {
    matches!(phase, "active" | "completed")
}

impl Phase {
    /// The phase's name, e.g. `awaiting_approval`.
    pub fn name(&self) -> &'static str {
        match self {
            Phase::Received => "received",
            Phase::AwaitingApproval { .. } => "awaiting_approval",
            Phase::Scheduled { .. } => "scheduled",
            Phase::Rechecking => "rechecking",
            Phase::Executing => "executing",
            Phase::AwaitingRetry { .. } => "awaiting_retry",
            Phase::Verifying { .. } => "verifying",
            Phase::Active { .. } => "active",
            Phase::Completed => "completed",
            Phase::Removing { .. } => "removing",
            Phase::RollingBack { .. } => "rolling_back",
            Phase::Denied => "denied",
            Phase::NoOp => "no_op",
            Phase::Rejected => "rejected",
            Phase::ApprovalExpired => "approval_expired",
            Phase::Cancelled => "cancelled",
            Phase::Failed => "failed",
            Phase::RolledBack => "rolled_back",
            Phase::ManualIntervention => "manual_intervention",
            Phase::Removed => "removed",
        }
    }

    /// Whether the workflow has ended (only its closing effects may still run).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Phase::Denied
                | Phase::NoOp
                | Phase::Rejected
                | Phase::ApprovalExpired
                | Phase::Cancelled
                | Phase::Failed
                | Phase::RolledBack
                | Phase::ManualIntervention
                | Phase::Removed
        )
    }

    /// Whether the target holds (or may hold) the membership in this phase:
    /// what offboarding and drift reports look for.
    pub fn may_hold_membership(&self) -> bool {
        matches!(
            self,
            Phase::Executing
                | Phase::AwaitingRetry { .. }
                | Phase::Verifying { .. }
                | Phase::Active { .. }
                | Phase::Completed
                | Phase::Removing { .. }
                | Phase::RollingBack { .. }
        )
    }
}

/// Tunables of the state machine. They are recorded in each workflow's start
/// record and replayed from there: changing the engine's settings never
/// changes (or breaks) how an older workflow reads back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowSettings {
    /// Retries of transient failures.
    pub retry: RetryPolicy,
    /// How long an add (or removal) may take to become visible.
    pub verify_timeout_seconds: u64,
    /// How often to read it back meanwhile.
    pub verify_poll_seconds: u64,
    /// How long a workflow that waits on the outside world (an effect in
    /// flight, an unexecuted effect) may go without being looked at.
    #[serde(default = "default_watchdog")]
    pub watchdog_seconds: u64,
}

fn default_watchdog() -> u64 {
    900
}

impl Default for WorkflowSettings {
    fn default() -> Self {
        Self {
            retry: RetryPolicy::default(),
            verify_timeout_seconds: 300,
            verify_poll_seconds: 10,
            watchdog_seconds: default_watchdog(),
        }
    }
}
