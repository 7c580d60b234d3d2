//! An HTTP emulator of the Microsoft Graph subset groupgate uses, on
//! 127.0.0.1 and an ephemeral port: the token endpoint with client-credential
//! checks; users (with `$select`), managers, groups, members and
//! transitiveMembers (users and nested groups, paged with `$top` and
//! `@odata.nextLink`; `$filter` only with `ConsistencyLevel: eventual` and
//! `$count=true`), memberOf, `checkMemberGroups`, member add and remove
//! through `/$ref`, and `$batch`. Answers carry Graph's status codes, error
//! envelopes and `request-id` / `client-request-id` headers. Faults can be
//! scripted per call or drawn at a seeded rate; throttling answers 429 with
//! `Retry-After`, and a retry before it has passed is throttled again; writes
//! can become visible to reads only after a replication lag.

use crate::disruption::{Script, ScriptedFailure};
use crate::replication::Replication;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::{DateTime, TimeDelta, Utc};
use groupgate_core::ports::Clock;
use groupgate_core::{DirectorySnapshot, MembershipState};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// Who may get tokens, and how the emulator misbehaves.
#[derive(Debug, Clone)]
pub struct GraphEmulatorOptions {
    /// The tenant id in token URLs.
    pub tenant_id: String,
    /// The accepted client id.
    pub client_id: String,
    /// The accepted client secret.
    pub client_secret: String,
    /// Token lifetime in seconds.
    pub token_lifetime_seconds: i64,
    /// Share of Graph calls (not token calls) that fail at random: 429, 503 or 504.
    pub fault_rate: f64,
    /// Seed of the random faults.
    pub seed: u64,
    /// `Retry-After` of emulated throttling, in seconds.
    pub retry_after_seconds: u64,
    /// Delay before membership writes show in reads.
    pub replication_lag: TimeDelta,
    /// Membership writes allowed per `write_window` (Graph: 3,000 per 150 s); 0 for no limit.
    pub write_budget: u32,
    /// The write budget's window.
    pub write_window: TimeDelta,
    /// The most items a page holds whatever `$top` asks (Graph: 999, and it
    /// may answer fewer): lower it to make collections page.
    pub max_page_size: usize,
}

impl Default for GraphEmulatorOptions {
    fn default() -> Self {
        Self {
            tenant_id: "contoso.onmicrosoft.com".to_owned(),
            client_id: "00000000-0000-0000-0000-0000000000c1".to_owned(),
            client_secret: "emulator-secret".to_owned(),
            token_lifetime_seconds: 3599,
            fault_rate: 0.0,
            seed: 1,
            retry_after_seconds: 2,
            replication_lag: TimeDelta::zero(),
            write_budget: 0,
            write_window: TimeDelta::seconds(150),
            max_page_size: 999,
        }
    }
}

/// The emulator's tenant and bookkeeping.
#[derive(Debug)]
struct Tenant {
    dir: DirectorySnapshot,
    tokens: HashMap<String, DateTime<Utc>>,
    rng: SmallRng,
    throttled_until: Option<DateTime<Utc>>,
    replication: Replication,
    writes: VecDeque<DateTime<Utc>>,
    counter: u64,
}

struct Shared {
    tenant: Mutex<Tenant>,
    /// `http://127.0.0.1:<port>/v1.0`, for `@odata.nextLink`.
    base_url: String,
    script: Script,
    options: GraphEmulatorOptions,
    clock: Arc<dyn Clock>,
}

/// A running emulator. Dropping it stops the server.
pub struct GraphEmulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for GraphEmulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphEmulator")
            .field("addr", &self.addr)
            .finish()
    }
}

