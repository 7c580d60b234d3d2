//! groupgate's [`TicketSystem`](groupgate_core::ports::TicketSystem) and
//! [`ApprovalChannel`](groupgate_core::ports::ApprovalChannel) over the
//! ServiceNow Table API, and the intake of new requested items.
//! See `docs/adapters/servicenow.md`.

mod approvals;
mod client;
mod config;
mod errors;
mod identity;
mod intake;
mod query;
mod tickets;

pub use client::ServiceNowClient;
pub use config::{
    ApprovalMode, ApproverIdentity, Auth, ConfigError, ServiceNowConfig, StateCodes,
    VariableMapping,
};
pub use intake::{IntakeError, MAX_NOTIFICATION_BYTES, RitmCreated, parse_ritm_created};
pub use query::{QueryError, ritm_number, sys_id};
