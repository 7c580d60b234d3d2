//! The engine's errors.

use groupgate_core::WorkflowId;
use groupgate_core::ports::PortError;

/// Why the engine could not go on. Failures of effects (Graph, ServiceNow,
/// chat) are not errors here: they are events the workflow handles.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EngineError {
    /// The store failed. Nothing after the last committed step was done: the
    /// step in hand is resumed on the next call (an effect whose intent was
    /// committed and whose outcome was not is resolved by asking the world).
    #[error("the store failed: {0}")]
    Store(PortError),
    /// Another writer changed the workflow between this engine's read and
    /// its write; nothing was written. Re-read and carry on.
    #[error("workflow `{0}` was changed by another writer; re-read it and try again")]
    Conflict(WorkflowId),
    /// A ticket could not be read at intake.
    #[error("cannot read ticket `{ticket}`: {error}")]
    Intake {
        /// The ticket.
        ticket: String,
        /// Why.
        error: PortError,
    },
    /// The approval channel refused to list answers (not a passing failure).
    #[error("the approval channel failed: {0}")]
    Approvals(PortError),
    /// The directory could not be asked (offboarding needs it).
    #[error("the directory failed: {0}")]
    Directory(PortError),
    /// No workflow has this id.
    #[error("no workflow `{0}`")]
    UnknownWorkflow(WorkflowId),
    /// The directory has no such user (by UPN or object id).
    #[error("the directory has no user `{0}`; name them by object id if the account was deleted")]
    UnknownUser(String),
    /// A workflow's records do not replay.
    #[error("workflow `{workflow}` cannot be rebuilt from its records: {reason}")]
    Corrupt {
        /// The workflow.
        workflow: WorkflowId,
        /// Why.
        reason: String,
    },
}

impl EngineError {
    pub(crate) fn store(error: PortError) -> Self {
        EngineError::Store(error)
    }
}