impl Drop for GraphEmulator {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Tenant> {
    match shared.tenant.lock() {
        Ok(t) => t,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl GraphEmulator {
    /// Starts the emulator on `bind` (use `127.0.0.1:0` for an ephemeral port),
    /// serving `dir`, with time from `clock`.
    pub async fn start(
        bind: &str,
        dir: DirectorySnapshot,
        options: GraphEmulatorOptions,
        clock: Arc<dyn Clock>,
    ) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(bind).await?;
        let addr = listener.local_addr()?;
        let mut replication = Replication::default();
        replication.set_lag(options.replication_lag);
        let shared = Arc::new(Shared {
            base_url: format!("http://{addr}/v1.0"),
            script: Script::default(),
            tenant: Mutex::new(Tenant {
                dir,
                tokens: HashMap::new(),
                rng: SmallRng::seed_from_u64(options.seed),
                throttled_until: None,
                replication,
                writes: VecDeque::new(),
                counter: 0,
            }),
            options,
            clock,
        });
        let app = Router::new()
            .route("/{tenant}/oauth2/v2.0/token", post(token))
            .fallback(graph)
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, shared, task })
    }

    /// `http://127.0.0.1:<port>/v1.0`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1.0", self.addr)
    }

    /// `http://127.0.0.1:<port>` (the authority for tokens).
    pub fn authority_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The options it runs with.
    pub fn options(&self) -> &GraphEmulatorOptions {
        &self.shared.options
    }

    /// The next call whose `METHOD path` contains `matching` answers `status`
    /// (with `Retry-After` when given) instead of being served.
    pub fn fail_next(&self, matching: &str, status: u16, retry_after: Option<u64>) {
        self.shared.script.fail_next(matching, status, retry_after);
    }

    /// The next call whose `METHOD path` contains `matching` is answered only
    /// after `delay` (real time; a client with a shorter timeout gives up).
    pub fn slow_next(&self, matching: &str, delay: std::time::Duration) {
        self.shared.script.slow_next(matching, delay);
    }

    /// The next call whose `METHOD path` contains `matching` has its
    /// connection dropped mid-answer.
    pub fn drop_next(&self, matching: &str) {
        self.shared.script.drop_next(matching);
    }

    /// Every call served, as `METHOD path?query`.
    pub fn requests(&self) -> Vec<String> {
        self.shared.script.requests()
    }

    /// Adds to this group made from now on never become visible to reads.
    pub fn set_replication_lag_forever(&self, group: &str) {
        lock(&self.shared).replication.never_visible(group);
    }

    /// The true direct membership, ignoring replication lag.
    pub fn is_direct_member(&self, group: &str, user: &str) -> bool {
        lock(&self.shared).dir.membership(user, group) == MembershipState::Direct
    }

    /// The tenant as it stands.
    pub fn snapshot(&self) -> DirectorySnapshot {
        lock(&self.shared).dir.clone()
    }
}

/// A handler's answer: status and JSON body.
type Reply = (u16, Option<Value>);

/// An answer with Graph's error envelope.
fn graph_error(status: u16, code: &str, message: impl Into<String>) -> Reply {
    let message: String = message.into();
    (
        status,
        Some(json!({"error": {"code": code, "message": message}})),
    )
}

/// Graph's 404 for a missing object (or reference).
fn not_found(id: &str) -> Reply {
    graph_error(
        404,
        "Request_ResourceNotFound",
        format!(
            "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
        ),
    )
}

/// Graph's 400 for a request it cannot serve.
fn bad(message: &str) -> Reply {
    graph_error(400, "Request_BadRequest", message)
}

fn error_body(code: &str, message: &str, request_id: &str, now: DateTime<Utc>) -> Value {
    json!({"error": {"code": code, "message": message, "innerError": {
        "date": now.format("%Y-%m-%dT%H:%M:%S").to_string(), "request-id": request_id, "client-request-id": request_id }}})
}

/// A Graph-shaped answer with its id headers.
fn answer(
    status: u16,
    body: Option<Value>,
    request_id: &str,
    client_request_id: Option<&str>,
    retry_after: Option<u64>,
) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = match body {
        Some(v) => (status, axum::Json(v)).into_response(),
        None => status.into_response(),
    };
    let headers = response.headers_mut();
    let set = |headers: &mut HeaderMap, name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    };
    set(headers, "request-id", request_id);
    set(
        headers,
        "client-request-id",
        client_request_id.unwrap_or(request_id),
    );
    set(headers, "cache-control", "no-store");
    if let Some(s) = retry_after {
        set(headers, "retry-after", &s.to_string());
    }
    response
}

