//! Workflows kept in memory between calls, so a call costs one index read
//! (and the records added since) instead of replaying a whole history.

use crate::state::Loaded;
use groupgate_core::WorkflowId;
use std::collections::HashMap;
use std::sync::Mutex;

/// A bounded map of loaded workflows.
#[derive(Debug)]
pub(crate) struct Cache {
    capacity: usize,
    entries: Mutex<HashMap<WorkflowId, Loaded>>,
}

impl Cache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn get(&self, id: &WorkflowId) -> Option<Loaded> {
        self.entries.lock().ok()?.get(id).cloned()
    }

    pub(crate) fn put(&self, loaded: &Loaded) {
        if self.capacity == 0 {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            // An ended workflow is not taken up again (a duplicate submit
            // reads it back from the store): keep the room for live ones.
            if loaded.wf.phase.is_terminal() && loaded.wf.outbox.is_empty() {
                entries.remove(&loaded.wf.id);
                return;
            }
            if entries.len() >= self.capacity && !entries.contains_key(&loaded.wf.id) {
                // Only live workflows are kept: any one makes room.
                let victim = entries.keys().next().cloned();
                if let Some(victim) = victim {
                    entries.remove(&victim);
                }
            }
            entries.insert(loaded.wf.id.clone(), loaded.clone());
        }
    }

    pub(crate) fn forget(&self, id: &WorkflowId) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(id);
        }
    }
}
