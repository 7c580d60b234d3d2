//! The groupgate engine: the only code that calls the ports.
//!
//! It starts workflows from requests or tickets, executes the commands the
//! pure state machine leaves in each workflow's outbox (gathering facts and
//! evaluating the policy, updating tickets, asking approvers, adding,
//! verifying and removing memberships, posting notices), and feeds their
//! outcomes back. Every step is committed to the store before the next one
//! — its audit records (the intent before an effect, the outcome right
//! after), the workflow's index row and its timers together — so a crash
//! loses nothing: an effect left in flight is resolved by asking the world
//! the next time the workflow is taken up ([`Engine::recover`] at start-up,
//! a watchdog timer otherwise).
//!
//! See `groupgate demo` for the engine at work on the simulated world.

mod answers;
mod cache;
mod channels;
mod crash;
mod drift;
mod drive;
mod engine;
mod error;
mod execute;
mod facts;
mod locks;
mod members;
pub mod metrics;
mod offboard;
mod passes;
mod report;
mod state;
mod stop;

pub use answers::AnswerOutcome;
pub use channels::Channels;
pub use drift::{DriftReport, GroupDrift, UnaccountedMember};
pub use engine::{Engine, Ports};
pub use error::EngineError;
pub use execute::anchor_marker;
pub use report::{FailedRemoval, OffboardReport, PassFailure, PassReport, Removal};
pub use stop::StopSignal;
