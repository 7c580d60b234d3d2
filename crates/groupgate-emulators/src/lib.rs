//! Loopback HTTP emulators of the Microsoft Graph, ServiceNow, Slack and
//! Teams (Bot Framework) subsets
//! groupgate uses, bound to 127.0.0.1 on an ephemeral port, with scripted and
//! seeded faults: for integration tests, the demo and `groupgate sim`. Test
//! support, not product.
//!
//! ```
//! use groupgate_emulators::{GraphEmulator, GraphEmulatorOptions};
//! use groupgate_sim::SimClock;
//! use std::sync::Arc;
//! # let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
//! # rt.block_on(async {
//! let clock = SimClock::at("2026-11-25T10:00:00Z".parse().unwrap());
//! let emu = GraphEmulator::start("127.0.0.1:0", Default::default(),
//!     GraphEmulatorOptions::default(), Arc::new(clock)).await.unwrap();
//! assert!(emu.base_url().starts_with("http://127.0.0.1:"));
//! # });
//! ```

mod disruption;
mod graph;
mod servicenow;
mod slack;
mod teams;
mod tenant;

pub use graph::{GraphEmulator, GraphEmulatorOptions};
pub use servicenow::{SnowData, SnowEmulator, SnowEmulatorOptions, SnowRitm, SnowUser};
pub use slack::{
    SlackEmuUser, SlackEmulator, SlackEmulatorOptions, SlackPosted, sign as slack_sign,
};
pub use teams::{
    ISSUER as TEAMS_ISSUER, KEY_ID as TEAMS_KEY_ID, TeamsEmuUser, TeamsEmulator,
    TeamsEmulatorOptions, TeamsPosted, mint as teams_mint,
};
pub use tenant::LoopbackTenant;
