//! A click on a Teams card: the `adaptiveCard/action` invoke (or, from an
//! older client, the `Action.Submit` message that carries the same data),
//! read into what groupgate needs; and the invoke's answer.
//!
//! Who clicked comes from the activity's `from` — the channel's
//! authenticated identity — never from the card's data.

use crate::teams::card::{COMMENT_INPUT, VERB_APPROVE, VERB_REFRESH, VERB_REJECT};
use serde_json::{Value, json};

/// What was clicked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TeamsVerb {
    /// Approve.
    Approve,
    /// Reject.
    Reject,
    /// Refresh (the card asks for its current state).
    Refresh,
}

/// A click, read from an activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamsClick {
    /// The verb.
    pub verb: TeamsVerb,
    /// The button's action token (absent for a refresh).
    pub token: Option<String>,
    /// The comment typed, if any.
    pub comment: Option<String>,
    /// Who clicked: their directory object id (`from.aadObjectId`).
    pub aad_object_id: String,
    /// Their Teams id (`from.id`, `29:…`).
    pub user_id: String,
    /// Their name, as Teams shows it.
    pub name: String,
    /// Where the bot answers (`serviceUrl`).
    pub service_url: String,
    /// The conversation the card is in.
    pub conversation_id: String,
    /// The card's activity id, when Teams says (`replyToId`).
    pub reply_to_id: Option<String>,
    /// The tenant (`channelData.tenant.id`).
    pub tenant_id: Option<String>,
    /// Whether Teams refreshed the card by itself (`trigger: automatic`).
    pub automatic: bool,
}

/// Why an activity is not a click groupgate handles (answered with 400 and
/// audited).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvokeError {
    /// Not JSON, or not an object.
    #[error("the activity is not a JSON object")]
    NotJson,
    /// A field is missing or of the wrong type.
    #[error("the activity has no valid `{0}`")]
    Missing(&'static str),
    /// Another kind of activity (a message, a member added, …).
    #[error("activity `{0}` is not a card action groupgate handles")]
    NotAnAction(String),
    /// A verb groupgate did not put on a card.
    #[error("`{0}` is not a groupgate verb")]
    UnknownVerb(String),
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut at = v;
    for key in path {
        at = at.get(key)?;
    }
    at.as_str()
}

/// Reads a click from an activity's JSON body.
pub fn parse_activity(body: &[u8]) -> Result<TeamsClick, InvokeError> {
    let activity: Value = serde_json::from_slice(body).map_err(|_| InvokeError::NotJson)?;
    if !activity.is_object() {
        return Err(InvokeError::NotJson);
    }
    let kind = str_at(&activity, &["type"]).ok_or(InvokeError::Missing("type"))?;
    // `Action.Execute`: an invoke; an `Action.Submit` fallback: a message
    // whose `value` carries the verb.
    let (verb, data, automatic) = match kind {
        "invoke" => {
            let name = str_at(&activity, &["name"]).unwrap_or_default();
            if name != "adaptiveCard/action" {
                return Err(InvokeError::NotAnAction(format!("invoke `{name}`")));
            }
            let action = activity
                .get("value")
                .and_then(|v| v.get("action"))
                .ok_or(InvokeError::Missing("value.action"))?;
            let verb =
                str_at(action, &["verb"]).ok_or(InvokeError::Missing("value.action.verb"))?;
            let automatic = str_at(&activity, &["value", "trigger"]) == Some("automatic");
            (
                verb.to_owned(),
                action.get("data").cloned().unwrap_or(Value::Null),
                automatic,
            )
        }
        "message" => {
            let value = activity
                .get("value")
                .ok_or(InvokeError::NotAnAction("message".into()))?;
            let verb =
                str_at(value, &["verb"]).ok_or(InvokeError::NotAnAction("message".into()))?;
            (verb.to_owned(), value.clone(), false)
        }
        other => return Err(InvokeError::NotAnAction(other.to_owned())),
    };
    let verb = match verb.as_str() {
        VERB_APPROVE => TeamsVerb::Approve,
        VERB_REJECT => TeamsVerb::Reject,
        VERB_REFRESH => TeamsVerb::Refresh,
        other => return Err(InvokeError::UnknownVerb(other.chars().take(64).collect())),
    };
    let token = str_at(&data, &["token"]).map(str::to_owned);
    if token.is_none() && verb != TeamsVerb::Refresh {
        return Err(InvokeError::Missing("value.action.data.token"));
    }
    let comment = str_at(&data, &[COMMENT_INPUT])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| c.chars().take(1000).collect());
    Ok(TeamsClick {
        verb,
        token,
        comment,
        aad_object_id: str_at(&activity, &["from", "aadObjectId"])
            .ok_or(InvokeError::Missing("from.aadObjectId"))?
            .to_owned(),
        user_id: str_at(&activity, &["from", "id"])
            .ok_or(InvokeError::Missing("from.id"))?
            .to_owned(),
        name: str_at(&activity, &["from", "name"])
            .unwrap_or_default()
            .to_owned(),
        service_url: str_at(&activity, &["serviceUrl"])
            .ok_or(InvokeError::Missing("serviceUrl"))?
            .to_owned(),
        conversation_id: str_at(&activity, &["conversation", "id"])
            .ok_or(InvokeError::Missing("conversation.id"))?
            .to_owned(),
        reply_to_id: str_at(&activity, &["replyToId"]).map(str::to_owned),
        tenant_id: str_at(&activity, &["channelData", "tenant", "id"]).map(str::to_owned),
        automatic,
    })
}

/// The invoke's answer that replaces the card for the user.
pub fn card_response(card: Value) -> Value {
    json!({"statusCode": 200, "type": "application/vnd.microsoft.card.adaptive", "value": card})
}

/// The invoke's answer that shows a short message.
pub fn message_response(text: &str) -> Value {
    json!({"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": text})
}

/// The invoke's answer for an error (`status` 400–599).
pub fn error_response(status: u16, code: &str, message: &str) -> Value {
    json!({
        "statusCode": status,
        "type": "application/vnd.microsoft.error",
        "value": {"code": code, "message": message},
    })
}
