//! Scripted failures: "the next call of this operation fails with this error".

use groupgate_core::ports::{PortError, PortResult};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Failures queued per operation name (e.g. `add_member`), consumed in order.
#[derive(Debug, Default)]
pub struct Faults {
    queued: Mutex<HashMap<String, VecDeque<PortError>>>,
}

impl Faults {
    /// Makes the next call of `operation` fail with `error`.
    pub fn fail_next(&self, operation: &str, error: PortError) {
        if let Ok(mut q) = self.queued.lock() {
            q.entry(operation.to_owned()).or_default().push_back(error);
        }
    }

    /// Fails with the next queued error for `operation`, if any.
    pub fn check(&self, operation: &str) -> PortResult<()> {
        let next = self
            .queued
            .lock()
            .ok()
            .and_then(|mut q| q.get_mut(operation).and_then(VecDeque::pop_front));
        match next {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}
