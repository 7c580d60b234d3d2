//! Counts for monitoring (the worker's `/metrics`): workflows by phase,
//! the oldest timer still due, the offboarding queue's length, each one
//! indexed query; and the small values the worker keeps between runs.

use crate::SqliteStore;
use crate::error::port_error;
use chrono::{DateTime, Utc};
use groupgate_core::ports::{PortError, PortResult};

/// What the store holds, for monitoring.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Workflows by phase: (phase, open, how many).
    pub by_phase: Vec<(String, bool, u64)>,
    /// When the earliest pending timer is due.
    pub earliest_timer: Option<DateTime<Utc>>,
    /// Offboardings queued and not yet done.
    pub queued_offboardings: u64,
}

impl SqliteStore {
    /// The counts of [`StoreStats`].
    pub fn stats(&self) -> PortResult<StoreStats> {
        let conn = self
            .conn
            .lock()
            .map_err(|_| PortError::permanent("the store's connection was poisoned"))?;
        let failed = |e: &rusqlite::Error| port_error("reading the store's counts", e);
        let mut statement = conn
            .prepare_cached("SELECT phase, open, COUNT(*) FROM workflows GROUP BY phase, open")
            .map_err(|e| failed(&e))?;
        let by_phase = statement
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)? != 0,
                    r.get::<_, i64>(2)?,
                ))
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| failed(&e))?
            .into_iter()
            .map(|(phase, open, n)| (phase, open, u64::try_from(n).unwrap_or(0)))
            .collect();
        let earliest: Option<i64> = conn
            .query_row("SELECT MIN(at) FROM timers", [], |r| r.get(0))
            .map_err(|e| failed(&e))?;
        let queued: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM offboard_queue WHERE done_at IS NULL",
                [],
                |r| r.get(0),
            )
            .map_err(|e| failed(&e))?;
        Ok(StoreStats {
            by_phase,
            earliest_timer: earliest.and_then(DateTime::from_timestamp_micros),
            queued_offboardings: u64::try_from(queued).unwrap_or(0),
        })
    }
}

impl SqliteStore {
    /// A value the worker keeps between runs (`None` when never set).
    pub fn worker_state(&self, key: &str) -> PortResult<Option<String>> {
        let conn = self
            .conn
            .lock()
            .map_err(|_| PortError::permanent("the store's connection was poisoned"))?;
        match conn.query_row(
            "SELECT value FROM worker_state WHERE key = ?1",
            [key],
            |r| r.get(0),
        ) {
            Ok(v) => Ok(Some(v)),
            Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
            Err(e) => Err(port_error("reading the worker's state", &e)),
        }
    }

    /// Sets a value the worker keeps between runs.
    pub fn set_worker_state(&self, key: &str, value: &str) -> PortResult<()> {
        let conn = self
            .conn
            .lock()
            .map_err(|_| PortError::permanent("the store's connection was poisoned"))?;
        conn.execute(
            "INSERT INTO worker_state (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )
        .map(|_| ())
        .map_err(|e| port_error("writing the worker's state", &e))
    }

    /// Forgets a value the worker kept.
    pub fn clear_worker_state(&self, key: &str) -> PortResult<()> {
        let conn = self
            .conn
            .lock()
            .map_err(|_| PortError::permanent("the store's connection was poisoned"))?;
        conn.execute("DELETE FROM worker_state WHERE key = ?1", [key])
            .map(|_| ())
            .map_err(|e| port_error("writing the worker's state", &e))
    }
}
