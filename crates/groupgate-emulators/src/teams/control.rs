//! The emulator's control endpoints, for tests in other languages (the
//! Node package's bot example): what was posted (`GET
//! /_emulator/activities`) and a click played as Teams plays it (`POST
//! /_emulator/click`: the invoke minted, signed and delivered to a bot's
//! endpoint on loopback, the bot's answer returned).

use super::{Shared, bot_token, deliver, invoke_activity, tenant};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

/// Every activity posted, oldest first, as it stands now.
pub(super) async fn activities(State(shared): State<Arc<Shared>>) -> Response {
    let list: Vec<Value> = tenant(&shared)
        .activities
        .iter()
        .map(|a| {
            json!({
                "conversation_id": a.conversation_id, "activity_id": a.activity_id,
                "card": a.card, "text": a.text, "updates": a.updates, "reply": a.reply,
            })
        })
        .collect();
    axum::Json(list).into_response()
}

/// A click to play.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Click {
    /// The activity (card) clicked.
    activity_id: String,
    /// `approve` or `reject` (the button's verb).
    verb: String,
    /// Who clicks: their directory object id (one of the tenant's people).
    user: String,
    /// What they typed in the comment box.
    #[serde(default)]
    comment: Option<String>,
    /// The bot's messaging endpoint (on 127.0.0.1).
    endpoint: String,
    /// Send it without the Bot Framework token (to test a refusal).
    #[serde(default)]
    unsigned: bool,
}

fn bad(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"error": message})),
    )
        .into_response()
}

/// Plays a click and returns the bot's answer: `{status, body}`.
pub(super) async fn click(
    State(shared): State<Arc<Shared>>,
    axum::Json(click): axum::Json<Click>,
) -> Response {
    let Ok(endpoint) = url::Url::parse(&click.endpoint) else {
        return bad("`endpoint` is not a URL");
    };
    if endpoint.host_str() != Some("127.0.0.1") && endpoint.host_str() != Some("localhost") {
        return bad("`endpoint` must be on 127.0.0.1 (the emulator delivers to loopback only)");
    }
    let posted = tenant(&shared)
        .activities
        .iter()
        .find(|a| a.activity_id == click.activity_id)
        .cloned();
    let Some(posted) = posted else {
        return bad("no activity has that `activity_id`");
    };
    let Some(user) = shared
        .options
        .users
        .iter()
        .find(|u| u.aad_object_id.eq_ignore_ascii_case(&click.user))
        .cloned()
    else {
        return bad("`user` is not one of the tenant's people");
    };
    let activity = invoke_activity(
        &shared,
        &posted,
        &click.verb,
        &user,
        click.comment.as_deref(),
    );
    let service_url = format!("{}/", shared.base);
    let token = bot_token(&shared.options.app_id, &service_url, chrono::Utc::now());
    let authorization = (!click.unsigned).then_some(token.as_str());
    let (status, body) = deliver(endpoint.as_str(), &activity, authorization).await;
    axum::Json(json!({"status": status, "body": body})).into_response()
}
