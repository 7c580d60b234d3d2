//! What can go wrong opening the store, said with what to do; and database
//! errors during work classified for the engine (a lost connection or a
//! serialization failure is transient, a constraint is a conflict).

use groupgate_core::ports::{ErrorClass, PortError};
use tokio_postgres::error::SqlState;

/// Why the PostgreSQL store cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PostgresError {
    /// The connection string does not parse or is not allowed.
    #[error("the PostgreSQL connection string is not usable: {0}")]
    Settings(String),
    /// No server answered.
    #[error(
        "cannot reach PostgreSQL at {target}: {message} (is the server running and listening there?)"
    )]
    Unreachable {
        /// Where it was looked for.
        target: String,
        /// What the connection attempt said.
        message: String,
    },
    /// The server refused the credentials.
    #[error(
        "PostgreSQL refused the credentials for {target}: {message} (check the user in the connection string and GROUPGATE_POSTGRES_PASSWORD)"
    )]
    Credentials {
        /// Where.
        target: String,
        /// The server's message.
        message: String,
    },
    /// The database's schema is from a newer groupgate.
    #[error(
        "the database at {target} has groupgate schema version {found}, newer than this build's {supported}; run a groupgate of that version or later (never downgrade a store)"
    )]
    NewerSchema {
        /// Where.
        target: String,
        /// Its version.
        found: i64,
        /// This build's.
        supported: i64,
    },
    /// A migration failed (the database is left as it was before it).
    #[error("migrating the database at {target} to schema version {to} failed: {message}")]
    Migration {
        /// Where.
        target: String,
        /// The version being migrated to.
        to: i64,
        /// What failed.
        message: String,
    },
    /// Any other database error while opening.
    #[error("PostgreSQL at {target}: {message}")]
    Database {
        /// Where.
        target: String,
        /// What failed.
        message: String,
    },
}

/// The full message of a database error (the server's, when it sent one).
pub(crate) fn message_of(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                text.push_str(": ");
                text.push_str(&s.to_string());
                source = s.source();
            }
            text
        }
    }
}

/// An error met while opening, as what to tell the operator.
pub(crate) fn open_error(target: &str, e: &tokio_postgres::Error) -> PostgresError {
    let message = message_of(e);
    match e.code() {
        Some(c)
            if *c == SqlState::INVALID_PASSWORD
                || *c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION =>
        {
            PostgresError::Credentials {
                target: target.to_owned(),
                message,
            }
        }
        Some(_) => PostgresError::Database {
            target: target.to_owned(),
            message,
        },
        None if message.contains("password") || message.contains("authentication") => {
            PostgresError::Credentials {
                target: target.to_owned(),
                message,
            }
        }
        None => PostgresError::Unreachable {
            target: target.to_owned(),
            message,
        },
    }
}

/// A database error during work, classified for the engine.
pub(crate) fn port_error(what: &str, e: &tokio_postgres::Error) -> PortError {
    let message = format!("the PostgreSQL store failed {what}: {}", message_of(e));
    let class = match e.code() {
        None => ErrorClass::Transient {
            retry_after_seconds: None,
        },
        Some(c)
            if *c == SqlState::T_R_SERIALIZATION_FAILURE
                || *c == SqlState::T_R_DEADLOCK_DETECTED
                || *c == SqlState::ADMIN_SHUTDOWN
                || *c == SqlState::CANNOT_CONNECT_NOW
                || *c == SqlState::TOO_MANY_CONNECTIONS =>
        {
            ErrorClass::Transient {
                retry_after_seconds: None,
            }
        }
        Some(c) if *c == SqlState::UNIQUE_VIOLATION => ErrorClass::Conflict,
        Some(_) => ErrorClass::Permanent,
    };
    PortError::new(class, message)
}

/// A pool that could not give a connection.
pub(crate) fn pool_error(what: &str, e: &deadpool_postgres::PoolError) -> PortError {
    match e {
        deadpool_postgres::PoolError::Backend(b) => port_error(what, b),
        other => PortError::new(
            ErrorClass::Transient {
                retry_after_seconds: None,
            },
            format!("the PostgreSQL store has no connection for {what}: {other}"),
        ),
    }
}
