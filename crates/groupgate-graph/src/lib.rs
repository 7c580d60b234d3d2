//! groupgate's [`IdentityProvider`](groupgate_core::ports::IdentityProvider)
//! over Microsoft Graph v1.0: users, managers, groups and memberships, with
//! OAuth 2.0 client credentials, errors classified for the engine, and JSON
//! batching for bulk changes.
//!
//! Least privilege: the application permissions `User.Read.All` and
//! `GroupMember.ReadWrite.All` suffice. groupgate never asks for
//! `RoleManagement.ReadWrite.Directory`, so Graph itself refuses changes to
//! role-assignable groups even if every other guard failed.
//! See `docs/adapters/graph.md`.

mod client;
mod config;
mod delta;
mod errors;
mod facts;
mod members;
mod paths;
mod token;

pub use client::GraphClient;
pub use config::{ConfigError, GraphConfig};
pub use delta::{UserChange, UsersDelta};
pub use groupgate_core::Secret;
