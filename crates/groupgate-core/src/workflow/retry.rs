//! Exponential backoff with full jitter, honouring `Retry-After`. The jitter
//! comes in as a number, so the state machine stays deterministic.

use serde::{Deserialize, Serialize};

/// How transient failures are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The first backoff ceiling, in seconds; it doubles per attempt.
    pub base_seconds: u64,
    /// The largest backoff ceiling, in seconds.
    pub max_delay_seconds: u64,
    /// Give up once this long has passed since the first failure.
    pub deadline_seconds: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            base_seconds: 2,
            max_delay_seconds: 300,
            deadline_seconds: 3600,
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `attempt` (1 for the first retry):
    /// a uniformly jittered share (`jitter` in `[0, 1)`) of
    /// `min(max_delay, base · 2^(attempt-1))`, but never less than the
    /// service's `retry_after`.
    ///
    /// ```
    /// use groupgate_core::workflow::RetryPolicy;
    /// let p = RetryPolicy::default();
    /// assert_eq!(p.delay_seconds(3, None, 0.5), 4);      // half of 8
    /// assert_eq!(p.delay_seconds(3, Some(30), 0.5), 30); // Retry-After wins
    /// assert_eq!(p.delay_seconds(20, None, 0.999), 299); // capped
    /// ```
    pub fn delay_seconds(&self, attempt: u32, retry_after: Option<u64>, jitter: f64) -> u64 {
        let exponent = attempt.saturating_sub(1).min(32);
        let ceiling = self
            .base_seconds
            .saturating_mul(1u64 << exponent)
            .min(self.max_delay_seconds);
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let jittered = (ceiling as f64 * jitter) as u64;
        jittered.max(retry_after.unwrap_or(0)).max(1)
    }
}
