//! What the HTTP emulators share: the log of calls served, scripted failures,
//! slow answers and dropped connections.

use axum::http::{HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// A scripted failure: the status to answer and the `Retry-After` to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ScriptedFailure {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<u64>,
}

/// What happens to the next call whose `METHOD path` contains the pattern.
#[derive(Debug)]
enum Disruption {
    Slow(Duration),
    Drop,
}

/// The script of one emulator: every call it served and what is queued to go
/// wrong. Each queued item applies once, to the first call that matches it.
#[derive(Debug, Default)]
pub(crate) struct Script {
    log: Mutex<Vec<String>>,
    failures: Mutex<VecDeque<(String, ScriptedFailure)>>,
    disruptions: Mutex<VecDeque<(String, Disruption)>>,
}

fn guard<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn take_first<T>(queue: &Mutex<VecDeque<(String, T)>>, line: &str) -> Option<T> {
    let mut q = guard(queue);
    let i = q.iter().position(|(m, _)| line.contains(m.as_str()))?;
    q.remove(i).map(|(_, item)| item)
}

impl Script {
    pub(crate) fn fail_next(&self, matching: &str, status: u16, retry_after: Option<u64>) {
        guard(&self.failures).push_back((
            matching.to_owned(),
            ScriptedFailure {
                status,
                retry_after,
            },
        ));
    }

    pub(crate) fn slow_next(&self, matching: &str, delay: Duration) {
        guard(&self.disruptions).push_back((matching.to_owned(), Disruption::Slow(delay)));
    }

    pub(crate) fn drop_next(&self, matching: &str) {
        guard(&self.disruptions).push_back((matching.to_owned(), Disruption::Drop));
    }

    /// Every call served, as `METHOD path?query`.
    pub(crate) fn requests(&self) -> Vec<String> {
        guard(&self.log).clone()
    }

    /// Called first for every call: applies the disruption queued for it
    /// (waits in real time, or answers with a body cut short) and logs it.
    /// `Ok` carries the call's `METHOD path?query` line for matching.
    pub(crate) async fn admit(&self, method: &Method, uri: &Uri) -> Result<String, Response> {
        let line = format!(
            "{method} {}",
            uri.path_and_query()
                .map(|p| p.as_str())
                .unwrap_or(uri.path())
        );
        match take_first(&self.disruptions, &line) {
            Some(Disruption::Slow(delay)) => tokio::time::sleep(delay).await,
            Some(Disruption::Drop) => {
                let mut response = (StatusCode::OK, "{\"result\":").into_response();
                response
                    .headers_mut()
                    .insert("content-length", HeaderValue::from_static("4096"));
                return Err(response);
            }
            None => {}
        }
        guard(&self.log).push(line.clone());
        Ok(line)
    }

    /// The scripted failure queued for this call, if any (taken off the queue).
    pub(crate) fn take_failure(&self, line: &str) -> Option<ScriptedFailure> {
        take_first(&self.failures, line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scripted_failure_applies_once_to_the_first_matching_call() {
        let script = Script::default();
        script.fail_next("/groups/", 429, Some(3));
        assert_eq!(script.take_failure("GET /users/u1"), None);
        assert_eq!(
            script.take_failure("POST /groups/g1/members/$ref"),
            Some(ScriptedFailure {
                status: 429,
                retry_after: Some(3)
            })
        );
        assert_eq!(script.take_failure("POST /groups/g1/members/$ref"), None);
    }

    #[tokio::test]
    async fn a_dropped_call_is_not_logged_and_a_later_one_is() {
        let script = Script::default();
        script.drop_next("/users");
        let uri: Uri = "/v1.0/users/u1?$select=id".parse().unwrap();
        assert!(script.admit(&Method::GET, &uri).await.is_err());
        let line = script.admit(&Method::GET, &uri).await.unwrap();
        assert_eq!(line, "GET /v1.0/users/u1?$select=id");
        assert_eq!(script.requests(), vec![line]);
    }
}
