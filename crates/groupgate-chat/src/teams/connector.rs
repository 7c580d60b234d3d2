//! The Bot Framework connector calls groupgate makes as a Teams bot: a token
//! for the bot (client credentials), a new thread with a card in the
//! approvals channel, replacing a card, and a notice in a conversation.

use crate::http::{HttpError, bounded_body, checked_url, client};
use chrono::{DateTime, TimeDelta, Utc};
use groupgate_core::Secret;
use groupgate_core::ports::{ErrorClass, PortError, PortResult};
use serde_json::{Value, json};
use tokio::sync::Mutex;

/// How the bot reaches Teams.
#[derive(Clone)]
pub struct TeamsConfig {
    /// The bot's Microsoft app id.
    pub app_id: String,
    /// The bot's client secret, from the environment.
    pub app_secret: Secret,
    /// The token endpoint (for a single-tenant bot:
    /// `https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token`).
    pub token_url: String,
    /// The token scope (default `https://api.botframework.com/.default`).
    pub scope: String,
    /// The connector's service URL (e.g. `https://smba.trafficmanager.net/teams/`).
    pub service_url: String,
    /// The tenant.
    pub tenant_id: String,
    /// The channel approval cards are posted to (`19:…@thread.tacv2`).
    pub channel_id: String,
    /// Plain http to a loopback address (the emulator), nowhere else.
    pub allow_insecure_loopback: bool,
}

impl std::fmt::Debug for TeamsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TeamsConfig")
            .field("app_id", &self.app_id)
            .field("app_secret", &"…")
            .field("token_url", &self.token_url)
            .field("service_url", &self.service_url)
            .field("channel_id", &self.channel_id)
            .finish()
    }
}

/// A posted card: its conversation (the thread) and activity.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TeamsMessage {
    /// The conversation (a channel thread).
    pub conversation_id: String,
    /// The card's activity id.
    pub activity_id: String,
}

#[derive(Debug, Default)]
struct Token {
    value: Option<Secret>,
    expires: Option<DateTime<Utc>>,
}

/// The Bot Framework connector client.
#[derive(Debug)]
pub struct TeamsConnector {
    config: TeamsConfig,
    http: reqwest::Client,
    token: Mutex<Token>,
}

fn classify(what: &str, status: u16, retry_after: Option<u64>) -> PortError {
    let class = match status {
        429 | 500..=599 => ErrorClass::Transient {
            retry_after_seconds: retry_after,
        },
        401 | 403 => ErrorClass::Forbidden,
        404 => ErrorClass::NotFound,
        400 | 413 => ErrorClass::Invalid,
        409 | 412 => ErrorClass::Conflict,
        _ => ErrorClass::Permanent,
    };
    let hint = match status {
        401 => " (check the bot's app id and GROUPGATE_TEAMS_APP_SECRET)",
        403 => " (is the app installed in the team of the approvals channel?)",
        _ => "",
    };
    PortError::new(class, format!("Teams {what}: HTTP {status}{hint}"))
}

fn card_activity(card: &Value, text: &str) -> Value {
    json!({
        "type": "message",
        "text": text,
        "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}],
    })
}

impl TeamsConnector {
    /// A client for `config`.
    pub fn new(config: TeamsConfig) -> Result<Self, HttpError> {
        let token_url = checked_url(&config.token_url, config.allow_insecure_loopback)?;
        let service_url = checked_url(&config.service_url, config.allow_insecure_loopback)?;
        let http = client(config.allow_insecure_loopback)?;
        Ok(Self {
            config: TeamsConfig {
                token_url,
                service_url,
                ..config
            },
            http,
            token: Mutex::new(Token::default()),
        })
    }

