//! Chat approvals in the service: the `chat` settings, the Teams and Slack
//! channels and click handlers built from them (secrets from the
//! environment), and the chat ledger kept in the store file.

use crate::ServiceError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use groupgate_chat::{
    ChatChannel, ChatLedger, ChatService, PostedCard, SlackInteractions, SlackTarget,
    TeamsInteractions, TokenKey,
    slack::{SlackApi, SlackConfig},
    teams::{BotAuth, BotAuthConfig, TeamsConfig, TeamsConnector},
};
use groupgate_core::Secret;
use groupgate_core::ports::{PortError, PortResult};
use groupgate_sqlite::{ChatCardRow, SqliteStore};
use serde::Deserialize;
use std::path::Path;
use std::sync::Arc;

/// Approvals in chat.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatSettings {
    /// A link to a ticket, with `{ticket}` for its number (shown on cards).
    #[serde(default)]
    pub ticket_url: Option<String>,
    /// Microsoft Teams (a bot posting to an approvals channel).
    #[serde(default)]
    pub teams: Option<TeamsSettings>,
    /// Slack (an app posting direct messages or to a channel).
    #[serde(default)]
    pub slack: Option<SlackSettings>,
}

/// The Teams bot.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamsSettings {
    /// The bot's Microsoft app id.
    pub app_id: String,
    /// The tenant's id (a GUID: clicks from any other tenant are refused).
    pub tenant_id: String,
    /// The channel approval cards are posted to (`19:…@thread.tacv2`).
    pub channel_id: String,
    /// The connector's service URL (default the public cloud's).
    #[serde(default = "default_service_url")]
    pub service_url: String,
    /// The bot's token endpoint (default: the tenant's, public cloud).
    #[serde(default)]
    pub token_url: Option<String>,
    /// The Bot Framework's OpenID metadata (default: the public cloud's).
    #[serde(default)]
    pub openid_metadata_url: Option<String>,
    /// Plain http to loopback addresses (the emulators), nowhere else.
    #[serde(default)]
    pub allow_insecure_loopback: bool,
}

fn default_service_url() -> String {
    "https://smba.trafficmanager.net/teams/".to_owned()
}

/// The Slack app.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackSettings {
    /// The Web API's base (default `https://slack.com/api`).
    #[serde(default = "default_slack_api")]
    pub api_url: String,
    /// Post to this channel instead of messaging each approver.
    #[serde(default)]
    pub channel: Option<String>,
    /// With direct messages: the channel used when no approver is in Slack.
    #[serde(default)]
    pub fallback_channel: Option<String>,
    /// Plain http to loopback addresses (the emulator), nowhere else.
    #[serde(default)]
    pub allow_insecure_loopback: bool,
}

fn default_slack_api() -> String {
    "https://slack.com/api".to_owned()
}

