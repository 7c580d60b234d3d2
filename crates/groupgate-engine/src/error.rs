//! The engine's errors.

use groupgate_core::WorkflowId;
use groupgate_core::ports::PortError;

/// Why the engine could not go on. Failures of effects (Graph, ServiceNow,
/// chat) are not errors here: they are events the workflow handles.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The store failed; nothing after the last recorded step was done.
    #[error("the store failed: {0}")]
    Store(PortError),
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
    /// No workflow has this id.
    #[error("no workflow `{0}`")]
    UnknownWorkflow(WorkflowId),
    /// A workflow's records do not replay.
    #[error("workflow `{workflow}` cannot be rebuilt from its records: {reason}")]
    Corrupt {
        /// The workflow.
        workflow: WorkflowId,
        /// Why.
        reason: String,
    },
}