async fn token(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let o = &shared.options;
    let now = shared.clock.now();
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    let refuse = |status: u16, error: &str, code: u32, text: &str| {
        let body = json!({"error": error,
            "error_description": format!("AADSTS{code}: {text}\r\nTrace ID: 0000aaaa-0000-0000-0000-000000000001\r\nCorrelation ID: 0000bbbb-0000-0000-0000-000000000002\r\nTimestamp: {}", now.format("%Y-%m-%d %H:%M:%SZ")),
            "error_codes": [code], "error_uri": format!("https://login.microsoftonline.com/error?code={code}")});
        (
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            axum::Json(body),
        )
            .into_response()
    };
    if tenant != o.tenant_id {
        return refuse(400, "invalid_request", 90002, "Tenant not found.");
    }
    if field("grant_type") != "client_credentials" {
        return refuse(
            400,
            "unsupported_grant_type",
            70003,
            "The app requested an unsupported grant type.",
        );
    }
    if !field("scope").ends_with("/.default") {
        return refuse(
            400,
            "invalid_scope",
            1002012,
            "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed.",
        );
    }
    if field("client_id") != o.client_id {
        return refuse(
            400,
            "unauthorized_client",
            700016,
            "Application was not found in the directory.",
        );
    }
    if field("client_secret") != o.client_secret {
        return refuse(
            401,
            "invalid_client",
            7000215,
            "Invalid client secret provided.",
        );
    }
    let mut t = lock(&shared);
    t.counter += 1;
    let token = format!("emulator-token-{:06}", t.counter);
    t.tokens.insert(
        token.clone(),
        now + TimeDelta::seconds(o.token_lifetime_seconds),
    );
    axum::Json(
        json!({"token_type": "Bearer", "expires_in": o.token_lifetime_seconds,
        "ext_expires_in": o.token_lifetime_seconds, "access_token": token}),
    )
    .into_response()
}

async fn graph(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = shared.clock.now();
    let client_request_id = headers
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let line = match shared.script.admit(&method, &uri).await {
        Ok(line) => line,
        Err(dropped) => return dropped,
    };
    let mut t = lock(&shared);
    t.counter += 1;
    let request_id = format!("emu-{:06}", t.counter);
    let reply = |status: u16, body: Option<Value>| {
        answer(
            status,
            body,
            &request_id,
            client_request_id.as_deref(),
            None,
        )
    };
    let fail = |status: u16, code: &str, message: &str| {
        answer(
            status,
            Some(error_body(code, message, &request_id, now)),
            &request_id,
            client_request_id.as_deref(),
            None,
        )
    };

    // Authentication.
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    match t.tokens.get(bearer) {
        None if bearer.is_empty() => {
            return fail(401, "InvalidAuthenticationToken", "Access token is empty.");
        }
        None => {
            return fail(
                401,
                "InvalidAuthenticationToken",
                "Access token validation failure. Invalid audience.",
            );
        }
        Some(expiry) if *expiry <= now => {
            return fail(
                401,
                "InvalidAuthenticationToken",
                "Access token has expired or is not yet valid.",
            );
        }
        Some(_) => {}
    }
    // Throttling: a retry before Retry-After has passed is throttled again, and the window restarts.
    let throttle = |t: &mut Tenant| {
        let seconds = shared.options.retry_after_seconds;
        t.throttled_until = Some(now + TimeDelta::seconds(i64::try_from(seconds).unwrap_or(60)));
        let body = error_body(
            "TooManyRequests",
            "Please retry again later.",
            &request_id,
            now,
        );
        answer(
            429,
            Some(body),
            &request_id,
            client_request_id.as_deref(),
            Some(seconds),
        )
    };
    if t.throttled_until.is_some_and(|until| now < until) {
        return throttle(&mut t);
    }
    if let Some(ScriptedFailure {
        status,
        retry_after,
    }) = shared.script.take_failure(&line)
    {
        if status == 429 {
            if let Some(s) = retry_after {
                t.throttled_until = Some(now + TimeDelta::seconds(i64::try_from(s).unwrap_or(60)));
            }
            let body = error_body(
                "TooManyRequests",
                "Please retry again later.",
                &request_id,
                now,
            );
            return answer(
                429,
                Some(body),
                &request_id,
                client_request_id.as_deref(),
                retry_after,
            );
        }
        let code = match status {
            503 => "serviceNotAvailable",
            504 => "gatewayTimeout",
            _ => "generalException",
        };
        return answer(
            status,
            Some(error_body(code, "Injected failure.", &request_id, now)),
            &request_id,
            client_request_id.as_deref(),
            retry_after,
        );
    }
    if shared.options.fault_rate > 0.0 && t.rng.random::<f64>() < shared.options.fault_rate {
        return match t.rng.random_range(0..3) {
            0 => throttle(&mut t),
            1 => fail(
                503,
                "serviceNotAvailable",
                "The service is temporarily unavailable.",
            ),
            _ => fail(504, "gatewayTimeout", "The gateway timed out."),
        };
    }
    let path = uri.path().strip_prefix("/v1.0").unwrap_or("");
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let body: Value = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).unwrap_or(Value::Null)
    };
    let eventual = headers
        .get("consistencylevel")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("eventual"));
    let (status, body) = serve(
        &shared, &mut t, &method, &segs, &query, &body, eventual, now,
    );
    reply(status, body)
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

