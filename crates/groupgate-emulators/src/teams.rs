//! The Bot Framework subset a Teams bot uses, on 127.0.0.1: the token
//! endpoint (client credentials), the OpenID metadata and signing keys the
//! bot checks incoming requests with, and the connector's conversations
//! (a new channel thread with a card, replacing an activity, replying).
//! It also plays Teams' side of a click: it mints a Bot Framework JWT with
//! its own key and posts an `adaptiveCard/action` invoke to a bot.
//!
//! The signing key (`teams/emulator-signing-key.pem`) is a test key made for
//! this emulator; it signs nothing real.

mod control;

use crate::disruption::Script;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

const KEY_PEM: &[u8] = include_bytes!("teams/emulator-signing-key.pem");
const KEY_N: &str = include_str!("teams/emulator-signing-key.n");
/// The id of the emulator's signing key.
pub const KEY_ID: &str = "groupgate-emulator-key";
/// The issuer of the tokens it mints (the Bot Framework's).
pub const ISSUER: &str = "https://api.botframework.com";

/// A person in the emulated tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamsEmuUser {
    /// Their directory object id (`aadObjectId`).
    pub aad_object_id: String,
    /// Their Teams id (`29:…`).
    pub teams_id: String,
    /// Their name.
    pub name: String,
}

/// How the emulator behaves.
#[derive(Debug, Clone)]
pub struct TeamsEmulatorOptions {
    /// The bot's app id (the audience of minted tokens).
    pub app_id: String,
    /// The bot's client secret (checked at the token endpoint).
    pub app_secret: String,
    /// The tenant.
    pub tenant_id: String,
    /// The approvals channel that cards may be posted to.
    pub channel_id: String,
    /// The tenant's people.
    pub users: Vec<TeamsEmuUser>,
    /// Endorsements of the signing key (Teams' `msteams`).
    pub endorsements: Vec<String>,
}

impl Default for TeamsEmulatorOptions {
    fn default() -> Self {
        Self {
            app_id: "00000000-0000-0000-0000-00000000b07a".to_owned(),
            app_secret: "emulator-bot-secret".to_owned(),
            tenant_id: "72f988bf-0000-0000-0000-00000000c0de".to_owned(),
            channel_id: "19:approvals@thread.tacv2".to_owned(),
            users: Vec::new(),
            endorsements: vec!["msteams".to_owned()],
        }
    }
}

/// An activity as posted (and updated).
#[derive(Debug, Clone, PartialEq)]
pub struct TeamsPosted {
    /// The conversation (a channel thread).
    pub conversation_id: String,
    /// The activity id.
    pub activity_id: String,
    /// The card (the first Adaptive Card attachment), as it stands now.
    pub card: Value,
    /// The activity's text.
    pub text: String,
    /// How many times it was replaced.
    pub updates: usize,
    /// Whether it was a reply in an existing conversation.
    pub reply: bool,
}

#[derive(Debug, Default)]
struct Tenant {
    activities: Vec<TeamsPosted>,
    tokens: HashMap<String, ()>,
    counter: u64,
}

struct Shared {
    options: TeamsEmulatorOptions,
    tenant: Mutex<Tenant>,
    script: Script,
    base: String,
}

/// A running Teams (Bot Framework) emulator. Dropping it stops the server.
pub struct TeamsEmulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for TeamsEmulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TeamsEmulator")
            .field("addr", &self.addr)
            .finish()
    }
}

impl Drop for TeamsEmulator {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn tenant(shared: &Shared) -> std::sync::MutexGuard<'_, Tenant> {
    shared
        .tenant
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

async fn token(
    State(shared): State<Arc<Shared>>,
    Path(_tenant): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let o = &shared.options;
    if form.get("grant_type").map(String::as_str) != Some("client_credentials")
        || form.get("client_id") != Some(&o.app_id)
        || form.get("client_secret") != Some(&o.app_secret)
    {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."})),
        )
            .into_response();
    }
    let mut t = tenant(&shared);
    t.counter += 1;
    let value = format!("bot-token-{}", t.counter);
    t.tokens.insert(value.clone(), ());
    axum::Json(json!({"token_type": "Bearer", "expires_in": 3599, "access_token": value}))
        .into_response()
}

async fn openid(State(shared): State<Arc<Shared>>) -> Response {
    axum::Json(json!({
        "issuer": ISSUER,
        "authorization_endpoint": "https://invalid.botframework.com/v1/auth",
        "jwks_uri": format!("{}/keys", shared.base),
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
    }))
    .into_response()
}

async fn keys(State(shared): State<Arc<Shared>>) -> Response {
    axum::Json(json!({"keys": [{
        "kty": "RSA", "use": "sig", "kid": KEY_ID, "n": KEY_N.trim(), "e": "AQAB",
        "endorsements": shared.options.endorsements,
    }]}))
    .into_response()
}

fn authorized(shared: &Shared, headers: &HeaderMap) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| tenant(shared).tokens.contains_key(t))
}

