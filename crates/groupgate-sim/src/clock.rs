//! A clock that only moves when told to.

use chrono::{DateTime, TimeDelta, Utc};
use groupgate_core::ports::Clock;
use std::sync::{Arc, Mutex};

/// Simulated time, shared by every fake and the engine.
#[derive(Debug, Clone)]
pub struct SimClock {
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl SimClock {
    /// A clock standing at `start`.
    pub fn at(start: DateTime<Utc>) -> Self {
        Self {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// Moves the clock to `at` (never backwards).
    pub fn set(&self, at: DateTime<Utc>) {
        if let Ok(mut now) = self.now.lock()
            && at > *now
        {
            *now = at;
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: TimeDelta) {
        let now = self.now();
        self.set(now + by);
    }
}

impl Clock for SimClock {
    fn now(&self) -> DateTime<Utc> {
        self.now.lock().map(|n| *n).unwrap_or_default()
    }
}