fn user_json(dir: &DirectorySnapshot, key: &str, select: Option<&String>) -> Option<Value> {
    let u = dir.find_user(key)?;
    let full = json!({
        "@odata.type": "#microsoft.graph.user",
        "id": u.id, "userPrincipalName": u.upn, "displayName": u.display_name, "mail": u.upn,
        "accountEnabled": u.enabled, "userType": if u.user_type == groupgate_core::UserType::Guest { "Guest" } else { "Member" },
        "employeeType": u.employee_type,
    });
    // Without $select only the default set comes back (no accountEnabled, userType, employeeType).
    let fields: Vec<&str> = match select {
        Some(s) => s.split(',').map(str::trim).collect(),
        None => vec!["id", "userPrincipalName", "displayName", "mail"],
    };
    let mut out = serde_json::Map::new();
    out.insert("@odata.type".to_owned(), full["@odata.type"].clone());
    for f in fields {
        if let Some(v) = full.get(f) {
            out.insert(f.to_owned(), v.clone());
        }
    }
    Some(Value::Object(out))
}

/// The directory objects in a group: its users as they are visible now
/// (with `$select`), and its nested groups (`id`, `displayName`); with
/// `transitive`, also everything in the nested groups, each object once.
fn member_objects(
    t: &Tenant,
    group: &str,
    transitive: bool,
    query: &HashMap<String, String>,
    now: DateTime<Utc>,
) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    let mut users_seen: Vec<&str> = Vec::new();
    let groups = t.dir.nested_groups(group, transitive);
    for g in &groups {
        for m in &g.members {
            let Some(u) = t.dir.find_user(m) else {
                continue;
            };
            let state = visible(t, group, &u.id, now);
            let shown = match state {
                MembershipState::Direct => true,
                MembershipState::Transitive => transitive,
                MembershipState::NotMember => false,
            };
            if !shown || users_seen.iter().any(|s| s.eq_ignore_ascii_case(&u.id)) {
                continue;
            }
            users_seen.push(&u.id);
            if let Some(v) = user_json(&t.dir, &u.id, query.get("$select")) {
                out.push(v);
            }
        }
    }
    let nested: Vec<&str> = if transitive {
        groups.iter().skip(1).map(|g| g.id.as_str()).collect()
    } else {
        groups
            .first()
            .map(|g| g.member_groups.iter().map(String::as_str).collect())
            .unwrap_or_default()
    };
    for id in nested {
        if let Some(g) = t.dir.find_group(id) {
            out.push(json!({"@odata.type": "#microsoft.graph.group", "id": g.id, "displayName": g.display_name}));
        }
    }
    out
}

fn visible(t: &Tenant, group: &str, user: &str, now: DateTime<Utc>) -> MembershipState {
    let truth = t.dir.membership(user, group);
    t.replication.visible(truth, group, user, now)
}

