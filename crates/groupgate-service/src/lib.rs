//! groupgate as a process, as a library: the settings file, the engine over
//! Microsoft Graph, ServiceNow and the SQLite store built from it, and the
//! worker loop (`groupgate worker` runs it; so can a service of your own).
//!
//! ```no_run
//! # async fn run() -> Result<(), groupgate_service::ServiceError> {
//! use std::sync::Arc;
//! let service = Arc::new(groupgate_service::Service::from_settings_file(
//!     "groupgate.yaml".as_ref(),
//! )?);
//! // Ctrl-C asks the engine to stop: the step in hand finishes, then `run` returns.
//! let stop = service.engine().stop_signal();
//! tokio::spawn(async move {
//!     let _ = tokio::signal::ctrl_c().await;
//!     stop.stop();
//! });
//! // Slack's and Teams' clicks, when the settings have `listen` and `chat`.
//! service.listen().await?;
//! // Recovery, then a pass every `worker.pass_seconds`.
//! service.run().await?;
//! # Ok(()) }
//! ```
//!
//! See `docs/operations.md`.

mod chat;
mod chat_reply;
mod drift;
mod error;
mod events;
mod http;
mod leavers;
pub mod metrics;
mod reload;
mod reminders;
mod service;
mod settings;
mod sink;
mod worker;

pub use chat::{ChatSettings, SlackSettings, TeamsSettings};
pub use chat_reply::ChatReply;
pub use drift::DriftSettings;
pub use error::ServiceError;
pub use events::{
    SIGNATURE_HEADER, TIMESTAMP_HEADER, WEBHOOK_MAX_SKEW_SECONDS, WebhookError, WebhookKey,
};
pub use http::MAX_BODY_BYTES;
pub use leavers::{LEAVER_OPERATOR, LeaverScan, LeaverSettings};
pub use metrics::install_prometheus;
pub use reload::PolicyReload;
pub use reminders::{Reminded, ReminderSettings};
pub use service::Service;
pub use settings::{
    AdapterSettings, AuditSettings, DurabilitySetting, IntakeSettings, ServiceSettings,
    StoreSettings, WorkerSettings, WorkflowTuning,
};
pub use worker::PassSummary;
