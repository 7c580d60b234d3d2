//! The native addon behind the Node.js package `groupgate`
//! (`bindings/node`). Thin: every function converts its arguments, makes
//! one call into the Rust crates, and converts the answer back; no rule
//! lives here. See `docs/node.md` for the API.

mod chat;
mod convert;
mod decision;
mod engine;
mod errors;
mod policy;
mod ports;
mod workflow;

use napi_derive::napi;

/// The package's version.
#[napi]
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

// The free functions, named here too (napi-rs registers them for
// JavaScript; a test build of the crate sees no other use).
pub use chat::verify_slack_request;
pub use policy::lint_policy_text;