    /// The bot's access token, fetched again shortly before it expires.
    async fn token(&self) -> PortResult<Secret> {
        let mut token = self.token.lock().await;
        if let (Some(value), Some(expires)) = (&token.value, token.expires)
            && Utc::now() + TimeDelta::seconds(120) < expires
        {
            return Ok(value.clone());
        }
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.config.app_id.as_str()),
            ("client_secret", self.config.app_secret.expose()),
            ("scope", self.config.scope.as_str()),
        ];
        let answer = self
            .http
            .post(&self.config.token_url)
            .form(&form)
            .send()
            .await
            .map_err(|e| PortError::transient(format!("Teams token: {}", e.without_url()), None))?;
        let status = answer.status().as_u16();
        let bytes = bounded_body(answer, crate::http::MAX_ANSWER_BYTES)
            .await
            .map_err(|e| PortError::transient(format!("Teams token: {e}"), None))?;
        if status != 200 {
            return Err(classify("token", status, None));
        }
        let value: Value = serde_json::from_slice(&bytes).map_err(|_| {
            PortError::new(ErrorClass::Invalid, "Teams token: the answer is not JSON")
        })?;
        let access = value
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| PortError::new(ErrorClass::Invalid, "Teams token: no access_token"))?;
        let lifetime = value
            .get("expires_in")
            .and_then(Value::as_i64)
            .unwrap_or(3600);
        let secret = Secret::new(access);
        token.value = Some(secret.clone());
        token.expires = Some(Utc::now() + TimeDelta::seconds(lifetime));
        Ok(secret)
    }

    async fn send(
        &self,
        what: &str,
        method: reqwest::Method,
        path: &str,
        body: &Value,
    ) -> PortResult<Value> {
        let token = self.token().await?;
        let url = format!(
            "{}/{}",
            self.config.service_url,
            path.trim_start_matches('/')
        );
        let answer = self
            .http
            .request(method, &url)
            .bearer_auth(token.expose())
            .json(body)
            .send()
            .await
            .map_err(|e| {
                PortError::transient(format!("Teams {what}: {}", e.without_url()), None)
            })?;
        let status = answer.status().as_u16();
        let retry_after = answer
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .map(|v| v.ceil() as u64);
        let bytes = bounded_body(answer, crate::http::MAX_ANSWER_BYTES)
            .await
            .map_err(|e| PortError::transient(format!("Teams {what}: {e}"), None))?;
        if status == 401 {
            // The token may have been revoked early: fetch a new one next time.
            self.token.lock().await.value = None;
        }
        if !(200..300).contains(&status) {
            return Err(classify(what, status, retry_after));
        }
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&bytes).map_err(|_| {
            PortError::new(
                ErrorClass::Invalid,
                format!("Teams {what}: the answer is not JSON"),
            )
        })
    }

    /// Starts a thread in the approvals channel with `card`.
    pub async fn post_card(&self, card: &Value, text: &str) -> PortResult<TeamsMessage> {
        let body = json!({
            "isGroup": true,
            "channelData": {"channel": {"id": self.config.channel_id}, "tenant": {"id": self.config.tenant_id}},
            "tenantId": self.config.tenant_id,
            "activity": card_activity(card, text),
        });
        let answer = self
            .send(
                "create conversation",
                reqwest::Method::POST,
                "v3/conversations",
                &body,
            )
            .await?;
        let field = |name: &str| {
            answer
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| {
                    PortError::new(
                        ErrorClass::Invalid,
                        format!("Teams create conversation: no `{name}` in the answer"),
                    )
                })
        };
        Ok(TeamsMessage {
            conversation_id: field("id")?,
            activity_id: field("activityId")?,
        })
    }

    /// Replaces a posted card.
    pub async fn update_card(
        &self,
        message: &TeamsMessage,
        card: &Value,
        text: &str,
    ) -> PortResult<()> {
        let mut activity = card_activity(card, text);
        activity["id"] = Value::String(message.activity_id.clone());
        let path = format!(
            "v3/conversations/{}/activities/{}",
            encode(&message.conversation_id),
            encode(&message.activity_id)
        );
        self.send("update activity", reqwest::Method::PUT, &path, &activity)
            .await
            .map(|_| ())
    }

    /// Posts `card` as a new message in an existing conversation (a notice
    /// in a card's thread).
    pub async fn reply(&self, conversation_id: &str, card: &Value, text: &str) -> PortResult<()> {
        let path = format!("v3/conversations/{}/activities", encode(conversation_id));
        self.send(
            "send activity",
            reqwest::Method::POST,
            &path,
            &card_activity(card, text),
        )
        .await
        .map(|_| ())
    }

    /// The approvals channel's id.
    pub fn channel_id(&self) -> &str {
        &self.config.channel_id
    }
}

/// A path segment, percent-encoded (conversation ids hold `:` and `@`).
fn encode(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}
