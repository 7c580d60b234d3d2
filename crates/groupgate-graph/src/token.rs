//! OAuth 2.0 client credentials against the identity platform, cached and
//! refreshed ahead of expiry.

use crate::errors::{Operation, classify};
use crate::{GraphConfig, Secret};
use groupgate_core::ports::{PortError, PortResult};
use serde::Deserialize;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Refresh this long before the token expires.
const MARGIN: Duration = Duration::from_secs(300);

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: u64,
}

#[derive(Debug)]
struct Cached {
    token: Secret,
    refresh_at: Instant,
}

/// A cached app token.
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    cached: Mutex<Option<Cached>>,
}

impl TokenCache {
    /// A valid token: the cached one, or a fresh one when it is near expiry
    /// or `force` (after a 401).
    pub(crate) async fn get(
        &self,
        http: &reqwest::Client,
        config: &GraphConfig,
        force: bool,
    ) -> PortResult<Secret> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached
            .as_ref()
            .filter(|c| !force && Instant::now() < c.refresh_at)
        {
            return Ok(c.token.clone());
        }
        let url = format!(
            "{}/{}/oauth2/v2.0/token",
            config.authority_url.trim_end_matches('/'),
            config.tenant_id
        );
        let scope = config.scope();
        let form = [
            ("client_id", config.client_id.as_str()),
            ("scope", scope.as_str()),
            ("client_secret", config.client_secret.expose()),
            ("grant_type", "client_credentials"),
        ];
        let answer = http.post(&url).form(&form).send().await.map_err(|e| {
            PortError::transient(
                format!("token endpoint unreachable: {}", without_url(&e)),
                None,
            )
        })?;
        let status = answer.status().as_u16();
        let body = crate::client::read_body(answer).await?;
        if status != 200 {
            let mut error = classify(status, None, &body, None, Operation::Token);
            // The identity platform's body is {error, error_description}, not Graph's envelope.
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&body) {
                let code = v.get("error").and_then(|c| c.as_str()).unwrap_or_default();
                let first = v
                    .get("error_description")
                    .and_then(|d| d.as_str())
                    .and_then(|d| d.lines().next())
                    .unwrap_or_default();
                error.message = format!("token request refused ({status} {code}): {first}");
            }
            return Err(error);
        }
        let parsed: TokenAnswer = serde_json::from_str(&body).map_err(|e| {
            PortError::permanent(format!(
                "token endpoint answered without a usable token: {e}"
            ))
        })?;
        let lifetime = Duration::from_secs(parsed.expires_in);
        let token = Secret::new(parsed.access_token);
        *cached = Some(Cached {
            token: token.clone(),
            refresh_at: Instant::now() + lifetime.saturating_sub(MARGIN.min(lifetime / 2)),
        });
        Ok(token)
    }
}

/// A reqwest error's text without the URL (which may carry a tenant name).
pub(crate) fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "the answer could not be read"
    } else {
        "request failed"
    };
    kind.to_owned()
}
