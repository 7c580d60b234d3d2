//! groupgate's durable [`Store`](groupgate_core::ports::Store) on SQLite,
//! the embedded default: the audit trail (which is also the workflows' event
//! log) with its global hash chain, each workflow's index row, and timers,
//! in one file.
//!
//! - **One transaction per step.** Everything a step writes — its records,
//!   the workflow's index row, its timers — commits together or not at all,
//!   so a recorded phase never exists without its timer, and a crash leaves
//!   the file at the end of a step.
//! - **Optimistic concurrency.** A commit names the workflow version it
//!   read; a stale writer gets `Conflict` and nothing is written.
//! - **Cost per call follows the workflow, not the history**: every read and
//!   write goes through an index (records by workflow and position, index
//!   rows by target, group, phase and open, timers by due time).
//! - **Durability**: WAL with `synchronous=FULL` by default (a committed step
//!   survives power loss); [`Durability::Normal`] keeps every step across a
//!   process crash but may lose the last steps on power loss, for several
//!   times the throughput.
//! - **A file is checked when opened**: not a database, another
//!   application's database, a newer schema or a damaged file is an error
//!   naming the file and what to do — never a panic and never a silent
//!   re-initialisation. Migrations run in order (`PRAGMA user_version`).
//!
//! ```
//! use groupgate_core::ports::{Commit, Store};
//! use groupgate_sqlite::{SqliteOptions, SqliteStore};
//! # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! # rt.block_on(async {
//! let dir = std::env::temp_dir().join(format!("groupgate-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("groupgate.db");
//! let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
//! assert!(store.head().await.unwrap().is_none());
//! drop(store);
//! // Reopened, it is the same store.
//! let again = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
//! assert!(again.head().await.unwrap().is_none());
//! # std::fs::remove_dir_all(&dir).ok();
//! # });
//! ```

mod chat;
mod error;
mod queue;
mod schema;
mod stats;
mod store;

pub use chat::ChatCardRow;
pub use error::SqliteError;
pub use queue::QueuedOffboarding;
pub use stats::StoreStats;

use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// How hard each commit is pushed to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `synchronous=FULL`: every committed step survives a crash and a power
    /// loss. The default.
    #[default]
    Full,
    /// `synchronous=NORMAL`: every committed step survives a process crash;
    /// on power loss or an operating-system crash, the last steps before it
    /// may be lost (the file stays consistent). Several times faster.
    Normal,
}

/// How to open a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteOptions {
    /// See [`Durability`].
    pub durability: Durability,
    /// How long a call waits for a lock another process holds.
    pub busy_timeout: Duration,
    /// Pages the write-ahead log may grow to before it is copied back into
    /// the file (`PRAGMA wal_autocheckpoint`; SQLite's own default is 1,000).
    /// A step rewrites the same few pages (the trail's end, the workflow's
    /// row), so a longer log copies each of them back once instead of many
    /// times: 10,000 pages (about 40 MB of log) by default, which took
    /// throughput at `NORMAL` from about 370 to about 550 workflows/s in
    /// the throughput benchmark.
    pub checkpoint_pages: u32,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            durability: Durability::Full,
            busy_timeout: Duration::from_secs(5),
            checkpoint_pages: 10_000,
        }
    }
}

/// The store: one SQLite file.
///
/// Calls run on the caller's thread (an SQLite call takes microseconds, a
/// `FULL` commit one disk flush); one connection is shared behind a mutex,
/// so a store serves one process. For several workers use the PostgreSQL
/// store.
pub struct SqliteStore {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish()
    }
}

impl SqliteStore {
    /// Opens (or creates) the store at `path`, checks it, and migrates it to
    /// this build's schema.
    pub fn open(path: impl AsRef<Path>, options: SqliteOptions) -> Result<Self, SqliteError> {
        let path = path.as_ref().to_owned();
        let mut conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| SqliteError::from_open(&path, e))?;
        conn.busy_timeout(options.busy_timeout)
            .map_err(|e| SqliteError::from_open(&path, e))?;
        // WAL before anything else reads the file: a damaged or foreign file
        // fails here, with its name. SQLite does not wait on its busy
        // handler for some of the locks opening takes (switching a new file
        // to WAL, upgrading to the migration's write lock), so another
        // process opening the same file at the same moment is waited out
        // here, within the busy timeout.
        let began = std::time::Instant::now();
        loop {
            let opened = conn
                .query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))
                .map(|_| ())
                .and_then(|()| {
                    conn.execute_batch(&format!(
                        "PRAGMA synchronous = {}; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = {};",
                        match options.durability {
                            Durability::Full => "FULL",
                            Durability::Normal => "NORMAL",
                        },
                        options.checkpoint_pages.max(1)
                    ))
                })
                .map_err(|e| SqliteError::from_open(&path, e))
                .and_then(|()| schema::prepare(&mut conn, &path));
            match opened {
                Err(e) if e.is_busy() && began.elapsed() < options.busy_timeout => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                other => break other?,
            }
        }
        Ok(Self {
            conn: Mutex::new(conn),
            path,
        })
    }

    /// Opens the store at `path` only if the file exists: for commands that
    /// read a store (listing workflows, exporting the trail, backups), so a
    /// mistyped path is an error instead of a new empty store.
    pub fn open_existing(
        path: impl AsRef<Path>,
        options: SqliteOptions,
    ) -> Result<Self, SqliteError> {
        let path = path.as_ref();
        if !path.is_file() {
            return Err(SqliteError::Missing {
                path: path.to_owned(),
            });
        }
        Self::open(path, options)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes a consistent copy of the whole store to `target` while it is in
    /// use (`VACUUM INTO`): the way to back it up. `target` must not exist.
    pub fn backup_to(&self, target: impl AsRef<Path>) -> Result<(), SqliteError> {
        let target = target.as_ref();
        let conn = self.lock_for(target)?;
        conn.execute("VACUUM INTO ?1", [target.to_string_lossy()])
            .map(|_| ())
            .map_err(|e| SqliteError::Io {
                path: target.to_owned(),
                message: format!("the backup failed: {e}"),
            })
    }

    /// Checks every page of the file (`PRAGMA integrity_check`); costs time
    /// in proportion to the file. `Ok` when it is sound.
    pub fn check_integrity(&self) -> Result<(), SqliteError> {
        let conn = self.lock_for(&self.path)?;
        let result: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(|e| SqliteError::from_open(&self.path, e))?;
        if result == "ok" {
            Ok(())
        } else {
            Err(SqliteError::Corrupt {
                path: self.path.clone(),
                message: result,
            })
        }
    }

    fn lock_for(&self, path: &Path) -> Result<std::sync::MutexGuard<'_, Connection>, SqliteError> {
        self.conn.lock().map_err(|_| SqliteError::Io {
            path: path.to_owned(),
            message: "the store's connection was poisoned by a panic".to_owned(),
        })
    }
}
