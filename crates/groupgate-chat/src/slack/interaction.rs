//! A click on a Slack message: the `block_actions` interaction, posted as a
//! form with one `payload` field of JSON. Read only after the request's
//! signature was checked. Who clicked comes from `user.id` — Slack's
//! authenticated identity — never from the button's value.

use crate::slack::blocks::{ACTION_APPROVE, ACTION_REJECT};
use groupgate_core::workflow::Verdict;
use serde_json::Value;

/// A click, read from an interaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackClick {
    /// Approve or reject.
    pub verdict: Verdict,
    /// The button's action token.
    pub token: String,
    /// Who clicked: their Slack user id.
    pub user_id: String,
    /// Their Slack user name, for people to read.
    pub user_name: String,
    /// Their workspace.
    pub team_id: Option<String>,
    /// Where to answer (up to five times in thirty minutes).
    pub response_url: Option<String>,
    /// The message's channel.
    pub channel_id: Option<String>,
    /// The message's timestamp (its id).
    pub message_ts: Option<String>,
}

/// Why a body is not a click groupgate handles (answered with 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InteractionError {
    /// No `payload` form field.
    #[error("the body has no `payload` form field")]
    NoPayload,
    /// The payload is not JSON.
    #[error("the payload is not JSON")]
    NotJson,
    /// Another kind of interaction (a shortcut, a view submission, …).
    #[error("interaction `{0}` is not one groupgate handles")]
    NotBlockActions(String),
    /// A field is missing.
    #[error("the payload has no valid `{0}`")]
    Missing(&'static str),
    /// A button groupgate did not put on a message.
    #[error("action `{0}` is not a groupgate button")]
    UnknownAction(String),
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut at = v;
    for key in path {
        at = at.get(key)?;
    }
    at.as_str()
}

/// Reads a click from an interaction's raw (form-encoded) body.
pub fn parse_interaction(body: &[u8]) -> Result<SlackClick, InteractionError> {
    let payload = url::form_urlencoded::parse(body)
        .find(|(k, _)| k == "payload")
        .map(|(_, v)| v.into_owned())
        .ok_or(InteractionError::NoPayload)?;
    let value: Value = serde_json::from_str(&payload).map_err(|_| InteractionError::NotJson)?;
    let kind = str_at(&value, &["type"]).ok_or(InteractionError::Missing("type"))?;
    if kind != "block_actions" {
        return Err(InteractionError::NotBlockActions(
            kind.chars().take(64).collect(),
        ));
    }
    let action = value
        .get("actions")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .ok_or(InteractionError::Missing("actions"))?;
    let action_id =
        str_at(action, &["action_id"]).ok_or(InteractionError::Missing("actions[0].action_id"))?;
    let verdict = match action_id {
        ACTION_APPROVE => Verdict::Approve,
        ACTION_REJECT => Verdict::Reject,
        other => {
            return Err(InteractionError::UnknownAction(
                other.chars().take(64).collect(),
            ));
        }
    };
    Ok(SlackClick {
        verdict,
        token: str_at(action, &["value"])
            .ok_or(InteractionError::Missing("actions[0].value"))?
            .to_owned(),
        user_id: str_at(&value, &["user", "id"])
            .ok_or(InteractionError::Missing("user.id"))?
            .to_owned(),
        user_name: str_at(&value, &["user", "username"])
            .or_else(|| str_at(&value, &["user", "name"]))
            .unwrap_or_default()
            .to_owned(),
        team_id: str_at(&value, &["team", "id"])
            .or_else(|| str_at(&value, &["user", "team_id"]))
            .map(str::to_owned),
        response_url: str_at(&value, &["response_url"]).map(str::to_owned),
        channel_id: str_at(&value, &["container", "channel_id"])
            .or_else(|| str_at(&value, &["channel", "id"]))
            .map(str::to_owned),
        message_ts: str_at(&value, &["container", "message_ts"]).map(str::to_owned),
    })
}
