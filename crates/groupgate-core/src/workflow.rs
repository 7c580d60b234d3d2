//! The workflow state machine, pure: `(workflow, event, now) → (workflow, commands)`.
//!
//! A workflow is one request's journey: evaluation at intake, approval stages,
//! waiting for the change window, a re-check right before acting (which
//! re-validates every counted approval), the add, verification, time-bound
//! access and its removal, offboarding in any phase, and every failure path
//! (a retry per command, rollback, manual intervention). The state machine
//! does no I/O: the engine feeds it events (the outcomes of the commands it
//! executed, each naming its command's idempotency key) and executes the
//! commands waiting in the workflow's outbox. Timers are part of the state.
//! An event that does not fit is a [`TransitionError`], never a silent
//! no-op. `docs/workflow.md` holds the transition table and a diagram
//! generated from [`TRANSITIONS`].

mod approval;
mod command;
mod effects;
mod event;
mod flow;
mod lifecycle;
mod machine;
mod phase;
mod retry;
mod table;

pub use approval::{ApprovalAnswer, Verdict, stage_binding};
pub use command::{Action, Command, Lane, Pending, PendingWake, Wake};
pub use event::Event;
pub use machine::{TransitionError, Workflow};
pub use phase::{
    Phase, RemovalReason, WorkflowSettings, accounts_for_membership, holds_membership,
};
pub use retry::RetryPolicy;
pub use table::{TRANSITIONS, Transition, mermaid_diagram, transition_table};
