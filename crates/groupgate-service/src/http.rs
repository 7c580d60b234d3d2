//! The worker's HTTP listener: Slack's interaction endpoint, Teams'
//! activity endpoint, signed events (`events`), and probes. Every request is bounded
//! in size and time; a malformed, oversized, unsigned or stale request gets
//! the right 4xx and an entry in the audit trail, never a panic.

use crate::{Service, ServiceError};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use groupgate_chat::{Accepted, Outcome, Refusal};
use groupgate_core::WorkflowId;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::{info, warn};

/// The largest request body accepted (Slack's and Teams' clicks are a few KB).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// How long a request's body may take to arrive.
const BODY_DEADLINE: Duration = Duration::from_secs(10);
/// Clicks handled at once (more wait their turn).
const CLICKS_AT_ONCE: u32 = 64;
/// How long a stopping worker waits for clicks in hand.
const DRAIN_DEADLINE: Duration = Duration::from_secs(15);

/// Clicks being handled, so a stopping worker finishes them first.
#[derive(Debug)]
pub(crate) struct InFlight(Arc<Semaphore>);

impl Default for InFlight {
    fn default() -> Self {
        Self(Arc::new(Semaphore::new(CLICKS_AT_ONCE as usize)))
    }
}

impl InFlight {
    pub(crate) async fn enter(&self) -> Option<OwnedSemaphorePermit> {
        self.0.clone().acquire_owned().await.ok()
    }

    /// Waits (up to a deadline) until no click is in hand.
    pub(crate) async fn drain(&self) -> bool {
        tokio::time::timeout(DRAIN_DEADLINE, self.0.acquire_many(CLICKS_AT_ONCE))
            .await
            .is_ok_and(|p| p.is_ok())
    }
}

/// Reads a request body within [`MAX_BODY_BYTES`] and [`BODY_DEADLINE`].
async fn read_body(body: Body) -> Result<Bytes, Response> {
    match tokio::time::timeout(BODY_DEADLINE, axum::body::to_bytes(body, MAX_BODY_BYTES)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(_)) => Err((
            StatusCode::PAYLOAD_TOO_LARGE,
            "the request body is larger than 64 KiB",
        )
            .into_response()),
        Err(_) => Err((
            StatusCode::REQUEST_TIMEOUT,
            "the request body did not arrive in time",
        )
            .into_response()),
    }
}

/// Refusals of requests that did not authenticate are recorded at most this
/// often per minute one by one (a flood is counted, not copied, into the
/// trail).
const UNAUTHENTICATED_RECORDS_PER_MINUTE: u64 = 60;

#[derive(Debug, Default)]
pub(crate) struct RefusalLimiter {
    minute: AtomicU64,
    count: AtomicU64,
    dropped: AtomicU64,
}

