//! The domain model: who asks, for whom, for what, and what the directory says.
//!
//! Every type here is plain data: `serde`-friendly, `Send + Sync`, free of
//! generics, so it crosses into Python and JavaScript unchanged.

mod facts;
mod group;
mod ids;
mod request;
mod user;

pub use facts::{Facts, GroupMembers, MembershipState};
pub use group::{Group, GroupKind};
pub use ids::{GroupId, TicketRef, UserId, WorkflowId, is_object_id};
pub use request::{EndDate, Request, Suggestion};
pub use user::{User, UserType};
