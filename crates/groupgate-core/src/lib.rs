#![doc = include_str!("../README.md")]

pub mod audit;
mod directory;
pub mod endpoint;
mod evaluate;
mod expectation;
pub mod input;
mod model;
pub mod policy;
mod policy_check;
pub mod ports;
mod secret;
pub mod suite;
pub mod workflow;

pub use directory::{DirectoryGroup, DirectorySnapshot, DirectoryUser};
pub use evaluate::{
    ApprovalStage, Approver, CatalogSuggestion, Decision, DetailValue, Details, Effect, Expiry,
    GroupInfo, Outcome, Reason, ReasonCode, ResolvedGroup,
};
pub use expectation::Expectation;
pub use model::{
    EndDate, Facts, Group, GroupId, GroupKind, GroupMembers, MembershipState, Request, Suggestion,
    TicketRef, User, UserId, UserType, WorkflowId, is_object_id,
};
pub use policy::{
    ApproverGroupNeed, CompiledPolicy, Diagnostic, FactNeeds, Location, MatchKind, PolicyDocument,
    PolicyDuration, PolicyError, PolicyFormat, Resolution, Severity, normalize, policy_json_schema,
};
pub use policy_check::{evaluate_with_snapshot, lint_policy_text};
pub use secret::Secret;
