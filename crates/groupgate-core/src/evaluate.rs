//! The pure evaluator: `(compiled policy, request, facts, now) → Decision`.
//!
//! No I/O, no clock, no randomness: the same inputs always give the same
//! decision, byte for byte once serialised.

mod decision;
mod evaluator;
mod reason;
mod stages;

pub use decision::{
    ApprovalStage, Approver, CatalogSuggestion, Decision, Expiry, GroupInfo, Outcome, ResolvedGroup,
};
pub(crate) use evaluator::evaluate;
pub use reason::{DetailValue, Details, Effect, Reason, ReasonCode};
