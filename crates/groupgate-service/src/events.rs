//! Events pushed to the worker: ServiceNow's "RITM created" notification
//! (`POST /servicenow/ritm`) and an explicit offboarding
//! (`POST /offboard`), both signed with the shared webhook secret, and the
//! readiness probe (`GET /readyz`).
//!
//! A request is signed as `X-Groupgate-Signature: sha256=<base64 HMAC>` of
//! `<X-Groupgate-Timestamp>.<raw body>` under `GROUPGATE_WEBHOOK_SECRET`
//! (what ServiceNow's `GlideCertificateEncryption.generateMac` computes),
//! compared in constant time, within five minutes of now.

use crate::Service;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use groupgate_core::{Secret, TicketRef, WorkflowId};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::json;
use sha2::Sha256;
use std::sync::Arc;
use tracing::{info, info_span, warn};

/// How far a signed request's timestamp may be from now.
pub const WEBHOOK_MAX_SKEW_SECONDS: i64 = 300;
/// The signature header.
pub const SIGNATURE_HEADER: &str = "x-groupgate-signature";
/// The timestamp header (Unix seconds).
pub const TIMESTAMP_HEADER: &str = "x-groupgate-timestamp";

/// The shared secret of signed events (at least 32 bytes).
#[derive(Clone)]
pub struct WebhookKey(Secret);

impl std::fmt::Debug for WebhookKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookKey(…)")
    }
}

/// Why a signed request is refused (each answered 401).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// A header is missing.
    #[error("the request has no `{0}` header")]
    Missing(&'static str),
    /// The timestamp is not Unix seconds.
    #[error("`X-Groupgate-Timestamp` is not a number of seconds")]
    BadTimestamp,
    /// Too far from now: a possible replay.
    #[error(
        "the request is {0} s away from now (at most {WEBHOOK_MAX_SKEW_SECONDS} s): a replay, or a clock to fix"
    )]
    Stale(i64),
    /// The signature does not match.
    #[error(
        "the signature does not match the body: not signed with GROUPGATE_WEBHOOK_SECRET, or the body was changed"
    )]
    Mismatch,
}

impl WebhookKey {
    /// A key from secret text of at least 32 bytes.
    pub fn new(secret: Secret) -> Result<Self, String> {
        let len = secret.expose().len();
        if len < 32 {
            return Err(format!(
                "GROUPGATE_WEBHOOK_SECRET must be at least 32 bytes (it is {len}); generate one with `openssl rand -base64 48`"
            ));
        }
        Ok(Self(secret))
    }

    #[expect(
        clippy::expect_used,
        reason = "HMAC takes keys of any length: `new_from_slice` cannot fail"
    )]
    fn mac(&self, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.0.expose().as_bytes())
            .expect("HMAC accepts any key length");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// The `X-Groupgate-Signature` of `body` at `timestamp` (what the
    /// sender computes).
    ///
    /// ```
    /// use groupgate_core::Secret;
    /// use groupgate_service::WebhookKey;
    /// let key = WebhookKey::new(Secret::new("s".repeat(32))).unwrap();
    /// let signature = key.sign("1700000000", b"{}");
    /// assert!(signature.starts_with("sha256="));
    /// assert!(key.verify(Some("1700000000"), Some(&signature), b"{}", 1_700_000_010).is_ok());
    /// assert!(key.verify(Some("1700000000"), Some(&signature), b"{ }", 1_700_000_010).is_err());
    /// ```
    pub fn sign(&self, timestamp: &str, body: &[u8]) -> String {
        format!(
            "sha256={}",
            STANDARD.encode(self.mac(timestamp, body).finalize().into_bytes())
        )
    }

    /// Checks a request's headers against its raw body at `now` (Unix
    /// seconds).
    pub fn verify(
        &self,
        timestamp: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
        now: i64,
    ) -> Result<(), WebhookError> {
        let timestamp = timestamp
            .map(str::trim)
            .ok_or(WebhookError::Missing("X-Groupgate-Timestamp"))?;
        let signature = signature.ok_or(WebhookError::Missing("X-Groupgate-Signature"))?;
        let at: i64 = timestamp.parse().map_err(|_| WebhookError::BadTimestamp)?;
        let skew = now.saturating_sub(at);
        if skew.abs() > WEBHOOK_MAX_SKEW_SECONDS {
            return Err(WebhookError::Stale(skew));
        }
        let given = signature
            .trim()
            .strip_prefix("sha256=")
            .and_then(|b64| STANDARD.decode(b64).ok())
            .ok_or(WebhookError::Mismatch)?;
        self.mac(timestamp, body)
            .verify_slice(&given)
            .map_err(|_| WebhookError::Mismatch)
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn problem(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({"error": message.into()}))).into_response()
}

