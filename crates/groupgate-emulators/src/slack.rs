//! The Slack Web API subset groupgate uses (`chat.postMessage`,
//! `chat.update`, `users.info`, `users.lookupByEmail`) and `response_url`s,
//! on 127.0.0.1: every message kept, Slack's Block Kit limits enforced
//! (`invalid_blocks`), errors as HTTP 200 `{"ok": false}`, scripted
//! failures (429 with `Retry-After`), and clicks sent to an app's
//! interaction endpoint signed as Slack signs them.

use crate::disruption::Script;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// A person in the emulated workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackEmuUser {
    /// Their Slack id (`U…`).
    pub id: String,
    /// Their name.
    pub name: String,
    /// Their e-mail (`profile.email`).
    pub email: String,
}

/// How the emulator behaves.
#[derive(Debug, Clone)]
pub struct SlackEmulatorOptions {
    /// The bot token every call must carry.
    pub bot_token: String,
    /// The signing secret clicks are signed with.
    pub signing_secret: String,
    /// The workspace's people.
    pub users: Vec<SlackEmuUser>,
}

impl Default for SlackEmulatorOptions {
    fn default() -> Self {
        Self {
            bot_token: "xoxb-emulator".to_owned(),
            signing_secret: "emulator-signing-secret".to_owned(),
            users: Vec::new(),
        }
    }
}

/// A message as posted (and updated).
#[derive(Debug, Clone, PartialEq)]
pub struct SlackPosted {
    /// The channel (a user id for a DM).
    pub channel: String,
    /// Its timestamp.
    pub ts: String,
    /// Its notification text.
    pub text: String,
    /// Its blocks.
    pub blocks: Vec<Value>,
    /// How many times it was updated.
    pub updates: usize,
}

#[derive(Debug, Default)]
struct Workspace {
    messages: Vec<SlackPosted>,
    responses: Vec<(String, Value)>,
    /// Each click's `response_url` id and the message it came from.
    interactions: Vec<(String, String, String)>,
    counter: u64,
}

struct Shared {
    options: SlackEmulatorOptions,
    workspace: Mutex<Workspace>,
    script: Script,
    base: String,
}

/// A running Slack emulator. Dropping it stops the server.
pub struct SlackEmulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for SlackEmulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackEmulator")
            .field("addr", &self.addr)
            .finish()
    }
}