fn card_of(activity: &Value) -> Option<Value> {
    activity
        .get("attachments")?
        .as_array()?
        .iter()
        .find(|a| a["contentType"] == "application/vnd.microsoft.card.adaptive")
        .map(|a| a["content"].clone())
}

async fn admit(shared: &Shared, method: &Method, uri: &Uri) -> Result<(), Response> {
    let line = shared.script.admit(method, uri).await?;
    if let Some(f) = shared.script.take_failure(&line) {
        let mut response = error(
            StatusCode::from_u16(f.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
            "ServiceError",
            "injected failure",
        );
        if let Some(r) = f.retry_after
            && let Ok(v) = r.to_string().parse()
        {
            response.headers_mut().insert("retry-after", v);
        }
        return Err(response);
    }
    Ok(())
}

/// The faults scripted for this call, then the bot's token: what every
/// connector call goes through first.
async fn gate(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<(), Response> {
    admit(shared, method, uri).await?;
    if !authorized(shared, headers) {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "Authorization has been denied for this request.",
        ));
    }
    Ok(())
}

async fn create(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = gate(&shared, &method, &uri, &headers).await {
        return r;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "BadSyntax", "the body is not JSON");
    };
    let channel = body
        .pointer("/channelData/channel/id")
        .and_then(Value::as_str);
    if body["isGroup"] != true || channel != Some(shared.options.channel_id.as_str()) {
        return error(
            StatusCode::BAD_REQUEST,
            "BadSyntax",
            "Incorrect conversation creation parameters",
        );
    }
    let Some(card) = card_of(&body["activity"]) else {
        return error(
            StatusCode::BAD_REQUEST,
            "BadSyntax",
            "the activity has no Adaptive Card",
        );
    };
    let mut t = tenant(&shared);
    t.counter += 1;
    let activity_id = format!("{}", 1_700_000_000_000u64 + t.counter);
    let conversation_id = format!("{};messageid={activity_id}", shared.options.channel_id);
    t.activities.push(TeamsPosted {
        conversation_id: conversation_id.clone(),
        activity_id: activity_id.clone(),
        card,
        text: body["activity"]["text"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        updates: 0,
        reply: false,
    });
    (
        StatusCode::CREATED,
        axum::Json(json!({"id": conversation_id, "activityId": activity_id})),
    )
        .into_response()
}

async fn update(
    State(shared): State<Arc<Shared>>,
    Path((conversation, activity)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = gate(&shared, &method, &uri, &headers).await {
        return r;
    }
    let Some(card) = serde_json::from_slice::<Value>(&body)
        .ok()
        .as_ref()
        .and_then(card_of)
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "BadSyntax",
            "the activity has no Adaptive Card",
        );
    };
    let mut t = tenant(&shared);
    match t
        .activities
        .iter_mut()
        .find(|a| a.conversation_id == conversation && a.activity_id == activity)
    {
        Some(a) => {
            a.card = card;
            a.updates += 1;
            axum::Json(json!({"id": activity})).into_response()
        }
        None => error(
            StatusCode::NOT_FOUND,
            "ActivityNotFound",
            "Unknown activity",
        ),
    }
}

