//! The groupgate engine: the only code that calls the ports.
//!
//! It starts workflows from requests or tickets, executes the commands the
//! pure state machine returns (gathering facts and evaluating the policy,
//! updating tickets, asking approvers, adding, verifying and removing
//! memberships, posting notices, scheduling timers), and feeds the results
//! back. Every step is written to the hash-chained audit trail before the
//! next one: the intent before an effect, the outcome right after. A workflow
//! is rebuilt from its records at any time, so a restart neither loses nor
//! repeats work.
//!
//! See `groupgate demo` for the engine at work on the simulated world.

mod engine;
mod error;
mod execute;

pub use engine::{Engine, Ports};
pub use error::EngineError;
