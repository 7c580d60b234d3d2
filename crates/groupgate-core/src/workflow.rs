//! The workflow state machine, pure: `(workflow, event, now) → (workflow, commands)`.
//!
//! A workflow is one request's journey: evaluation at intake, approval stages,
//! waiting for the change window, a re-check right before acting, the add,
//! verification, time-bound access and its removal, and every failure path
//! (retries, rollback, manual intervention). The state machine does no I/O:
//! the engine feeds it events (results of the commands it executed) and
//! executes the commands it returns, each with an idempotency key. An event
//! that does not fit the current phase is a [`TransitionError`], never a
//! silent no-op. `docs/workflow.md` holds the transition table and a diagram
//! generated from [`TRANSITIONS`].

mod approval;
mod command;
mod event;
mod machine;
mod retry;
mod table;

pub use approval::{ApprovalAnswer, Verdict, approval_binding};
pub use command::{Action, Command, Wake};
pub use event::Event;
pub use machine::{Phase, RemovalReason, TransitionError, Workflow, WorkflowSettings};
pub use retry::RetryPolicy;
pub use table::{TRANSITIONS, Transition, mermaid_diagram, transition_table};