impl Drop for SlackEmulator {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn workspace(shared: &Shared) -> std::sync::MutexGuard<'_, Workspace> {
    shared
        .workspace
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn fail(error: &str) -> Response {
    (
        StatusCode::OK,
        axum::Json(json!({"ok": false, "error": error})),
    )
        .into_response()
}

fn chars(v: &Value) -> usize {
    v.as_str().map(|s| s.chars().count()).unwrap_or(0)
}

/// Slack's Block Kit limits, as Slack checks them.
fn blocks_ok(blocks: &[Value]) -> bool {
    if blocks.len() > 50 {
        return false;
    }
    blocks.iter().all(|b| {
        let text_ok = b.pointer("/text/text").is_none_or(|t| {
            let max = if b["type"] == "header" { 150 } else { 3000 };
            chars(t) <= max
        });
        let fields_ok = b
            .get("fields")
            .and_then(Value::as_array)
            .is_none_or(|f| f.len() <= 10 && f.iter().all(|x| chars(&x["text"]) <= 2000));
        let buttons_ok = b.get("elements").and_then(Value::as_array).is_none_or(|e| {
            e.iter().all(|x| {
                x["type"] != "button"
                    || (chars(&x["text"]["text"]) <= 75 && chars(&x["value"]) <= 2000)
            })
        });
        text_ok && fields_ok && buttons_ok
    })
}

async fn api(
    State(shared): State<Arc<Shared>>,
    Path(method_name): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let line = match shared.script.admit(&method, &uri).await {
        Ok(line) => line,
        Err(response) => return response,
    };
    if let Some(f) = shared.script.take_failure(&line) {
        let mut response = if f.status == 200 {
            fail("ratelimited")
        } else {
            (
                StatusCode::from_u16(f.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
                axum::Json(json!({"ok": false, "error": "ratelimited"})),
            )
                .into_response()
        };
        if let Some(r) = f.retry_after
            && let Ok(v) = r.to_string().parse()
        {
            response.headers_mut().insert("retry-after", v);
        }
        return response;
    }
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if token != Some(shared.options.bot_token.as_str()) {
        return fail("invalid_auth");
    }
    let is_json = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json"));
    let args: Value = if is_json {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(_) => return fail("invalid_json"),
        }
    } else {
        let map: serde_json::Map<String, Value> = url::form_urlencoded::parse(&body)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect();
        Value::Object(map)
    };
    match method_name.as_str() {
        "chat.postMessage" => {
            let Some(channel) = args["channel"].as_str() else {
                return fail("channel_not_found");
            };
            let known =
                channel.starts_with('C') || shared.options.users.iter().any(|u| u.id == channel);
            if !known {
                return fail("channel_not_found");
            }
            let blocks = args["blocks"].as_array().cloned().unwrap_or_default();
            if !blocks_ok(&blocks) {
                return fail("invalid_blocks");
            }
            if args["text"].as_str().unwrap_or_default().is_empty() && blocks.is_empty() {
                return fail("no_text");
            }
            let mut w = workspace(&shared);
            w.counter += 1;
            let ts = format!("1700000000.{:06}", w.counter);
            w.messages.push(SlackPosted {
                channel: channel.to_owned(),
                ts: ts.clone(),
                text: args["text"].as_str().unwrap_or_default().to_owned(),
                blocks,
                updates: 0,
            });
            axum::Json(json!({"ok": true, "channel": channel, "ts": ts})).into_response()
        }
        "chat.update" => {
            let blocks = args["blocks"].as_array().cloned().unwrap_or_default();
            if !blocks_ok(&blocks) {
                return fail("invalid_blocks");
            }
            let mut w = workspace(&shared);
            let found = w.messages.iter_mut().find(|m| {
                Some(m.channel.as_str()) == args["channel"].as_str()
                    && Some(m.ts.as_str()) == args["ts"].as_str()
            });
            match found {
                Some(m) => {
                    m.blocks = blocks;
                    m.text = args["text"].as_str().unwrap_or_default().to_owned();
                    m.updates += 1;
                    axum::Json(json!({"ok": true, "channel": m.channel, "ts": m.ts}))
                        .into_response()
                }
                None => fail("message_not_found"),
            }
        }
        "users.info" => {
            let id = args["user"].as_str().unwrap_or_default();
            match shared.options.users.iter().find(|u| u.id == id) {
                Some(u) => axum::Json(json!({"ok": true, "user": {
                    "id": u.id, "name": u.name, "deleted": false,
                    "profile": {"email": u.email, "real_name": u.name}
                }}))
                .into_response(),
                None => fail("user_not_found"),
            }
        }
        "users.lookupByEmail" => {
            let email = args["email"].as_str().unwrap_or_default();
            match shared
                .options
                .users
                .iter()
                .find(|u| u.email.eq_ignore_ascii_case(email))
            {
                Some(u) => axum::Json(json!({"ok": true, "user": {"id": u.id, "name": u.name}}))
                    .into_response(),
                None => fail("users_not_found"),
            }
        }
        _ => fail("unknown_method"),
    }
}

async fn respond(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let Ok(value) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "invalid_payload").into_response();
    };
    let mut w = workspace(&shared);
    // `replace_original: true` rewrites the message clicked, as Slack does.
    if value["replace_original"] == true {
        let blocks = value["blocks"].as_array().cloned().unwrap_or_default();
        if !blocks_ok(&blocks) {
            return (StatusCode::BAD_REQUEST, "invalid_blocks").into_response();
        }
        let origin = w
            .interactions
            .iter()
            .find(|(i, _, _)| *i == id)
            .map(|(_, c, t)| (c.clone(), t.clone()));
        if let Some((channel, ts)) = origin
            && let Some(m) = w
                .messages
                .iter_mut()
                .find(|m| m.channel == channel && m.ts == ts)
        {
            m.blocks = blocks;
            m.text = value["text"].as_str().unwrap_or_default().to_owned();
            m.updates += 1;
        }
    }
    w.responses.push((id, value));
    (StatusCode::OK, "ok").into_response()
}

