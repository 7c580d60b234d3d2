//! The HTTP client for the Table API: authentication, envelopes, paging.

use crate::ServiceNowConfig;
use crate::config::Auth;
use crate::errors::classify;
use groupgate_core::Secret;
use groupgate_core::input::BoundedBytes;
use groupgate_core::ports::{PortError, PortResult};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::Method;
use serde_json::Value;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// The longest answer read from the instance (32 MiB).
pub(crate) const MAX_ANSWER_BYTES: usize = 32 << 20;

/// An OAuth access token, the refresh token that came with it, and until
/// when the access token is used without asking again.
#[derive(Debug)]
struct CachedToken {
    access: Secret,
    refresh: Option<Secret>,
    fresh_until: Instant,
}

/// ServiceNow as groupgate's ticket system and approval channel.
#[derive(Debug)]
pub struct ServiceNowClient {
    http: reqwest::Client,
    pub(crate) config: ServiceNowConfig,
    token: Mutex<Option<CachedToken>>,
    /// RITM number → sys_id, learnt once.
    pub(crate) ritm_ids: Mutex<HashMap<String, String>>,
    /// `sys_user` sys_id → the person's identity attributes, learnt once:
    /// every poll of the answers names the same approvers.
    pub(crate) people: Mutex<HashMap<String, crate::identity::Person>>,
    /// Approval record sys_id → the stage and binding it was created for.
    pub(crate) asked_records: Mutex<HashMap<String, crate::approvals::Marker>>,
}

fn encode(value: &str) -> String {
    utf8_percent_encode(value, NON_ALPHANUMERIC).to_string()
}

fn network(what: &str, e: &reqwest::Error) -> PortError {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    PortError::transient(format!("ServiceNow {what}: {kind}"), None)
}