impl Service {
    /// Checks a signed event; a refusal is answered and recorded.
    async fn signed(&self, what: &str, headers: &HeaderMap, body: &[u8]) -> Result<(), Response> {
        let Some(key) = &self.webhook else {
            return Err(StatusCode::NOT_FOUND.into_response());
        };
        let now = self.engine.now().timestamp();
        match key.verify(
            header(headers, TIMESTAMP_HEADER),
            header(headers, SIGNATURE_HEADER),
            body,
            now,
        ) {
            Ok(()) => Ok(()),
            Err(e) => {
                warn!(what, reason = %e, "signed request refused");
                metrics::counter!(crate::metrics::REFUSED_REQUESTS, "kind" => "webhook", "channel" => what.to_owned())
                    .increment(1);
                self.record_unauthenticated("webhook", what, &e.to_string())
                    .await;
                Err(problem(StatusCode::UNAUTHORIZED, e.to_string()))
            }
        }
    }

    /// Whether the RITM's catalog item is one the worker handles (every
    /// item when `intake.catalog_items` is empty).
    async fn handles(&self, number: &str) -> Result<bool, String> {
        let items = &self.settings.intake.catalog_items;
        if items.is_empty() {
            return Ok(true);
        }
        match self.servicenow.ritm_catalog_item(number).await {
            Ok(Some(item)) => Ok(items.contains(&item)),
            Ok(None) => Ok(false),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Takes in a notified RITM in the background (the sender is answered
    /// at once; a failure is retried by the poller).
    fn take_in_later(self: &Arc<Self>, number: String) {
        let service = self.clone();
        tokio::spawn(async move {
            let span = info_span!("workflow", ticket = %number);
            let _entered = span.enter();
            match service.handles(&number).await {
                Ok(true) => {}
                Ok(false) => {
                    info!("notified RITM is not of a configured catalog item; ignored");
                    return;
                }
                Err(e) => {
                    warn!(error = %e, "cannot read the notified RITM; the poller will find it");
                    return;
                }
            }
            match service.engine.intake(&TicketRef::new(number.clone())).await {
                Ok(wf) => info!(phase = wf.phase.name(), "taken in from a notification"),
                Err(e) => {
                    warn!(error = %e, "cannot take the notified RITM in; the poller tries again")
                }
            }
        });
    }
}

/// `POST /servicenow/ritm`: a RITM was created.
pub(crate) async fn ritm_created(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refused) = service
        .signed("servicenow notification", &headers, &body)
        .await
    {
        return refused;
    }
    let notification = match groupgate_servicenow::parse_ritm_created(&body) {
        Ok(n) => n,
        Err(e) => return problem(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let id = WorkflowId::new(notification.number.as_str());
    match service.engine.summary(&id).await {
        Ok(Some(_)) => {
            return (
                StatusCode::OK,
                axum::Json(json!({"ticket": notification.number, "status": "known"})),
            )
                .into_response();
        }
        Ok(None) => {}
        Err(e) => {
            warn!(error = %e, "the store could not be read for a notification");
            return problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "the store cannot be read right now; send again later",
            );
        }
    }
    service.take_in_later(notification.number.clone());
    (
        StatusCode::ACCEPTED,
        axum::Json(json!({"ticket": notification.number, "status": "accepted"})),
    )
        .into_response()
}

/// The body of `POST /offboard`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OffboardRequest {
    /// The person: a UPN or a directory object id.
    user: String,
    /// Who asks (for the audit trail).
    operator: String,
}

/// `POST /offboard`: queue an offboarding for the next pass.
pub(crate) async fn offboard(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refused) = service.signed("offboarding request", &headers, &body).await {
        return refused;
    }
    let request: OffboardRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return problem(
                StatusCode::BAD_REQUEST,
                format!(
                    "the body is not an offboarding request: {e}; send {{\"user\": \"upn or object id\", \"operator\": \"who asks\"}}"
                ),
            );
        }
    };
    let user = request.user.trim();
    let operator = request.operator.trim();
    for (field, value, max) in [("user", user, 256), ("operator", operator, 128)] {
        if value.is_empty() || value.chars().count() > max || value.chars().any(char::is_control) {
            return problem(
                StatusCode::BAD_REQUEST,
                format!("`{field}` must be 1 to {max} characters without control characters"),
            );
        }
    }
    match service.queue_offboarding(user, operator) {
        Ok(queued) => {
            info!(%user, %operator, queued, "offboarding queued by request");
            (
                StatusCode::ACCEPTED,
                axum::Json(json!({"queued": queued, "user": user})),
            )
                .into_response()
        }
        Err(e) => {
            warn!(error = %e, "an offboarding could not be queued");
            problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "the offboarding could not be queued; send again",
            )
        }
    }
}