impl SlackEmulator {
    /// Starts the emulator on `bind` (`127.0.0.1:0` for an ephemeral port).
    pub async fn start(bind: &str, options: SlackEmulatorOptions) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(bind).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            options,
            workspace: Mutex::new(Workspace::default()),
            script: Script::default(),
            base: format!("http://{addr}"),
        });
        let app = Router::new()
            .route("/api/{method}", post(api))
            .route("/respond/{id}", post(respond))
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, shared, task })
    }

    /// The Web API's base, `http://127.0.0.1:<port>/api`.
    pub fn api_url(&self) -> String {
        format!("{}/api", self.shared.base)
    }

    /// The options it runs with (the bot token, the signing secret).
    pub fn options(&self) -> &SlackEmulatorOptions {
        &self.shared.options
    }

    /// Every message posted, oldest first, as it stands now.
    pub fn messages(&self) -> Vec<SlackPosted> {
        workspace(&self.shared).messages.clone()
    }

    /// Everything posted to `response_url`s: (interaction id, body).
    pub fn responses(&self) -> Vec<(String, Value)> {
        workspace(&self.shared).responses.clone()
    }

    /// The next call whose `METHOD path` contains `matching` answers
    /// `status` (200: `{"ok": false, "error": "ratelimited"}`), with
    /// `Retry-After` when given.
    pub fn fail_next(&self, matching: &str, status: u16, retry_after: Option<u64>) {
        self.shared.script.fail_next(matching, status, retry_after);
    }

    /// Every call served, as `METHOD path?query`.
    pub fn requests(&self) -> Vec<String> {
        self.shared.script.requests()
    }

    /// The form body Slack would post for a click on `action_id` of
    /// `message` by `user_id`, and its `response_url`.
    pub fn click_body(
        &self,
        message: &SlackPosted,
        action_id: &str,
        user_id: &str,
    ) -> (String, String) {
        let value = message
            .blocks
            .iter()
            .filter_map(|b| b.get("elements").and_then(Value::as_array))
            .flatten()
            .find(|e| e["action_id"] == action_id)
            .and_then(|e| e["value"].as_str())
            .unwrap_or_default()
            .to_owned();
        let counter = {
            let mut w = workspace(&self.shared);
            w.counter += 1;
            let counter = w.counter;
            w.interactions.push((
                counter.to_string(),
                message.channel.clone(),
                message.ts.clone(),
            ));
            counter
        };
        let response_url = format!("{}/respond/{counter}", self.shared.base);
        let name = self
            .shared
            .options
            .users
            .iter()
            .find(|u| u.id == user_id)
            .map(|u| u.name.clone())
            .unwrap_or_default();
        let payload = json!({
            "type": "block_actions",
            "api_app_id": "A0EMULATOR",
            "team": {"id": "T0EMULATOR", "domain": "emulator"},
            "user": {"id": user_id, "username": name, "name": name, "team_id": "T0EMULATOR"},
            "container": {"type": "message", "message_ts": message.ts, "channel_id": message.channel, "is_ephemeral": false},
            "trigger_id": format!("{counter}.1.emu"),
            "channel": {"id": message.channel, "name": "approvals"},
            "response_url": response_url,
            "actions": [{"type": "button", "action_id": action_id, "block_id": "groupgate_approval",
                          "value": value, "action_ts": format!("1700000100.{counter:06}")}],
        });
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("payload", &payload.to_string())
            .finish();
        (body, response_url)
    }

    /// Posts `body` to `endpoint` as Slack does: signed with the signing
    /// secret at `timestamp` (Unix seconds). The answer's status and body.
    pub async fn deliver(&self, endpoint: &str, body: &str, timestamp: i64) -> (u16, String) {
        let signature = sign(
            &self.shared.options.signing_secret,
            timestamp,
            body.as_bytes(),
        );
        let client = reqwest::Client::new();
        match client
            .post(endpoint)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-slack-request-timestamp", timestamp.to_string())
            .header("x-slack-signature", signature)
            .body(body.to_owned())
            .send()
            .await
        {
            Ok(r) => {
                let status = r.status().as_u16();
                (status, r.text().await.unwrap_or_default())
            }
            Err(e) => (0, e.to_string()),
        }
    }
}

/// `v0=<hex HMAC-SHA256>` over `v0:<timestamp>:<body>`, as Slack signs.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable_hmac());
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    let mut out = String::from("v0=");
    for b in mac.finalize().into_bytes() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

#[expect(
    clippy::panic,
    reason = "test support: HMAC takes keys of any length, this is never reached"
)]
fn unreachable_hmac() -> Hmac<Sha256> {
    panic!("HMAC refused a key")
}
