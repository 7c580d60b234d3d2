//! The ports: what the engine needs from the outside world, as async traits.
//!
//! Adapters (Microsoft Graph, ServiceNow, Teams/Slack, SQLite) implement
//! them; the in-memory fakes in `groupgate-sim` implement them for tests and
//! demos. Only the engine calls them. Every method reports failures as a
//! [`PortError`] whose [`ErrorClass`] tells the engine what to do: retry
//! (transient), treat as absent (not found), stop (forbidden, invalid,
//! permanent) or re-read and decide (conflict).
//!
//! With the `mocks` feature, each trait also has a generated `mockall` mock
//! (`MockIdentityProvider`, …) for unit tests of error paths.

mod approvals;
mod clock;
mod error;
mod identity;
mod store;
mod tickets;

pub use approvals::{ApprovalAsk, ApprovalChannel, AskDetails, AskReceipt, Notice, NoticeKind};
pub use clock::{Clock, SystemClock};
pub use error::{ErrorClass, PortError, PortResult};
pub use identity::{FactsQuery, IdentityProvider, WriteReceipt};
pub use store::{Commit, Committed, Store, Timer, WorkflowFilter, WorkflowSummary};
pub use tickets::{ApprovalDecision, TicketState, TicketSystem, TicketUpdate};

#[cfg(feature = "mocks")]
pub use approvals::MockApprovalChannel;
#[cfg(feature = "mocks")]
pub use clock::MockClock;
#[cfg(feature = "mocks")]
pub use identity::MockIdentityProvider;
#[cfg(feature = "mocks")]
pub use store::MockStore;
#[cfg(feature = "mocks")]
pub use tickets::MockTicketSystem;