impl ServiceNowClient {
    /// A client for `config` (rustls; no OpenSSL). Fails when the instance
    /// is not `https` (see [`ServiceNowConfig::validate`]).
    pub fn new(config: ServiceNowConfig) -> Result<Self, crate::ConfigError> {
        config.validate()?;
        // No redirects: the Table API does not redirect, and a redirect is
        // where credentials could leave.
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .user_agent(format!("groupgate/{}", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .https_only(config.transport == groupgate_core::endpoint::Transport::HttpsOnly)
            .build()
            .map_err(|_| crate::ConfigError::BadUrl(config.instance_url.clone()))?;
        Ok(Self {
            http,
            config,
            token: Mutex::new(None),
            ritm_ids: Mutex::new(HashMap::new()),
            people: Mutex::new(HashMap::new()),
            asked_records: Mutex::new(HashMap::new()),
        })
    }

    /// The OAuth grant the settings describe (`None` for Basic).
    fn grant(&self) -> Option<Vec<(&'static str, String)>> {
        match &self.config.auth {
            Auth::Basic { .. } | Auth::ApiKey { .. } => None,
            Auth::OAuthPassword {
                client_id,
                client_secret,
                user,
                password,
            } => Some(vec![
                ("grant_type", "password".to_owned()),
                ("client_id", client_id.clone()),
                ("client_secret", client_secret.expose().to_owned()),
                ("username", user.clone()),
                ("password", password.expose().to_owned()),
            ]),
            Auth::OAuthClientCredentials {
                client_id,
                client_secret,
            } => Some(vec![
                ("grant_type", "client_credentials".to_owned()),
                ("client_id", client_id.clone()),
                ("client_secret", client_secret.expose().to_owned()),
            ]),
        }
    }

    /// The `refresh_token` grant for a refresh token the instance issued.
    fn refresh_grant(&self, refresh: &Secret) -> Option<Vec<(&'static str, String)>> {
        let (client_id, client_secret) = match &self.config.auth {
            Auth::Basic { .. } | Auth::ApiKey { .. } => return None,
            Auth::OAuthPassword {
                client_id,
                client_secret,
                ..
            }
            | Auth::OAuthClientCredentials {
                client_id,
                client_secret,
            } => (client_id, client_secret),
        };
        Some(vec![
            ("grant_type", "refresh_token".to_owned()),
            ("client_id", client_id.clone()),
            ("client_secret", client_secret.expose().to_owned()),
            ("refresh_token", refresh.expose().to_owned()),
        ])
    }

    /// A bearer token: the cached one while it is fresh (and not `force`d
    /// out by a 401), else one from the refresh token the instance issued
    /// (so the password is not sent again), else from the full grant.
    async fn bearer(&self, force: bool) -> PortResult<Option<Secret>> {
        let Some(grant) = self.grant() else {
            return Ok(None);
        };
        let mut cached = self.token.lock().await;
        if let Some(token) = cached
            .as_ref()
            .filter(|t| !force && Instant::now() < t.fresh_until)
        {
            return Ok(Some(token.access.clone()));
        }
        let refreshed = match cached
            .as_ref()
            .and_then(|t| t.refresh.as_ref())
            .and_then(|r| self.refresh_grant(r))
        {
            // A refused refresh token (expired, revoked) falls back to the grant.
            Some(form) => self.request_token(&form).await.ok(),
            None => None,
        };
        let token = match refreshed {
            Some(token) => token,
            None => self.request_token(&grant).await?,
        };
        let access = token.access.clone();
        *cached = Some(token);
        Ok(Some(access))
    }

    async fn request_token(&self, form: &[(&'static str, String)]) -> PortResult<CachedToken> {
        let answer = self
            .http
            .post(format!("{}/oauth_token.do", self.config.instance_url))
            .form(form)
            .send()
            .await
            .map_err(|e| network("oauth_token.do", &e))?;
        let status = answer.status().as_u16();
        let body = read_body(answer, "oauth_token.do").await?;
        if status != 200 {
            let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
            let error = v.get("error").and_then(Value::as_str).unwrap_or("refused");
            let mut e = classify(status, None, "{}", "oauth_token.do");
            e.message = format!("ServiceNow token request refused ({status} {error})");
            return Err(e);
        }
        let v: Value = serde_json::from_str(&body).map_err(|e| {
            PortError::permanent(format!("oauth_token.do answered without JSON: {e}"))
        })?;
        let token = v
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                PortError::permanent("oauth_token.do answered without an access_token")
            })?;
        let lifetime = v.get("expires_in").and_then(Value::as_u64).unwrap_or(1800);
        Ok(CachedToken {
            access: Secret::new(token),
            refresh: v
                .get("refresh_token")
                .and_then(Value::as_str)
                .filter(|r| !r.is_empty())
                .map(Secret::new),
            fresh_until: Instant::now()
                + Duration::from_secs(lifetime.saturating_sub(60).max(lifetime / 2)),
        })
    }

    /// One call; with OAuth, a 401 refreshes the token once and retries.
    async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&Value>,
    ) -> PortResult<(u16, reqwest::header::HeaderMap, String)> {
        let url = format!("{}{path_and_query}", self.config.instance_url);
        let what = format!(
            "{method} {}",
            path_and_query.split('?').next().unwrap_or_default()
        );
        let mut refreshed = false;
        loop {
            let mut request = self
                .http
                .request(method.clone(), &url)
                .header("Accept", "application/json");
            match (&self.config.auth, self.bearer(refreshed).await?) {
                (Auth::Basic { user, password }, _) => {
                    request = request.basic_auth(user, Some(password.expose()))
                }
                (Auth::ApiKey { key }, _) => request = request.header("x-sn-apikey", key.expose()),
                (_, Some(token)) => request = request.bearer_auth(token.expose()),
                (_, None) => {}
            }
            if let Some(b) = body {
                request = request.json(b);
            }
            let began = std::time::Instant::now();
            let sent = request.send().await;
            metrics::histogram!("groupgate_http_request_duration_seconds", "service" => "servicenow")
                .record(began.elapsed().as_secs_f64());
            let status_label = match &sent {
                Ok(r) => r.status().as_u16().to_string(),
                Err(_) => "unreachable".to_owned(),
            };
            metrics::counter!("groupgate_http_requests_total", "service" => "servicenow", "method" => method.to_string(), "status" => status_label)
                .increment(1);
            let response = sent.map_err(|e| network(&what, &e))?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let text = read_body(response, &what).await?;
            let renewable = !matches!(self.config.auth, Auth::Basic { .. } | Auth::ApiKey { .. });
            if status == 401 && !refreshed && renewable {
                refreshed = true;
                continue;
            }
            if !(200..300).contains(&status) {
                let retry_after = headers.get("retry-after").and_then(|v| v.to_str().ok());
                return Err(classify(status, retry_after, &text, &what));
            }
            return Ok((status, headers, text));
        }
    }

    fn result(text: &str, what: &str) -> PortResult<Value> {
        let v: Value = serde_json::from_str(text).map_err(|e| {
            PortError::permanent(format!("ServiceNow {what} answered without JSON: {e}"))
        })?;
        v.get("result").cloned().ok_or_else(|| {
            PortError::permanent(format!("ServiceNow {what} answered without a `result`"))
        })
    }

    /// One record by sys_id (`None` when it does not exist or is hidden).
    pub(crate) async fn get(
        &self,
        table: &str,
        sys_id: &str,
        fields: &str,
    ) -> PortResult<Option<Value>> {
        let path = format!(
            "/api/now/table/{table}/{}?sysparm_fields={}&sysparm_exclude_reference_link=true",
            encode(sys_id),
            encode(fields)
        );
        match self.send(Method::GET, &path, None).await {
            Ok((_, _, text)) => Self::result(&text, table).map(Some),
            Err(e) if e.class == groupgate_core::ports::ErrorClass::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every record matching an encoded query (built only from validated
    /// values), page by page.
    pub(crate) async fn query(
        &self,
        table: &str,
        query: &str,
        fields: &str,
        max: usize,
    ) -> PortResult<Vec<Value>> {
        let mut rows = Vec::new();
        let mut offset = 0;
        let page_size = self.config.page_size.clamp(1, crate::config::MAX_PAGE_SIZE);
        loop {
            let path = format!(
                "/api/now/table/{table}?sysparm_query={}&sysparm_fields={}&sysparm_exclude_reference_link=true&sysparm_limit={page_size}&sysparm_offset={offset}",
                encode(query),
                encode(fields)
            );
            let (_, headers, text) = self.send(Method::GET, &path, None).await?;
            let page = Self::result(&text, table)?;
            let page = page.as_array().cloned().unwrap_or_default();
            let got = page.len();
            rows.extend(page);
            offset += got;
            let total = headers
                .get("x-total-count")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<usize>().ok());
            let more = match total {
                Some(total) => offset < total,
                None => got == page_size,
            };
            if !more || got == 0 || rows.len() >= max {
                break;
            }
        }
        rows.truncate(max);
        Ok(rows)
    }

    /// Inserts a record; its sys_id.
    pub(crate) async fn insert(&self, table: &str, record: &Value) -> PortResult<String> {
        let (_, _, text) = self
            .send(
                Method::POST,
                &format!("/api/now/table/{table}"),
                Some(record),
            )
            .await?;
        let v = Self::result(&text, table)?;
        v.get("sys_id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| {
                PortError::permanent(format!(
                    "ServiceNow insert into {table} answered without a sys_id"
                ))
            })
    }

    /// Updates fields of a record.
    pub(crate) async fn patch(&self, table: &str, sys_id: &str, fields: &Value) -> PortResult<()> {
        self.send(
            Method::PATCH,
            &format!("/api/now/table/{table}/{}", encode(sys_id)),
            Some(fields),
        )
        .await
        .map(|_| ())
    }
}

/// An answer's text, read up to [`MAX_ANSWER_BYTES`].
async fn read_body(mut response: reqwest::Response, what: &str) -> PortResult<String> {
    let mut body = BoundedBytes::new(MAX_ANSWER_BYTES);
    let too_large = |e: groupgate_core::input::TooLarge| {
        PortError::permanent(format!("ServiceNow {what}: {e}"))
    };
    body.expect_length(response.content_length())
        .map_err(too_large)?;
    while let Some(chunk) = response.chunk().await.map_err(|e| network(what, &e))? {
        body.push(&chunk).map_err(too_large)?;
    }
    Ok(body.into_text())
}

/// A field's raw value as a string (reference fields may come as objects).
pub(crate) fn field(row: &Value, name: &str) -> String {
    match row.get(name) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(o)) => o
            .get("value")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}
