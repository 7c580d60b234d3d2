//! Counts for monitoring (the worker's `/metrics`): workflows by phase,
//! the oldest timer still due, the offboarding queue's length. Each is one
//! indexed query.

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
