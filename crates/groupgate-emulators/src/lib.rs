//! Loopback HTTP emulators of the Microsoft Graph and ServiceNow subsets
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

pub use graph::{GraphEmulator, GraphEmulatorOptions};
pub use servicenow::{SnowData, SnowEmulator, SnowEmulatorOptions, SnowRitm, SnowUser};