#[allow(clippy::too_many_arguments)]
fn serve(
    shared: &Shared,
    t: &mut Tenant,
    method: &Method,
    segs: &[&str],
    query: &HashMap<String, String>,
    body: &Value,
    eventual: bool,
    now: DateTime<Utc>,
) -> Reply {
    let user_key = |s: &str| -> String {
        s.strip_prefix("('")
            .and_then(|x| x.strip_suffix("')"))
            .map(|x| x.replace("''", "'"))
            .unwrap_or_else(|| s.to_owned())
    };
    match (method.as_str(), segs) {
        ("GET", ["users", key]) => match user_json(&t.dir, &user_key(key), query.get("$select")) {
            Some(v) => (200, Some(v)),
            None => not_found(&user_key(key)),
        },
        ("GET", ["users", key, "manager"]) => {
            let key = user_key(key);
            let Some(u) = t.dir.find_user(&key) else {
                return not_found(&key);
            };
            match u
                .manager
                .clone()
                .and_then(|m| user_json(&t.dir, &m, query.get("$select")))
            {
                Some(v) => (200, Some(v)),
                None => not_found("manager"),
            }
        }
        ("GET", ["groups", id]) => match t.dir.find_group(id) {
            Some(g) => {
                let mut types = Vec::new();
                if g.unified {
                    types.push("Unified");
                }
                if g.dynamic_membership {
                    types.push("DynamicMembership");
                }
                (
                    200,
                    Some(
                        json!({"id": g.id, "displayName": g.display_name, "groupTypes": types,
                    "securityEnabled": g.security_enabled, "mailEnabled": g.mail_enabled,
                    "membershipRule": if g.dynamic_membership { Some("user.department -eq \"Sales\"") } else { None },
                    "onPremisesSyncEnabled": if g.on_premises_synced { Some(true) } else { None },
                    "isAssignableToRole": g.role_assignable}),
                    ),
                )
            }
            None => not_found(id),
        },
        ("GET", ["groups", id, "members"]) if query.contains_key("$filter") => {
            let Some(g) = t.dir.find_group(id) else {
                return not_found(id);
            };
            if !eventual || query.get("$count").is_none_or(|c| c != "true") {
                return bad(
                    "Request_UnsupportedQuery: $filter on members requires ConsistencyLevel: eventual and $count=true.",
                );
            }
            let wanted = query
                .get("$filter")
                .and_then(|f| f.strip_prefix("id eq '"))
                .and_then(|f| f.strip_suffix('\''))
                .map(|f| f.replace("''", "'"));
            let Some(wanted) = wanted else {
                return bad(
                    "Request_UnsupportedQuery: the emulator filters members only by `id eq '…'`.",
                );
            };
            let values: Vec<Value> = g
                .members
                .iter()
                .filter_map(|m| t.dir.find_user(m))
                .filter(|u| u.id.eq_ignore_ascii_case(&wanted))
                .filter(|u| visible(t, id, &u.id, now) == MembershipState::Direct)
                .map(|u| json!({"@odata.type": "#microsoft.graph.user", "id": u.id}))
                .collect();
            (
                200,
                Some(json!({"@odata.count": values.len(), "value": values})),
            )
        }
        ("GET", ["groups", id, relation @ ("members" | "transitiveMembers")]) => {
            if t.dir.find_group(id).is_none() {
                return not_found(id);
            }
            let values = member_objects(t, id, *relation == "transitiveMembers", query, now);
            paged(shared, &format!("/groups/{id}/{relation}"), query, values)
        }
        ("GET", ["users", key, "memberOf"]) => {
            let key = user_key(key);
            let Some(u) = t.dir.find_user(&key).cloned() else {
                return not_found(&key);
            };
            let values: Vec<Value> = t
                .dir
                .groups
                .iter()
                .filter(|g| visible(t, &g.id, &u.id, now) == MembershipState::Direct)
                .map(|g| json!({"@odata.type": "#microsoft.graph.group", "id": g.id}))
                .collect();
            paged(shared, &format!("/users/{}/memberOf", u.id), query, values)
        }
        ("POST", ["users", key, "checkMemberGroups"]) => {
            let key = user_key(key);
            let Some(u) = t.dir.find_user(&key).cloned() else {
                return not_found(&key);
            };
            let ids: Vec<String> = body
                .get("groupIds")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
            if ids.len() > 20 {
                return bad("Too many groupIds: at most 20 are allowed.");
            }
            let found: Vec<String> = ids
                .into_iter()
                .filter(|g| visible(t, g, &u.id, now) != MembershipState::NotMember)
                .collect();
            (200, Some(json!({"value": found})))
        }
        ("POST", ["groups", id, "members", "$ref"]) => {
            let Some(member) = body
                .get("@odata.id")
                .and_then(Value::as_str)
                .and_then(|s| s.rsplit('/').next())
                .map(str::to_owned)
            else {
                return bad(
                    "Invalid request body: expected {\"@odata.id\": \".../directoryObjects/{id}\"}.",
                );
            };
            add_member(shared, t, id, &member, now)
        }
        ("DELETE", ["groups", id, "members", member, "$ref"]) => {
            remove_member(shared, t, id, member, now)
        }
        ("DELETE", ["groups", _, "members", _]) => bad(
            "groupgate emulator refuses DELETE /groups/{g}/members/{m} without /$ref: with write permission on users it would delete the user object itself.",
        ),
        ("POST", ["$batch"]) => batch(shared, t, body, now),
        _ => bad(&format!(
            "the emulator does not serve {} /{}",
            method,
            segs.join("/")
        )),
    }
}

