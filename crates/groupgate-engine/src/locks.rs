//! One step at a time per workflow within this process: a lock per
//! workflow, created on demand and dropped when nobody holds or waits for it.

use groupgate_core::WorkflowId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

type Table = Mutex<HashMap<WorkflowId, Arc<AsyncMutex<()>>>>;

/// The locks of the workflows being driven.
#[derive(Debug, Default)]
pub(crate) struct Locks {
    table: Arc<Table>,
}

/// Holding a workflow: no other task of this engine steps it meanwhile.
#[derive(Debug)]
pub(crate) struct Held {
    id: WorkflowId,
    table: Arc<Table>,
    guard: Option<OwnedMutexGuard<()>>,
}

impl Drop for Held {
    fn drop(&mut self) {
        drop(self.guard.take());
        if let Ok(mut table) = self.table.lock()
            && table
                .get(&self.id)
                .is_some_and(|m| Arc::strong_count(m) == 1)
        {
            table.remove(&self.id);
        }
    }
}

impl Locks {
    fn entry(&self, id: &WorkflowId) -> Arc<AsyncMutex<()>> {
        match self.table.lock() {
            Ok(mut table) => Arc::clone(table.entry(id.clone()).or_default()),
            // A poisoned table only means another thread panicked while
            // holding it; a fresh lock keeps this caller going.
            Err(_) => Arc::new(AsyncMutex::new(())),
        }
    }

    /// Waits for the workflow's lock.
    pub(crate) async fn hold(&self, id: &WorkflowId) -> Held {
        let lock = self.entry(id);
        let guard = lock.lock_owned().await;
        Held {
            id: id.clone(),
            table: Arc::clone(&self.table),
            guard: Some(guard),
        }
    }

    /// The workflow's lock, unless another task holds it.
    pub(crate) fn try_hold(&self, id: &WorkflowId) -> Option<Held> {
        let lock = self.entry(id);
        let guard = lock.try_lock_owned().ok()?;
        Some(Held {
            id: id.clone(),
            table: Arc::clone(&self.table),
            guard: Some(guard),
        })
    }
}
