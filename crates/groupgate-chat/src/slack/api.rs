//! The Slack Web API calls groupgate makes: post and update messages, answer
//! through a `response_url`, and find people (`users.info`,
//! `users.lookupByEmail`). Slack reports most errors as HTTP 200 with
//! `{"ok": false, "error": …}`; each is classified for the engine.

use crate::http::{HttpError, bounded_body, checked_url, client};
use groupgate_core::Secret;
use groupgate_core::ports::{ErrorClass, PortError, PortResult};
use serde_json::{Value, json};

/// How to reach Slack.
#[derive(Clone)]
pub struct SlackConfig {
    /// The Web API's base (default `https://slack.com/api`).
    pub api_url: String,
    /// The bot token (`xoxb-…`), from the environment.
    pub bot_token: Secret,
    /// Plain http to a loopback address (the emulator), nowhere else.
    pub allow_insecure_loopback: bool,
}

impl std::fmt::Debug for SlackConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackConfig")
            .field("api_url", &self.api_url)
            .field("bot_token", &"…")
            .finish()
    }
}

/// A posted message: where, and its timestamp (Slack's message id).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SlackMessage {
    /// The channel (or the DM's channel).
    pub channel: String,
    /// The message's `ts`.
    pub ts: String,
}

/// A Slack user as groupgate needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackUser {
    /// Their Slack id.
    pub id: String,
    /// Their e-mail (needs the `users:read.email` scope), which the
    /// directory maps to an object id.
    pub email: Option<String>,
    /// Whether Slack says the account was deleted or deactivated.
    pub deleted: bool,
}

/// The Slack Web API client.
#[derive(Debug, Clone)]
pub struct SlackApi {
    config: SlackConfig,
    http: reqwest::Client,
}

fn classify(method: &str, status: u16, retry_after: Option<u64>, error: &str) -> PortError {
    let class = match (status, error) {
        (429, _) | (_, "ratelimited") => ErrorClass::Transient {
            retry_after_seconds: retry_after,
        },
        (500..=599, _)
        | (_, "internal_error" | "fatal_error" | "service_unavailable" | "request_timeout") => {
            ErrorClass::Transient {
                retry_after_seconds: retry_after,
            }
        }
        (
            _,
            "invalid_auth"
            | "not_authed"
            | "account_inactive"
            | "token_revoked"
            | "token_expired"
            | "missing_scope"
            | "no_permission"
            | "not_allowed_token_type"
            | "ekm_access_denied",
        ) => ErrorClass::Forbidden,
        (
            _,
            "channel_not_found" | "user_not_found" | "users_not_found" | "message_not_found"
            | "not_in_channel" | "is_archived",
        ) => ErrorClass::NotFound,
        (
            _,
            "invalid_blocks"
            | "invalid_blocks_format"
            | "msg_too_long"
            | "too_many_attachments"
            | "invalid_arguments"
            | "no_text"
            | "invalid_arg_name",
        ) => ErrorClass::Invalid,
        _ => ErrorClass::Permanent,
    };
    let hint = match error {
        "missing_scope" => " (the app lacks a scope: see docs/adapters/slack.md)",
        "invalid_auth" | "not_authed" | "token_revoked" => " (check GROUPGATE_SLACK_BOT_TOKEN)",
        "not_in_channel" => " (invite the app to the channel)",
        _ => "",
    };
    PortError::new(class, format!("Slack {method}: {error}{hint}"))
}

impl SlackApi {
    /// A client for `config`.
    pub fn new(config: SlackConfig) -> Result<Self, HttpError> {
        let api_url = checked_url(&config.api_url, config.allow_insecure_loopback)?;
        let http = client(config.allow_insecure_loopback)?;
        Ok(Self {
            config: SlackConfig { api_url, ..config },
            http,
        })
    }

    /// Calls `method` with a JSON body; the answer when `ok`.
    async fn call(&self, method: &str, body: Value) -> PortResult<Value> {
        let url = format!("{}/{method}", self.config.api_url);
        let answer = self
            .http
            .post(&url)
            .bearer_auth(self.config.bot_token.expose())
            .json(&body)
            .send()
            .await
            .map_err(|e| {
                PortError::transient(format!("Slack {method}: {}", e.without_url()), None)
            })?;
        self.read(method, answer).await
    }

