#![doc = include_str!("../README.md")]

pub mod files;
pub mod foreign;
pub mod suite;
pub mod trail;

pub use groupgate_core::*;
/// The engine: drives workflows through the ports.
pub use groupgate_engine as engine;
/// The Microsoft Graph directory adapter.
pub use groupgate_graph as graph;
/// groupgate as a process: settings, adapters and store built from them, the worker loop.
pub use groupgate_service as service;
/// The ServiceNow ticket and approval adapter.
pub use groupgate_servicenow as servicenow;
/// The durable store on SQLite.
pub use groupgate_sqlite as sqlite;
