//! What can go wrong opening a store, said so an operator knows what to do.

use groupgate_core::ports::{ErrorClass, PortError};
use rusqlite::ErrorCode;
use std::path::{Path, PathBuf};

/// A store that cannot be opened (or used).
#[derive(Debug, thiserror::Error)]
pub enum SqliteError {
    /// No store at this path (commands that only read do not create one).
    #[error(
        "{path}: no store here; check `store.path` in the settings, or start the worker once to create it"
    )]
    Missing {
        /// The file.
        path: PathBuf,
    },
    /// The file is not an SQLite database at all.
    #[error(
        "{path}: not a database (or the file is encrypted or damaged); point the store at a groupgate database, or at a new file to create one"
    )]
    NotADatabase {
        /// The file.
        path: PathBuf,
    },
    /// An SQLite database of another application.
    #[error(
        "{path}: an SQLite database, but not groupgate's (it has other tables and no groupgate mark); use a new file for the store"
    )]
    Foreign {
        /// The file.
        path: PathBuf,
    },
    /// Written by a newer groupgate.
    #[error(
        "{path}: written by a newer groupgate (schema {found}; this one reads up to {supported}); run the groupgate that wrote it, or upgrade"
    )]
    Newer {
        /// The file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
        /// The newest this build reads.
        supported: i64,
    },
    /// The file's pages are damaged.
    #[error(
        "{path}: the database is damaged ({message}); restore it from a backup (see docs/operations.md)"
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What SQLite said.
        message: String,
    },
    /// A migration failed; the file stays at its previous version.
    #[error(
        "{path}: upgrading the schema to version {to} failed ({message}); the file is unchanged at its previous version"
    )]
    Migration {
        /// The file.
        path: PathBuf,
        /// The version it was being taken to.
        to: i64,
        /// What SQLite said.
        message: String,
    },
    /// Another process held the file locked for longer than the busy
    /// timeout.
    #[error(
        "{path}: the file stayed locked by another process ({message}); is another worker or a backup running on it?"
    )]
    Busy {
        /// The file.
        path: PathBuf,
        /// SQLite's words.
        message: String,
    },
    /// The file cannot be opened or written (permissions, a missing folder,
    /// a full disk).
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

impl SqliteError {
    /// Whether another process held the file locked.
    pub fn is_busy(&self) -> bool {
        matches!(self, SqliteError::Busy { .. })
    }

    pub(crate) fn from_open(path: &Path, e: rusqlite::Error) -> Self {
        let path = path.to_owned();
        match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => SqliteError::Busy {
                path,
                message: e.to_string(),
            },
            Some(ErrorCode::NotADatabase) => SqliteError::NotADatabase { path },
            Some(ErrorCode::DatabaseCorrupt) => SqliteError::Corrupt {
                path,
                message: e.to_string(),
            },
            Some(ErrorCode::CannotOpen) => SqliteError::Io {
                path,
                message: format!(
                    "cannot open the file ({e}); check that its folder exists and is writable"
                ),
            },
            _ => SqliteError::Io {
                path,
                message: e.to_string(),
            },
        }
    }
}

/// A failure during use, classified for the engine: a busy or locked file is
/// transient (another process holds it briefly), anything else is not.
pub(crate) fn port_error(what: &str, e: &rusqlite::Error) -> PortError {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            PortError::transient(format!("the store is busy ({what}): {e}"), None)
        }
        Some(ErrorCode::DiskFull) => PortError::new(
            ErrorClass::Permanent,
            format!("the store's disk is full ({what}): free space, then restart"),
        ),
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => PortError::new(
            ErrorClass::Permanent,
            format!("the store is damaged ({what}): {e}; restore it from a backup"),
        ),
        _ => PortError::permanent(format!("the store failed ({what}): {e}")),
    }
}