    /// Calls `method` with form arguments (the read methods, which Slack
    /// does not document as taking JSON bodies).
    async fn call_form(&self, method: &str, form: &[(&str, &str)]) -> PortResult<Value> {
        let url = format!("{}/{method}", self.config.api_url);
        let answer = self
            .http
            .post(&url)
            .bearer_auth(self.config.bot_token.expose())
            .form(form)
            .send()
            .await
            .map_err(|e| {
                PortError::transient(format!("Slack {method}: {}", e.without_url()), None)
            })?;
        self.read(method, answer).await
    }

    async fn read(&self, method: &str, answer: reqwest::Response) -> PortResult<Value> {
        let status = answer.status().as_u16();
        let retry_after = answer
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .map(|v| v.ceil() as u64);
        let bytes = bounded_body(answer, crate::http::MAX_ANSWER_BYTES)
            .await
            .map_err(|e| PortError::transient(format!("Slack {method}: {e}"), None))?;
        if status != 200 {
            return Err(classify(
                method,
                status,
                retry_after,
                &format!("HTTP {status}"),
            ));
        }
        let value: Value = serde_json::from_slice(&bytes).map_err(|_| {
            PortError::new(
                ErrorClass::Invalid,
                format!("Slack {method}: the answer is not JSON"),
            )
        })?;
        if value.get("ok").and_then(Value::as_bool) == Some(true) {
            return Ok(value);
        }
        let error = value
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("unknown_error");
        Err(classify(method, status, retry_after, error))
    }

    /// Posts a message (to a channel, or to a user's DM with the app by
    /// their user id).
    pub async fn post_message(
        &self,
        channel: &str,
        text: &str,
        blocks: &[Value],
    ) -> PortResult<SlackMessage> {
        let answer = self
            .call(
                "chat.postMessage",
                json!({"channel": channel, "text": text, "blocks": blocks, "unfurl_links": false}),
            )
            .await?;
        Ok(SlackMessage {
            channel: answer
                .get("channel")
                .and_then(Value::as_str)
                .unwrap_or(channel)
                .to_owned(),
            ts: answer
                .get("ts")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    PortError::new(
                        ErrorClass::Invalid,
                        "Slack chat.postMessage: no `ts` in the answer",
                    )
                })?
                .to_owned(),
        })
    }

    /// Replaces a message's text and blocks.
    pub async fn update_message(
        &self,
        message: &SlackMessage,
        text: &str,
        blocks: &[Value],
    ) -> PortResult<()> {
        self.call(
            "chat.update",
            json!({"channel": message.channel, "ts": message.ts, "text": text, "blocks": blocks}),
        )
        .await
        .map(|_| ())
    }

    /// Answers through an interaction's `response_url` (only Slack's own
    /// addresses, or loopback for the emulator).
    pub async fn respond(&self, response_url: &str, body: Value) -> PortResult<()> {
        let url = checked_url(response_url, self.config.allow_insecure_loopback)
            .map_err(|e| PortError::new(ErrorClass::Invalid, format!("response_url: {e}")))?;
        let answer = self.http.post(&url).json(&body).send().await.map_err(|e| {
            PortError::transient(format!("Slack response_url: {}", e.without_url()), None)
        })?;
        let status = answer.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(());
        }
        Err(classify(
            "response_url",
            status,
            None,
            &format!("HTTP {status}"),
        ))
    }

    /// A user by Slack id (`users.info`).
    pub async fn user(&self, id: &str) -> PortResult<SlackUser> {
        let answer = self.call_form("users.info", &[("user", id)]).await?;
        let user = answer.get("user").cloned().unwrap_or_default();
        Ok(SlackUser {
            id: id.to_owned(),
            email: user
                .get("profile")
                .and_then(|p| p.get("email"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            deleted: user
                .get("deleted")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
    }

    /// A user's Slack id by e-mail (`users.lookupByEmail`); `None` when
    /// Slack has nobody with it.
    pub async fn lookup_by_email(&self, email: &str) -> PortResult<Option<String>> {
        match self
            .call_form("users.lookupByEmail", &[("email", email)])
            .await
        {
            Ok(answer) => Ok(answer
                .get("user")
                .and_then(|u| u.get("id"))
                .and_then(Value::as_str)
                .map(str::to_owned)),
            Err(e) if e.class == ErrorClass::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}