impl RefusalLimiter {
    /// Whether to record this refusal one by one; how many were dropped
    /// since the last recorded one.
    fn admit(&self) -> (bool, u64) {
        let now = u64::try_from(chrono::Utc::now().timestamp() / 60).unwrap_or(0);
        if self.minute.swap(now, Ordering::SeqCst) != now {
            self.count.store(0, Ordering::SeqCst);
        }
        if self.count.fetch_add(1, Ordering::SeqCst) < UNAUTHENTICATED_RECORDS_PER_MINUTE {
            (true, self.dropped.swap(0, Ordering::SeqCst))
        } else {
            self.dropped.fetch_add(1, Ordering::SeqCst);
            (false, 0)
        }
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn json(status: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if body.is_null() {
        status.into_response()
    } else {
        (status, axum::Json(body)).into_response()
    }
}

impl Service {
    /// The listener's routes: `POST /slack/interactions` (Slack's
    /// interactivity request URL), `POST /teams/messages` (the Teams bot's
    /// messaging endpoint), `POST /servicenow/ritm` and `POST /offboard`
    /// (signed events, with `intake.webhook`), `GET /healthz` (the process
    /// answers), `GET /readyz` (store, policy, a recent pass) and
    /// `GET /metrics` (Prometheus). [`Service::listen`] serves
    /// them; a service with an axum server of its own can nest them.
    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/slack/interactions", post(slack))
            .route("/teams/messages", post(teams))
            .route("/servicenow/ritm", post(crate::events::ritm_created))
            .route("/offboard", post(crate::events::offboard))
            .route("/healthz", get(|| async { "ok" }))
            .route("/readyz", get(crate::events::ready))
            .route("/metrics", get(crate::metrics::scrape))
            .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
            .with_state(self.clone())
    }

    /// Serves [`Service::router`] on the `listen` address of the settings
    /// until the engine's stop signal is given; the address bound (port 0
    /// in the settings picks a free one), or `None` when `listen` is not
    /// set.
    pub async fn listen(self: &Arc<Self>) -> Result<Option<SocketAddr>, ServiceError> {
        let Some(address) = self.settings.listen.clone() else {
            return Ok(None);
        };
        let cannot = |source: std::io::Error| ServiceError::Listen {
            address: address.clone(),
            source,
        };
        let listener = tokio::net::TcpListener::bind(&address)
            .await
            .map_err(cannot)?;
        let bound = listener.local_addr().map_err(cannot)?;
        let router = self.router();
        let stop = self.engine.stop_signal();
        tokio::spawn(async move {
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(async move { stop.stopped().await })
                .await;
            if let Err(e) = served {
                warn!(error = %e, "the listener stopped");
            }
        });
        info!(%bound, channels = ?self.approval_channels(), "listening for chat callbacks");
        Ok(Some(bound))
    }

    /// Records a refused click in the audit trail (under its ticket when the
    /// click named one genuinely, else under `chat`).
    pub(crate) async fn audit_refusal(&self, channel: &str, refusal: &Refusal) {
        warn!(channel, reason = %refusal.reason, "chat request refused");
        metrics::counter!(crate::metrics::REFUSED_REQUESTS, "kind" => "chat", "channel" => channel.to_owned())
            .increment(1);
        let what = format!("{channel} click");
        match &refusal.ticket {
            None => {
                self.record_unauthenticated("chat", &what, &refusal.reason)
                    .await
            }
            Some(ticket) => self.record_refusal(ticket, &what, &refusal.reason).await,
        }
    }

    /// Records a refused request that named no genuine ticket under
    /// `scope`, at most [`UNAUTHENTICATED_RECORDS_PER_MINUTE`] one by one (a
    /// flood is counted, not copied, into the trail).
    pub(crate) async fn record_unauthenticated(&self, scope: &str, what: &str, reason: &str) {
        let (record, dropped) = self.refusals.admit();
        if !record {
            return;
        }
        if dropped > 0 {
            self.record_refusal(
                scope,
                what,
                &format!("{dropped} more refused requests were not recorded one by one"),
            )
            .await;
        }
        self.record_refusal(scope, what, reason).await;
    }

    async fn record_refusal(&self, scope: &str, what: &str, reason: &str) {
        if let Err(e) = self.engine.record_incident(scope, what, reason).await {
            warn!(error = %e, "the refusal could not be recorded");
        }
    }

    /// Feeds an accepted click's answer and says whether it counted.
    pub(crate) async fn feed(&self, accepted: &Accepted) -> Result<Outcome, String> {
        let recorded = self
            .engine
            .record_answer(&WorkflowId::new(&accepted.ticket), accepted.answer.clone())
            .await
            .map_err(|e| e.to_string())?;
        metrics::counter!(
            crate::metrics::CHAT_ANSWERS,
            "channel" => accepted.answer.channel.clone(),
            "counted" => recorded.counted.to_string(),
        )
        .increment(1);
        Ok(if recorded.counted {
            Outcome::Counted
        } else {
            Outcome::Refused(
                recorded
                    .refusal
                    .unwrap_or_else(|| "it did not count".to_owned()),
            )
        })
    }

    /// Drives the workflow on after an answer (the next stage's asks, or
    /// the change), off the request's clock.
    pub(crate) fn drive_later(self: &Arc<Self>, ticket: String) {
        let service = self.clone();
        tokio::spawn(async move {
            let Some(_permit) = service.in_flight.enter().await else {
                return;
            };
            if let Err(e) = service
                .engine
                .drive_workflow(&WorkflowId::new(&ticket))
                .await
            {
                warn!(%ticket, error = %e, "driving the workflow after a chat answer failed; the next pass resumes it");
            }
        });
    }
}

async fn slack(State(service): State<Arc<Service>>, headers: HeaderMap, body: Body) -> Response {
    let body = match read_body(body).await {
        Ok(b) => b,
        Err(response) => return response,
    };
    let reply = service
        .slack_interaction(
            header(&headers, "x-slack-request-timestamp"),
            header(&headers, "x-slack-signature"),
            &body,
        )
        .await;
    json(reply.status, reply.body)
}

async fn teams(State(service): State<Arc<Service>>, headers: HeaderMap, body: Body) -> Response {
    let body = match read_body(body).await {
        Ok(b) => b,
        Err(response) => return response,
    };
    let reply = service
        .teams_activity(header(&headers, "authorization"), &body)
        .await;
    json(reply.status, reply.body)
}
