//! Asking a running engine to stop between steps.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Notify;

/// A request to stop, shared by everyone who holds a clone: passes check it
/// before taking up the next workflow, so the step in hand always finishes
/// (and is committed) and nothing new starts.
///
/// ```
/// use groupgate_engine::StopSignal;
/// let stop = StopSignal::default();
/// let seen_by_the_engine = stop.clone();
/// assert!(!seen_by_the_engine.is_stopped());
/// stop.stop();
/// assert!(seen_by_the_engine.is_stopped());
/// ```
#[derive(Debug, Clone, Default)]
pub struct StopSignal(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    stopped: AtomicBool,
    notify: Notify,
}

impl StopSignal {
    /// Asks to stop (idempotent).
    pub fn stop(&self) {
        self.0.stopped.store(true, Ordering::SeqCst);
        self.0.notify.notify_waiters();
    }

    /// Whether a stop was asked for.
    pub fn is_stopped(&self) -> bool {
        self.0.stopped.load(Ordering::SeqCst)
    }

    /// Resolves once a stop is asked for (at once if it already was).
    pub async fn stopped(&self) {
        loop {
            let notified = self.0.notify.notified();
            if self.is_stopped() {
                return;
            }
            notified.await;
        }
    }
}