/// A collection answer, paged as Graph pages: `$top` items (100 by default,
/// at most 999) and an absolute `@odata.nextLink` while more remain.
fn paged(
    shared: &Shared,
    path: &str,
    query: &HashMap<String, String>,
    values: Vec<Value>,
) -> Reply {
    let top = query
        .get("$top")
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(100)
        .clamp(1, shared.options.max_page_size.clamp(1, 999));
    let skip = query
        .get("$skiptoken")
        .and_then(|t| t.strip_prefix("emu-"))
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(0);
    let page: Vec<Value> = values.iter().skip(skip).take(top).cloned().collect();
    let mut out = json!({ "value": page });
    if skip + top < values.len() {
        let mut params: Vec<String> = query
            .iter()
            .filter(|(k, _)| k.as_str() != "$skiptoken")
            .map(|(k, v)| {
                format!(
                    "{k}={}",
                    percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
                )
            })
            .collect();
        params.sort();
        params.push(format!("$skiptoken=emu-{}", skip + top));
        out["@odata.nextLink"] =
            Value::String(format!("{}{path}?{}", shared.base_url, params.join("&")));
    }
    (200, Some(out))
}

fn write_allowed(shared: &Shared, t: &mut Tenant, now: DateTime<Utc>) -> bool {
    let budget = shared.options.write_budget;
    if budget == 0 {
        return true;
    }
    while t
        .writes
        .front()
        .is_some_and(|w| *w + shared.options.write_window <= now)
    {
        t.writes.pop_front();
    }
    if t.writes.len() as u32 >= budget {
        return false;
    }
    t.writes.push_back(now);
    true
}

fn add_member(
    shared: &Shared,
    t: &mut Tenant,
    group: &str,
    member: &str,
    now: DateTime<Utc>,
) -> Reply {
    let Some(g) = t.dir.find_group(group).cloned() else {
        return not_found(group);
    };
    let Some(user) = t
        .dir
        .users
        .iter()
        .find(|u| u.id.eq_ignore_ascii_case(member))
        .cloned()
    else {
        return not_found(member);
    };
    if g.role_assignable || g.dynamic_membership {
        return graph_error(
            403,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        );
    }
    if g.on_premises_synced {
        return bad(
            "Unable to update the specified properties for objects that have originated within an external service.",
        );
    }
    if g.mail_enabled && !g.unified {
        return bad("Cannot Update a mail-enabled security groups and or distribution list.");
    }
    if t.dir.membership(&user.id, group) == MembershipState::Direct {
        return bad(
            "One or more added object references already exist for the following modified properties: 'members'.",
        );
    }
    if !write_allowed(shared, t, now) {
        return graph_error(429, "TooManyRequests", "Please retry again later.");
    }
    if let Some(target) = t.dir.find_group_mut(group) {
        target.members.push(user.id.clone());
    }
    t.replication.added(group, &user.id, now);
    (204, None)
}

