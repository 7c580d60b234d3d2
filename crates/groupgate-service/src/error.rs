//! What can stop the service, said so an operator knows what to do.

use std::path::PathBuf;

/// A failure of the service.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The settings file is missing, unreadable or invalid.
    #[error("{}: {message}", file.display())]
    Settings {
        /// The file.
        file: PathBuf,
        /// What is wrong, with line and column when there are.
        message: String,
    },
    /// The policy does not load.
    #[error("{0}")]
    Policy(#[from] groupgate_core::PolicyError),
    /// The store cannot be opened.
    #[error("{0}")]
    Store(#[from] groupgate_sqlite::SqliteError),
    /// Graph settings are missing or invalid.
    #[error("Graph settings: {0}")]
    Graph(#[from] groupgate_graph::ConfigError),
    /// ServiceNow settings are missing or invalid.
    #[error("ServiceNow settings: {0}")]
    ServiceNow(#[from] groupgate_servicenow::ConfigError),
    /// The engine stopped (the store failed under it).
    #[error("{0}")]
    Engine(#[from] groupgate_engine::EngineError),
    /// The listener cannot bind its address.
    #[error(
        "cannot listen on `{address}`: {source} (is another process using it? check `listen` in the settings)"
    )]
    Listen {
        /// The address in the settings.
        address: String,
        /// Why.
        source: std::io::Error,
    },
    /// The store failed outside the engine (the offboarding queue).
    #[error("the store failed: {0}")]
    Port(#[from] groupgate_core::ports::PortError),
}
