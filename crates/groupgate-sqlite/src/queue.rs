//! Offboarding requests waiting for the worker, in the same file as the
//! trail: `groupgate offboard USER` queues one, the worker carries it out
//! and marks it done with its outcome. A request survives restarts until it
//! is done.

use crate::SqliteStore;
use crate::error::port_error;
use chrono::{DateTime, Utc};
use groupgate_core::ports::{PortError, PortResult};
use rusqlite::params;

/// A queued offboarding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedOffboarding {
    /// Its number in the queue.
    pub id: i64,
    /// The user (UPN or object id) as given.
    pub user: String,
    /// Who asked for it.
    pub operator: String,
    /// When.
    pub queued_at: DateTime<Utc>,
}

impl SqliteStore {
    /// Queues an offboarding of `user`; its number.
    pub fn queue_offboarding(
        &self,
        user: &str,
        operator: &str,
        at: DateTime<Utc>,
    ) -> PortResult<i64> {
        let conn = self
            .conn
            .lock()
            .map_err(|_| PortError::permanent("the store's connection was poisoned"))?;
        conn.execute(
            "INSERT INTO offboard_queue (user, operator, queued_at) VALUES (?1, ?2, ?3)",
            params![user, operator, at.timestamp_micros()],
        )
        .map_err(|e| port_error("queueing an offboarding", &e))?;
        Ok(conn.last_insert_rowid())
    }

    /// Offboardings not yet done, oldest first.
    pub fn pending_offboardings(&self) -> PortResult<Vec<QueuedOffboarding>> {
        let conn = self
            .conn
            .lock()
            .map_err(|_| PortError::permanent("the store's connection was poisoned"))?;
        let mut statement = conn
            .prepare_cached(
                "SELECT id, user, operator, queued_at FROM offboard_queue WHERE done_at IS NULL ORDER BY id",
            )
            .map_err(|e| port_error("reading the offboarding queue", &e))?;
        let rows = statement
            .query_map([], |r| {
                Ok(QueuedOffboarding {
                    id: r.get(0)?,
                    user: r.get(1)?,
                    operator: r.get(2)?,
                    queued_at: DateTime::from_timestamp_micros(r.get(3)?).unwrap_or_default(),
                })
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| port_error("reading the offboarding queue", &e))?;
        Ok(rows)
    }

    /// Marks an offboarding done, with what came of it.
    pub fn finish_offboarding(&self, id: i64, outcome: &str, at: DateTime<Utc>) -> PortResult<()> {
        let conn = self
            .conn
            .lock()
            .map_err(|_| PortError::permanent("the store's connection was poisoned"))?;
        conn.execute(
            "UPDATE offboard_queue SET done_at = ?2, outcome = ?3 WHERE id = ?1",
            params![id, at.timestamp_micros(), outcome],
        )
        .map(|_| ())
        .map_err(|e| port_error("finishing an offboarding", &e))
    }
}