/// `GET /readyz`: the store answers, a policy is loaded, and the last pass
/// ended recently (within three pass intervals and a minute).
pub(crate) async fn ready(State(service): State<Arc<Service>>) -> Response {
    let mut problems = Vec::new();
    // One indexed read: the store answers.
    if let Err(e) = groupgate_core::ports::Store::head(&*service.store).await {
        problems.push(format!("the store does not answer: {e}"));
    }
    let allowed = service.settings.worker.pass_seconds * 3.0 + 60.0;
    let age = service
        .last_pass
        .lock()
        .ok()
        .and_then(|l| *l)
        .map(|t| t.elapsed().as_secs_f64());
    match age {
        None => problems.push("no pass has finished yet".to_owned()),
        Some(a) if a > allowed => problems.push(format!(
            "the last pass ended {a:.0} s ago (more than {allowed:.0} s)"
        )),
        Some(_) => {}
    }
    let body = json!({
        "ready": problems.is_empty(),
        "policy_digest": service.engine.policy().digest(),
        "last_pass_seconds_ago": age,
        "problems": problems,
    });
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn key() -> WebhookKey {
        WebhookKey::new(Secret::new("0123456789abcdef0123456789abcdef")).unwrap()
    }

    #[test]
    fn what_servicenow_computes_is_accepted() {
        // HMAC-SHA256("0123…cdef", "1700000000.{}") in base64, computed with
        // `printf '1700000000.{}' | openssl dgst -sha256 -hmac … -binary | base64`.
        let expected = "sha256=QXrfNrkBdy9lhZenbTKWlOM15l/AhJ13FcPKM0BjCbU=";
        assert_eq!(key().sign("1700000000", b"{}"), expected);
        assert_eq!(
            key().verify(Some("1700000000"), Some(expected), b"{}", 1_700_000_100),
            Ok(())
        );
    }

    #[test]
    fn everything_else_is_refused() {
        let k = key();
        let good = k.sign("1700000000", b"{}");
        let now = 1_700_000_000;
        assert_eq!(
            k.verify(None, Some(&good), b"{}", now),
            Err(WebhookError::Missing("X-Groupgate-Timestamp"))
        );
        assert_eq!(
            k.verify(Some("1700000000"), None, b"{}", now),
            Err(WebhookError::Missing("X-Groupgate-Signature"))
        );
        assert_eq!(
            k.verify(Some("soon"), Some(&good), b"{}", now),
            Err(WebhookError::BadTimestamp)
        );
        assert_eq!(
            k.verify(Some("1700000000"), Some(&good), b"{}", now + 301),
            Err(WebhookError::Stale(301))
        );
        assert_eq!(
            k.verify(Some("1700000000"), Some(&good), b"{}", now - 301),
            Err(WebhookError::Stale(-301))
        );
        // The timestamp is signed: moving it breaks the signature.
        assert_eq!(
            k.verify(Some("1700000001"), Some(&good), b"{}", now),
            Err(WebhookError::Mismatch)
        );
        for bad in [
            "",
            "sha256=",
            "sha256=!!!",
            "md5=abc",
            &good[..good.len() - 4],
        ] {
            assert_eq!(
                k.verify(Some("1700000000"), Some(bad), b"{}", now),
                Err(WebhookError::Mismatch),
                "{bad}"
            );
        }
        let other = WebhookKey::new(Secret::new("x".repeat(32))).unwrap();
        assert_eq!(
            other.verify(Some("1700000000"), Some(&good), b"{}", now),
            Err(WebhookError::Mismatch)
        );
        assert!(WebhookKey::new(Secret::new("short")).is_err());
        assert_eq!(format!("{k:?}"), "WebhookKey(…)");
    }
}
