//! The database layout and its migrations, run when a file is opened.
//!
//! A groupgate database is marked with `PRAGMA application_id` and carries
//! its schema version in `PRAGMA user_version`; migrations run in order, each
//! in its own transaction, so a file is always at one version or the next.

use crate::SqliteError;
use rusqlite::{Connection, TransactionBehavior};
use std::path::Path;

/// `ggst`, in `PRAGMA application_id`: what marks a file as groupgate's.
pub(crate) const APPLICATION_ID: i64 = 0x6767_7374;

/// The schema version this build writes.
pub(crate) const SCHEMA_VERSION: i64 = 3;

/// Migration `n` takes a file from version `n` to `n + 1`.
const MIGRATIONS: &[&str] = &[
    // 0 → 1: the trail, the workflow index, timers.
    "
    CREATE TABLE records (
        seq      INTEGER PRIMARY KEY,
        workflow TEXT    NOT NULL,
        position INTEGER NOT NULL,
        hash     TEXT    NOT NULL,
        record   TEXT    NOT NULL
    ) STRICT;
    CREATE UNIQUE INDEX records_by_workflow ON records (workflow, position);

    CREATE TABLE workflows (
        id      TEXT    PRIMARY KEY,
        target  TEXT,
        grp     TEXT,
        phase   TEXT    NOT NULL,
        open    INTEGER NOT NULL,
        summary TEXT    NOT NULL
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX workflows_by_target ON workflows (target, id) WHERE target IS NOT NULL;
    CREATE INDEX workflows_by_group  ON workflows (grp, id)    WHERE grp IS NOT NULL;
    CREATE INDEX workflows_by_phase  ON workflows (phase, id);
    CREATE INDEX workflows_by_open   ON workflows (open, id);

    CREATE TABLE timers (
        workflow TEXT    NOT NULL,
        key      TEXT    NOT NULL,
        at       INTEGER NOT NULL,
        timer    TEXT    NOT NULL,
        PRIMARY KEY (workflow, key)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX timers_by_due ON timers (at, workflow, key);

    CREATE TABLE offboard_queue (
        id        INTEGER PRIMARY KEY,
        user      TEXT    NOT NULL,
        operator  TEXT    NOT NULL,
        queued_at INTEGER NOT NULL,
        done_at   INTEGER,
        outcome   TEXT
    ) STRICT;
    CREATE INDEX offboard_queue_pending ON offboard_queue (id) WHERE done_at IS NULL;
    ",
    // 1 → 2: chat approvals: the cards posted (to refresh them) and the
    // action tokens used (so a click counts once).
    "
    CREATE TABLE chat_cards (
        id        INTEGER PRIMARY KEY,
        ticket    TEXT    NOT NULL,
        stage     TEXT    NOT NULL,
        channel   TEXT    NOT NULL,
        ask_key   TEXT    NOT NULL,
        reference TEXT    NOT NULL,
        view      TEXT    NOT NULL,
        closed    INTEGER NOT NULL DEFAULT 0,
        UNIQUE (channel, ask_key, reference)
    ) STRICT;
    CREATE INDEX chat_cards_by_ticket ON chat_cards (ticket, id);
    CREATE INDEX chat_cards_by_ask ON chat_cards (channel, ask_key);

    CREATE TABLE chat_tokens (
        id      TEXT    PRIMARY KEY,
        expires INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX chat_tokens_by_expiry ON chat_tokens (expires);
    ",
    // 2 → 3: small named values the worker keeps between runs (the users
    // delta link of leaver detection).
    "
    CREATE TABLE worker_state (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) STRICT, WITHOUT ROWID;
    ",
];

fn pragma(conn: &Connection, name: &str, path: &Path) -> Result<i64, SqliteError> {
    conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
        .map_err(|e| SqliteError::from_open(path, e))
}

/// Checks that `conn` is a groupgate database this build can use (or an
/// empty file), and migrates it to [`SCHEMA_VERSION`]. Each migration runs in
/// an immediate (write-locked) transaction that reads the version again
/// first, so two processes opening a new file at once migrate it once.
pub(crate) fn prepare(conn: &mut Connection, path: &Path) -> Result<(), SqliteError> {
    loop {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| SqliteError::from_open(path, e))?;
        let version = check(&tx, path)?;
        if version >= SCHEMA_VERSION {
            return tx.commit().map_err(|e| SqliteError::from_open(path, e));
        }
        let to = version + 1;
        let sql = MIGRATIONS
            .get(version as usize)
            .ok_or_else(|| SqliteError::Migration {
                path: path.to_owned(),
                to,
                message: "this build has no such migration".to_owned(),
            })?;
        tx.execute_batch(sql)
            .and_then(|()| {
                tx.execute_batch(&format!(
                    "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {to};"
                ))
            })
            .map_err(|e| SqliteError::Migration {
                path: path.to_owned(),
                to,
                message: e.to_string(),
            })?;
        tx.commit().map_err(|e| SqliteError::from_open(path, e))?;
    }
}

/// The file's schema version, once it is known to be a groupgate database
/// (or empty) of a version this build can read.
fn check(conn: &Connection, path: &Path) -> Result<i64, SqliteError> {
    let application = pragma(conn, "application_id", path)?;
    let version = pragma(conn, "user_version", path)?;
    if application == 0 && version == 0 {
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'",
                [],
                |r| r.get(0),
            )
            .map_err(|e| SqliteError::from_open(path, e))?;
        if tables > 0 {
            return Err(SqliteError::Foreign {
                path: path.to_owned(),
            });
        }
    } else if application != APPLICATION_ID {
        return Err(SqliteError::Foreign {
            path: path.to_owned(),
        });
    }
    if version > SCHEMA_VERSION {
        return Err(SqliteError::Newer {
            path: path.to_owned(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(version)
}