impl ChatSettings {
    /// What is wrong with the settings, naming the setting.
    pub(crate) fn check(&self) -> Result<(), String> {
        if let Some(url) = &self.ticket_url {
            let parsed = url::Url::parse(&url.replace("{ticket}", "RITM0000001"))
                .map_err(|e| format!("`chat.ticket_url` is not a URL: {e}"))?;
            if parsed.scheme() != "https" {
                return Err("`chat.ticket_url` must be an https link".to_owned());
            }
            if !url.contains("{ticket}") {
                return Err(
                    "`chat.ticket_url` has no `{ticket}`; put it where the ticket number goes"
                        .to_owned(),
                );
            }
        }
        if let Some(t) = &self.teams {
            for (name, value) in [
                ("app_id", &t.app_id),
                ("tenant_id", &t.tenant_id),
                ("channel_id", &t.channel_id),
            ] {
                if value.trim().is_empty() {
                    return Err(format!("`chat.teams.{name}` is empty"));
                }
            }
            if !is_guid(&t.tenant_id) {
                return Err(format!(
                    "`chat.teams.tenant_id` is `{}`; give the tenant's id (a GUID, as Teams sends it), not its domain",
                    t.tenant_id
                ));
            }
        }
        if let Some(s) = &self.slack {
            for (name, value) in [
                ("channel", &s.channel),
                ("fallback_channel", &s.fallback_channel),
            ] {
                if let Some(v) = value
                    && !(v.len() <= 32 && v.chars().all(|c| c.is_ascii_alphanumeric()))
                {
                    return Err(format!(
                        "`chat.slack.{name}` is `{v}`; give the channel's id (`C0123456789`), not its name"
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The chat parts of a running service.
#[derive(Debug, Default)]
pub(crate) struct Chat {
    /// Named approval channels (`teams`, `slack`).
    pub(crate) channels: Vec<(&'static str, Arc<ChatChannel>)>,
    /// Slack clicks, when Slack is configured.
    pub(crate) slack: Option<Arc<SlackInteractions>>,
    /// Teams clicks, when Teams is configured.
    pub(crate) teams: Option<Arc<TeamsInteractions>>,
}

fn secret(
    var: impl Fn(&str) -> Option<String>,
    name: &str,
    origin: &Path,
    why: &str,
) -> Result<Secret, ServiceError> {
    var(name)
        .filter(|v| !v.trim().is_empty())
        .map(Secret::new)
        .ok_or_else(|| ServiceError::Settings {
            file: origin.to_owned(),
            message: format!("`{name}` is not set in the environment; {why}"),
        })
}

fn chat_error(origin: &Path, what: &str, e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Settings {
        file: origin.to_owned(),
        message: format!("`chat.{what}`: {e}"),
    }
}

/// Builds the chat channels and click handlers the settings name.
pub(crate) fn build(
    settings: &ChatSettings,
    ledger: Arc<dyn ChatLedger>,
    origin: &Path,
    var: impl Fn(&str) -> Option<String> + Copy,
) -> Result<Chat, ServiceError> {
    if settings.teams.is_none() && settings.slack.is_none() {
        return Ok(Chat::default());
    }
    let keys = TokenKey::new(secret(
        var,
        "GROUPGATE_CHAT_TOKEN_KEY",
        origin,
        "it signs the approve and reject buttons (at least 32 random bytes, e.g. `openssl rand -base64 48`)",
    )?)
    .map_err(|e| chat_error(origin, "token key", e))?;
    let mut chat = Chat::default();
    if let Some(t) = &settings.teams {
        let connector = TeamsConnector::new(TeamsConfig {
            app_id: t.app_id.clone(),
            app_secret: secret(
                var,
                "GROUPGATE_TEAMS_APP_SECRET",
                origin,
                "it is the Teams bot's client secret",
            )?,
            token_url: t.token_url.clone().unwrap_or_else(|| {
                format!(
                    "https://login.microsoftonline.com/{}/oauth2/v2.0/token",
                    t.tenant_id
                )
            }),
            scope: "https://api.botframework.com/.default".to_owned(),
            service_url: t.service_url.clone(),
            tenant_id: t.tenant_id.clone(),
            channel_id: t.channel_id.clone(),
            allow_insecure_loopback: t.allow_insecure_loopback,
        })
        .map_err(|e| chat_error(origin, "teams", e))?;
        let mut auth = BotAuthConfig::for_app(&t.app_id);
        if let Some(url) = &t.openid_metadata_url {
            auth.openid_metadata_url = url.clone();
        }
        auth.allow_insecure_loopback = t.allow_insecure_loopback;
        let auth =
            BotAuth::new(auth).map_err(|e| chat_error(origin, "teams.openid_metadata_url", e))?;
        chat.channels.push((
            "teams",
            Arc::new(ChatChannel::new(
                ChatService::Teams(Arc::new(connector)),
                keys.clone(),
                ledger.clone(),
                settings.ticket_url.clone(),
            )),
        ));
        chat.teams = Some(Arc::new(
            TeamsInteractions::new(Arc::new(auth), keys.clone(), ledger.clone())
                .with_tenant(&t.tenant_id),
        ));
    }
    if let Some(s) = &settings.slack {
        let api = Arc::new(
            SlackApi::new(SlackConfig {
                api_url: s.api_url.clone(),
                bot_token: secret(
                    var,
                    "GROUPGATE_SLACK_BOT_TOKEN",
                    origin,
                    "it is the Slack app's bot token (xoxb-…)",
                )?,
                allow_insecure_loopback: s.allow_insecure_loopback,
            })
            .map_err(|e| chat_error(origin, "slack.api_url", e))?,
        );
        let target = match &s.channel {
            Some(c) => SlackTarget::Channel(c.clone()),
            None => SlackTarget::DirectMessages {
                fallback_channel: s.fallback_channel.clone(),
            },
        };
        chat.channels.push((
            "slack",
            Arc::new(ChatChannel::new(
                ChatService::Slack(api.clone(), target),
                keys.clone(),
                ledger.clone(),
                settings.ticket_url.clone(),
            )),
        ));
        let signing = secret(
            var,
            "GROUPGATE_SLACK_SIGNING_SECRET",
            origin,
            "Slack requests are checked with it",
        )?;
        chat.slack = Some(Arc::new(SlackInteractions::new(api, signing, keys, ledger)));
    }
    Ok(chat)
}

/// The chat ledger in the store file.
#[derive(Debug)]
pub(crate) struct StoreLedger(pub(crate) Arc<SqliteStore>);

fn unreadable(e: serde_json::Error) -> PortError {
    PortError::permanent(format!("a chat card in the store is unreadable: {e}"))
}

#[async_trait]
impl ChatLedger for StoreLedger {
    async fn record_card(&self, card: &PostedCard) -> PortResult<()> {
        self.0.record_chat_card(&ChatCardRow {
            ticket: card.ticket.clone(),
            stage: card.stage.clone(),
            channel: card.channel.clone(),
            ask_key: card.ask_key.clone(),
            reference: card.reference.to_string(),
            view: serde_json::to_string(&card.view).map_err(unreadable)?,
            closed: card.closed,
        })
    }

    async fn cards(&self, ticket: &str) -> PortResult<Vec<PostedCard>> {
        self.0
            .chat_cards(ticket)?
            .into_iter()
            .map(|row| {
                Ok(PostedCard {
                    ticket: row.ticket,
                    stage: row.stage,
                    channel: row.channel,
                    ask_key: row.ask_key,
                    reference: serde_json::from_str(&row.reference).map_err(unreadable)?,
                    view: serde_json::from_str(&row.view).map_err(unreadable)?,
                    closed: row.closed,
                })
            })
            .collect()
    }

    async fn close_card(&self, channel: &str, ask_key: &str) -> PortResult<()> {
        self.0.close_chat_card(channel, ask_key)
    }

    async fn use_token(&self, token_id: &str, expires: DateTime<Utc>) -> PortResult<bool> {
        self.0.use_chat_token(token_id, expires, Utc::now())
    }

    async fn token_used(&self, token_id: &str) -> PortResult<bool> {
        self.0.chat_token_used(token_id)
    }
}

fn is_guid(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
}
