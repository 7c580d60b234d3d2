//! The policy: its file format, validation with located errors, and the
//! compiled, indexed form the evaluator runs on.

pub(crate) mod catalog;
pub(crate) mod compile;
mod diagnostic;
pub(crate) mod digest;
mod document;
mod duration;
mod fuzzy;
mod lint;
mod needs;
mod normalize;
pub(crate) mod parse;
mod schema;
mod window;

pub use catalog::{MatchKind, Resolution};
pub use compile::CompiledPolicy;
pub use diagnostic::{Diagnostic, Location, PolicyError, Severity};
pub use document::{
    APPROVAL_CHANNELS, ApprovalSettings, ApproverGroup, Blackout, CatalogEntry, ChangeWindow,
    GroupRule, MatchingSettings, PeopleRules, PersonRule, PolicyDocument, Require, RiskTier,
    SeparationRule, StageSpec, StandardChange, TagRule, WeeklyHours,
};
pub use duration::{DurationParseError, PolicyDuration};
pub use needs::{ApproverGroupNeed, FactNeeds};
pub use normalize::normalize;
pub use parse::PolicyFormat;
pub use schema::policy_json_schema;
pub(crate) use window::CompiledWindow;
