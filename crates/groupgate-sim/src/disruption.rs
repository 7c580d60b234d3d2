//! Slow answers and dropped connections, shared by the HTTP emulators.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

/// Scripted disruptions: `(matching, Some(delay))` slows the next matching
/// call; `(matching, None)` drops its connection mid-answer.
#[derive(Debug, Default)]
pub(crate) struct Disruptions {
    queued: Mutex<VecDeque<(String, Option<Duration>)>>,
}

impl Disruptions {
    pub(crate) fn slow_next(&self, matching: &str, delay: Duration) {
        if let Ok(mut q) = self.queued.lock() {
            q.push_back((matching.to_owned(), Some(delay)));
        }
    }

    pub(crate) fn drop_next(&self, matching: &str) {
        if let Ok(mut q) = self.queued.lock() {
            q.push_back((matching.to_owned(), None));
        }
    }

    /// Applies the disruption queued for `line`, if any: waits (real time), or
    /// returns an answer that promises more body than it sends.
    pub(crate) async fn apply(&self, line: &str) -> Option<Response> {
        let next = self.queued.lock().ok().and_then(|mut q| {
            let i = q.iter().position(|(m, _)| line.contains(m.as_str()))?;
            q.remove(i)
        });
        match next? {
            (_, Some(delay)) => {
                tokio::time::sleep(delay).await;
                None
            }
            (_, None) => {
                let mut response = (StatusCode::OK, "{\"result\":").into_response();
                response
                    .headers_mut()
                    .insert("content-length", HeaderValue::from_static("4096"));
                Some(response)
            }
        }
    }
}