fn remove_member(
    shared: &Shared,
    t: &mut Tenant,
    group: &str,
    member: &str,
    now: DateTime<Utc>,
) -> Reply {
    if t.dir.find_group(group).is_none() {
        return not_found(group);
    }
    let upn = t
        .dir
        .users
        .iter()
        .find(|u| u.id.eq_ignore_ascii_case(member))
        .map(|u| u.upn.clone())
        .unwrap_or_default();
    if t.dir.membership(member, group) != MembershipState::Direct {
        return not_found(member);
    }
    if !write_allowed(shared, t, now) {
        return graph_error(429, "TooManyRequests", "Please retry again later.");
    }
    if let Some(g) = t.dir.find_group_mut(group) {
        g.members
            .retain(|m| !m.eq_ignore_ascii_case(member) && !m.eq_ignore_ascii_case(&upn));
    }
    t.replication.removed(group, member, now);
    (204, None)
}

/// `$batch`: at most 20 requests, answered in reverse order (Graph answers in
/// any order), each with its own status; a throttled item carries its own
/// `Retry-After`.
fn batch(shared: &Shared, t: &mut Tenant, body: &Value, now: DateTime<Utc>) -> Reply {
    let requests = body
        .get("requests")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if requests.is_empty() || requests.len() > 20 {
        return graph_error(
            400,
            "BadRequest",
            "A batch holds between 1 and 20 requests.",
        );
    }
    let mut ids: Vec<String> = Vec::new();
    for r in &requests {
        let id = r
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_ascii_lowercase();
        if id.is_empty() || ids.contains(&id) {
            return graph_error(
                400,
                "BadRequest",
                "Batch request ids must be present and unique.",
            );
        }
        ids.push(id);
    }
    // Items run in the order given (a `dependsOn` must name an earlier
    // item); one whose dependency failed answers 424. Responses come back in
    // another order, as Graph's may.
    let mut statuses: HashMap<String, u16> = HashMap::new();
    let mut responses = Vec::new();
    for r in &requests {
        let id = r
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let failed_dependency = r
            .get("dependsOn")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .any(|d| {
                statuses
                    .get(&d.to_ascii_lowercase())
                    .is_none_or(|s| *s >= 400)
            });
        if failed_dependency {
            statuses.insert(id.to_ascii_lowercase(), 424);
            responses.push(json!({"id": id, "status": 424, "headers": {"Content-Type": "application/json"},
                "body": {"error": {"code": "FailedDependency", "message": "A request this one depends on failed."}}}));
            continue;
        }
        let method = r
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_ascii_uppercase();
        let url = r.get("url").and_then(Value::as_str).unwrap_or_default();
        let (path, query_string) = url.split_once('?').unwrap_or((url, ""));
        let segs: Vec<String> = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(percent_decode)
            .collect();
        let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
        let query: HashMap<String, String> = query_string
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (percent_decode(k), percent_decode(&v.replace('+', " ")))
            })
            .collect();
        let eventual = r
            .get("headers")
            .and_then(Value::as_object)
            .and_then(|h| {
                h.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("consistencylevel"))
            })
            .and_then(|(_, v)| v.as_str())
            .is_some_and(|v| v.eq_ignore_ascii_case("eventual"));
        let item_body = r.get("body").cloned().unwrap_or(Value::Null);
        if shared.options.fault_rate > 0.0 && t.rng.random::<f64>() < shared.options.fault_rate {
            statuses.insert(id.to_ascii_lowercase(), 429);
            responses.push(json!({"id": id, "status": 429, "headers": {"Retry-After": shared.options.retry_after_seconds.to_string()},
                "body": {"error": {"code": "TooManyRequests", "message": "Please retry again later."}}}));
            continue;
        }
        let method = Method::from_bytes(method.as_bytes()).unwrap_or(Method::GET);
        let (status, body) = serve(shared, t, &method, &segs, &query, &item_body, eventual, now);
        statuses.insert(id.to_ascii_lowercase(), status);
        responses.push(json!({"id": id, "status": status, "headers": {"Content-Type": "application/json"}, "body": body}));
    }
    responses.reverse();
    (200, Some(json!({"responses": responses})))
}
