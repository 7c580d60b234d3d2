//! groupgate's `Store` over PostgreSQL, for many worker processes on one
//! database: the same schema ideas as the SQLite store (the trail with a
//! per-workflow version and the global hash chain, the workflow index, the
//! timers), versioned migrations run at open, and every step's records,
//! index row and timers committed in one transaction. The chain's append
//! is one short critical section (a transaction-scoped advisory lock), so
//! the trail stays one verifiable chain whatever the number of writers.
//!
//! ```no_run
//! # async fn open() -> Result<(), groupgate_postgres::PostgresError> {
//! use groupgate_core::Secret;
//! use groupgate_postgres::{PostgresOptions, PostgresStore};
//! let options = PostgresOptions::new("postgres://groupgate@127.0.0.1:5432/groupgate")
//!     .with_password(Secret::new(std::env::var("GROUPGATE_POSTGRES_PASSWORD").unwrap_or_default()));
//! let store = PostgresStore::open(options).await?;
//! # let _ = store; Ok(()) }
//! ```

mod error;
mod lease;
mod schema;
mod store;

pub use error::PostgresError;
pub use lease::{FencedStore, Lease};
pub use schema::SCHEMA_VERSION;

use groupgate_core::Secret;
use std::str::FromStr;

/// How to reach the database.
#[derive(Clone)]
pub struct PostgresOptions {
    /// A libpq-style connection string or URL, without the password.
    pub url: String,
    /// The password (from the environment, never the settings file).
    pub password: Option<Secret>,
    /// The most connections this process holds (default 8).
    pub pool_size: usize,
}

impl std::fmt::Debug for PostgresOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresOptions")
            .field("url", &self.url)
            .field("password", &self.password.as_ref().map(|_| "…"))
            .field("pool_size", &self.pool_size)
            .finish()
    }
}

impl PostgresOptions {
    /// Options for `url` (e.g. `postgres://groupgate@127.0.0.1:5432/groupgate`).
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            password: None,
            pool_size: 8,
        }
    }

    /// With the password.
    pub fn with_password(mut self, password: Secret) -> Self {
        self.password = Some(password);
        self
    }
}

/// Where a configuration points, for messages (never the password).
fn target_of(config: &tokio_postgres::Config) -> String {
    let host = config
        .get_hosts()
        .first()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".to_owned());
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let db = config.get_dbname().unwrap_or("(default database)");
    format!("{host}:{port}/{db}")
}

/// Whether every host is this machine (a Unix socket or a loopback address).
fn only_local(config: &tokio_postgres::Config) -> bool {
    config.get_hosts().iter().all(|h| match h {
        tokio_postgres::config::Host::Tcp(name) => {
            name == "localhost"
                || name
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        #[cfg(unix)]
        tokio_postgres::config::Host::Unix(_) => true,
    })
}

/// The `Store` over a PostgreSQL database.
#[derive(Clone)]
pub struct PostgresStore {
    pool: deadpool_postgres::Pool,
    target: String,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("target", &self.target)
            .finish()
    }
}

impl PostgresStore {
    /// Connects, checks the schema's version and runs the migrations this
    /// build has (once, whatever the number of processes starting at
    /// once). A server that does not answer, refused credentials, or a
    /// schema from a newer groupgate is a clear error, never a panic.
    ///
    /// The connection is plain TCP, so only a server on this machine (a
    /// Unix socket or a loopback address) is accepted: the password must
    /// not cross a network unencrypted.
    pub async fn open(options: PostgresOptions) -> Result<Self, PostgresError> {
        let mut config = tokio_postgres::Config::from_str(&options.url)
            .map_err(|e| PostgresError::Settings(e.to_string()))?;
        if config.get_password().is_some() {
            return Err(PostgresError::Settings(
                "it carries a password; put the password in GROUPGATE_POSTGRES_PASSWORD instead, so it stays out of settings files and logs".to_owned(),
            ));
        }
        if !only_local(&config) {
            return Err(PostgresError::Settings(
                "the server is not on this machine; this build connects without TLS, so it only talks to a Unix socket or 127.0.0.1 (use a local socket, or a TLS tunnel ending on loopback)".to_owned(),
            ));
        }
        if let Some(p) = &options.password {
            config.password(p.expose());
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(std::time::Duration::from_secs(10));
        }
        let target = target_of(&config);
        let (mut client, connection) = config
            .connect(tokio_postgres::NoTls)
            .await
            .map_err(|e| error::open_error(&target, &e))?;
        let driver = tokio::spawn(connection);
        schema::migrate(&mut client, &target).await?;
        drop(client);
        driver.abort();
        let manager = deadpool_postgres::Manager::from_config(
            config,
            tokio_postgres::NoTls,
            deadpool_postgres::ManagerConfig {
                recycling_method: deadpool_postgres::RecyclingMethod::Fast,
            },
        );
        let pool = deadpool_postgres::Pool::builder(manager)
            .max_size(options.pool_size.max(1))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| PostgresError::Settings(e.to_string()))?;
        Ok(Self { pool, target })
    }

    /// Where it stores (host, port and database; never the password).
    pub fn target(&self) -> &str {
        &self.target
    }
}
