//! What a pass over many workflows, or an offboarding, did.

use groupgate_core::{GroupId, UserId, WorkflowId};
use serde::Serialize;

/// One workflow a pass could not step; the pass went on with the others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PassFailure {
    /// The workflow.
    pub workflow: WorkflowId,
    /// What went wrong.
    pub error: String,
}

/// What a pass (due timers, answers, recovery) did.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct PassReport {
    /// Workflows stepped.
    pub stepped: Vec<WorkflowId>,
    /// Timers fired.
    pub fired: usize,
    /// Workflows that failed, each recorded in the audit trail.
    pub failures: Vec<PassFailure>,
}

impl PassReport {
    pub(crate) fn merge(&mut self, other: PassReport) {
        self.stepped.extend(other.stepped);
        self.fired += other.fired;
        self.failures.extend(other.failures);
    }
}

/// A membership offboarding removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Removal {
    /// The group.
    pub group: GroupId,
    /// The workflow that granted it (none for drift).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow: Option<WorkflowId>,
    /// The directory already showed it gone.
    pub already: bool,
}

/// A removal offboarding could not make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedRemoval {
    /// The group.
    pub group: GroupId,
    /// The workflow, if one granted it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow: Option<WorkflowId>,
    /// Why.
    pub error: String,
}

/// What an offboarding did.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct OffboardReport {
    /// The user, by object id.
    pub user: Option<UserId>,
    /// Memberships removed that workflows granted.
    pub removed: Vec<Removal>,
    /// Memberships of governed groups no workflow accounts for (added
    /// outside groupgate), removed and reported as drift.
    pub drift: Vec<Removal>,
    /// Requests ended before anything was granted (tickets and approvers told).
    pub cancelled: Vec<WorkflowId>,
    /// Workflows whose membership was already being removed, or will be as
    /// soon as an add in flight settles.
    pub in_progress: Vec<WorkflowId>,
    /// Removals that failed (the workflows retry or ask for a person).
    pub failed: Vec<FailedRemoval>,
    /// Workflows that failed to step (recorded in the audit trail).
    pub failures: Vec<crate::PassFailure>,
    /// What could not be done this time and why (offboarding again does it).
    pub incomplete: Vec<String>,
}

impl OffboardReport {
    /// Whether everything was done: nothing failed, nothing left undone.
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty() && self.failures.is_empty() && self.incomplete.is_empty()
    }
}
