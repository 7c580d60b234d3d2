//! An in-memory store: the audit trail and timers.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use groupgate_core::WorkflowId;
use groupgate_core::audit::{AuditRecord, GENESIS};
use groupgate_core::ports::{ErrorClass, PortError, PortResult, Store, Timer};
use std::sync::Mutex;

/// The audit trail and timers in memory (lost when dropped; the SQLite store
/// is the durable one).
#[derive(Debug, Default)]
pub struct MemoryStore {
    records: Mutex<Vec<AuditRecord>>,
    timers: Mutex<Vec<Timer>>,
}

fn poisoned() -> PortError {
    PortError::permanent("memory store poisoned")
}

#[async_trait]
impl Store for MemoryStore {
    async fn append(&self, record: &AuditRecord) -> PortResult<()> {
        let mut records = self.records.lock().map_err(|_| poisoned())?;
        let expected_prev = records.last().map(|r| r.hash.as_str()).unwrap_or(GENESIS);
        if record.seq != records.len() as u64 || record.prev_hash != expected_prev {
            return Err(PortError::new(
                ErrorClass::Conflict,
                format!("record {} does not follow the trail's end", record.seq),
            ));
        }
        records.push(record.clone());
        Ok(())
    }

    async fn last(&self) -> PortResult<Option<AuditRecord>> {
        Ok(self.records.lock().map_err(|_| poisoned())?.last().cloned())
    }

    async fn records(&self, workflow: &WorkflowId) -> PortResult<Vec<AuditRecord>> {
        let records = self.records.lock().map_err(|_| poisoned())?;
        Ok(records
            .iter()
            .filter(|r| &r.workflow == workflow)
            .cloned()
            .collect())
    }

    async fn all_records(&self) -> PortResult<Vec<AuditRecord>> {
        Ok(self.records.lock().map_err(|_| poisoned())?.clone())
    }

    async fn workflows(&self) -> PortResult<Vec<WorkflowId>> {
        let records = self.records.lock().map_err(|_| poisoned())?;
        let mut out: Vec<WorkflowId> = Vec::new();
        for r in records.iter() {
            if !out.contains(&r.workflow) {
                out.push(r.workflow.clone());
            }
        }
        Ok(out)
    }

    async fn schedule(&self, timer: &Timer) -> PortResult<()> {
        let mut timers = self.timers.lock().map_err(|_| poisoned())?;
        timers.retain(|t| !(t.workflow == timer.workflow && t.purpose == timer.purpose));
        timers.push(timer.clone());
        Ok(())
    }

    async fn cancel_timer(&self, workflow: &WorkflowId, purpose: &str) -> PortResult<()> {
        let mut timers = self.timers.lock().map_err(|_| poisoned())?;
        timers.retain(|t| !(&t.workflow == workflow && t.purpose == purpose));
        Ok(())
    }

    async fn due_timers(&self, now: DateTime<Utc>) -> PortResult<Vec<Timer>> {
        let timers = self.timers.lock().map_err(|_| poisoned())?;
        let mut due: Vec<Timer> = timers.iter().filter(|t| t.at <= now).cloned().collect();
        due.sort_by_key(|t| t.at);
        Ok(due)
    }

    async fn complete_timer(&self, timer: &Timer) -> PortResult<()> {
        let mut timers = self.timers.lock().map_err(|_| poisoned())?;
        timers.retain(|t| t != timer);
        Ok(())
    }

    async fn next_timer(&self) -> PortResult<Option<Timer>> {
        let timers = self.timers.lock().map_err(|_| poisoned())?;
        Ok(timers.iter().min_by_key(|t| t.at).cloned())
    }
}