async fn reply(
    State(shared): State<Arc<Shared>>,
    Path(conversation): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = gate(&shared, &method, &uri, &headers).await {
        return r;
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or_default();
    let mut t = tenant(&shared);
    if !t
        .activities
        .iter()
        .any(|a| a.conversation_id == conversation)
    {
        return error(
            StatusCode::NOT_FOUND,
            "ConversationNotFound",
            "Unknown conversation",
        );
    }
    t.counter += 1;
    let activity_id = format!("{}", 1_700_000_000_000u64 + t.counter);
    t.activities.push(TeamsPosted {
        conversation_id: conversation,
        activity_id: activity_id.clone(),
        card: card_of(&body).unwrap_or_default(),
        text: body["text"].as_str().unwrap_or_default().to_owned(),
        updates: 0,
        reply: true,
    });
    (StatusCode::CREATED, axum::Json(json!({"id": activity_id}))).into_response()
}

impl TeamsEmulator {
    /// Starts the emulator on `bind` (`127.0.0.1:0` for an ephemeral port).
    pub async fn start(bind: &str, options: TeamsEmulatorOptions) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(bind).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            options,
            tenant: Mutex::new(Tenant::default()),
            script: Script::default(),
            base: format!("http://{addr}"),
        });
        let app = Router::new()
            .route("/{tenant}/oauth2/v2.0/token", post(token))
            .route("/openid", get(openid))
            .route("/keys", get(keys))
            .route("/v3/conversations", post(create))
            .route("/v3/conversations/{conversation}/activities", post(reply))
            .route(
                "/v3/conversations/{conversation}/activities/{activity}",
                put(update),
            )
            .route("/_emulator/activities", get(control::activities))
            .route("/_emulator/click", post(control::click))
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, shared, task })
    }

    /// The connector's service URL, `http://127.0.0.1:<port>/`.
    pub fn service_url(&self) -> String {
        format!("{}/", self.shared.base)
    }

    /// The bot's token endpoint.
    pub fn token_url(&self) -> String {
        format!(
            "{}/{}/oauth2/v2.0/token",
            self.shared.base, self.shared.options.tenant_id
        )
    }

    /// The OpenID metadata document's address.
    pub fn openid_url(&self) -> String {
        format!("{}/openid", self.shared.base)
    }

    /// The options it runs with.
    pub fn options(&self) -> &TeamsEmulatorOptions {
        &self.shared.options
    }

    /// Every activity posted, oldest first, as it stands now.
    pub fn activities(&self) -> Vec<TeamsPosted> {
        tenant(&self.shared).activities.clone()
    }

    /// The next call whose `METHOD path` contains `matching` answers `status`.
    pub fn fail_next(&self, matching: &str, status: u16, retry_after: Option<u64>) {
        self.shared.script.fail_next(matching, status, retry_after);
    }

    /// A Bot Framework token for a request to the bot, as Teams sends one:
    /// issuer, audience `app_id`, `serviceurl`, valid from `now` for an hour.
    pub fn bot_token(&self, app_id: &str, service_url: &str, now: DateTime<Utc>) -> String {
        bot_token(app_id, service_url, now)
    }

    /// The `adaptiveCard/action` invoke Teams would post for `user`
    /// clicking `verb` on `posted` (with an optional comment).
    pub fn invoke(
        &self,
        posted: &TeamsPosted,
        verb: &str,
        user: &TeamsEmuUser,
        comment: Option<&str>,
    ) -> Value {
        invoke_activity(&self.shared, posted, verb, user, comment)
    }

    /// Posts `activity` to a bot's endpoint with `authorization` (use
    /// [`TeamsEmulator::bot_token`]); the answer's status and JSON body.
    pub async fn deliver(
        &self,
        endpoint: &str,
        activity: &Value,
        authorization: Option<&str>,
    ) -> (u16, Value) {
        deliver(endpoint, activity, authorization).await
    }
}

/// The invoke Teams posts when `user` clicks `verb` on `posted`.
fn invoke_activity(
    shared: &Shared,
    posted: &TeamsPosted,
    verb: &str,
    user: &TeamsEmuUser,
    comment: Option<&str>,
) -> Value {
    let action = posted
        .card
        .pointer("/body")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|b| b.get("actions").and_then(Value::as_array))
        .flatten()
        .find(|a| a["verb"] == verb)
        .cloned()
        .unwrap_or_else(|| json!({"verb": verb, "data": {}}));
    let mut data = action["data"].clone();
    if let (Some(c), Some(obj)) = (comment, data.as_object_mut()) {
        obj.insert("comment".to_owned(), Value::String(c.to_owned()));
    }
    json!({
        "type": "invoke",
        "name": "adaptiveCard/action",
        "id": format!("invoke-{}", posted.activity_id),
        "channelId": "msteams",
        "serviceUrl": format!("{}/", shared.base),
        "from": {"id": user.teams_id, "aadObjectId": user.aad_object_id, "name": user.name},
        "conversation": {"id": posted.conversation_id, "conversationType": "channel"},
        "recipient": {"id": format!("28:{}", shared.options.app_id)},
        "replyToId": posted.activity_id,
        "channelData": {"tenant": {"id": shared.options.tenant_id}},
        "value": {"action": {"type": "Action.Execute", "verb": verb, "data": data}, "trigger": "manual"},
    })
}

/// Posts `activity` to a bot's endpoint; the answer's status and body.
async fn deliver(endpoint: &str, activity: &Value, authorization: Option<&str>) -> (u16, Value) {
    let client = reqwest::Client::new();
    let mut request = client.post(endpoint).json(activity);
    if let Some(a) = authorization {
        request = request.header("authorization", format!("Bearer {a}"));
    }
    match request.send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            let text = r.text().await.unwrap_or_default();
            (
                status,
                serde_json::from_str(&text).unwrap_or(Value::String(text)),
            )
        }
        Err(e) => (0, Value::String(e.to_string())),
    }
}

/// A Bot Framework token for a request to the bot `app_id`.
fn bot_token(app_id: &str, service_url: &str, now: DateTime<Utc>) -> String {
    mint(
        &json!({
            "iss": ISSUER, "aud": app_id, "serviceurl": service_url,
            "nbf": now.timestamp() - 5, "exp": now.timestamp() + 3600,
        }),
        KEY_ID,
    )
}

/// A JWT signed with the emulator's key under `kid` (another kid makes a
/// token the bot cannot verify).
pub fn mint(claims: &Value, kid: &str) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    match jsonwebtoken::EncodingKey::from_rsa_pem(KEY_PEM) {
        Ok(key) => jsonwebtoken::encode(&header, claims, &key).unwrap_or_default(),
        Err(_) => String::new(),
    }
}
