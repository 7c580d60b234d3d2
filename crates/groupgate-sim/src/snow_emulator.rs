//! An HTTP emulator of the ServiceNow Table API subset groupgate uses, on
//! 127.0.0.1 and an ephemeral port: `sc_req_item`, `sc_cat_item`, `sys_user`,
//! `sysapproval_approver`, catalog variables (`sc_item_option_mtom`, dot-walked)
//! and the journal (`sys_journal_field`), with the `{"result": …}` envelope,
//! the error envelope, `sysparm_query` (`=`, `!=`, `IN`, `LIKE`, `STARTSWITH`,
//! `^OR`, `ORDERBY`), `sysparm_fields`, `sysparm_limit`/`sysparm_offset` with
//! `X-Total-Count` and `Link`, `sysparm_display_value`, reference links,
//! Basic and OAuth (`oauth_token.do`) authentication, approval roll-up to the
//! RITM, scripted approvers, and the same fault injection as the Graph
//! emulator. By default, like an instance, it ignores query conditions it
//! cannot read (`strict_queries` turns that off).

use crate::disruption::{Script, ScriptedFailure};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::{DateTime, Utc};
use groupgate_core::ports::Clock;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// A user in the seed data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnowUser {
    /// sys_id (32 hex characters).
    pub sys_id: String,
    /// User name.
    pub user_name: String,
    /// E-mail (the UPN in Entra ID, usually).
    pub email: String,
    /// Further fields, e.g. a custom `u_entra_object_id`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
}

/// A requested item in the seed data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnowRitm {
    /// sys_id.
    pub sys_id: String,
    /// `RITM…`.
    pub number: String,
    /// The catalog item's sys_id.
    pub cat_item: String,
    /// The requested-for user's sys_id.
    pub requested_for: String,
    /// The opened-by user's sys_id.
    pub opened_by: String,
    /// Catalog variables by name.
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
}

/// The seed data: users, catalog items, RITMs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnowData {
    /// Users.
    #[serde(default)]
    pub users: Vec<SnowUser>,
    /// Catalog items: sys_id → name.
    #[serde(default)]
    pub catalog_items: BTreeMap<String, String>,
    /// Requested items.
    #[serde(default)]
    pub ritms: Vec<SnowRitm>,
}

/// Credentials and misbehaviour.
#[derive(Debug, Clone)]
pub struct SnowEmulatorOptions {
    /// The integration user (Basic and the OAuth password grant).
    pub user: String,
    /// Its password.
    pub password: String,
    /// The OAuth client id.
    pub client_id: String,
    /// The OAuth client secret.
    pub client_secret: String,
    /// Token lifetime in seconds.
    pub token_lifetime_seconds: i64,
    /// Answer no rows (instead of ignoring the condition) for unreadable query conditions.
    pub strict_queries: bool,
    /// Share of calls that fail at random (429 with rate-limit headers, 503).
    pub fault_rate: f64,
    /// Seed of the random faults.
    pub seed: u64,
    /// `Retry-After` of emulated rate limiting, in seconds.
    pub retry_after_seconds: u64,
}

impl Default for SnowEmulatorOptions {
    fn default() -> Self {
        Self {
            user: "groupgate.integration".to_owned(),
            password: "emulator-password".to_owned(),
            client_id: "snow-client".to_owned(),
            client_secret: "snow-secret".to_owned(),
            token_lifetime_seconds: 1799,
            strict_queries: false,
            fault_rate: 0.0,
            seed: 1,
            retry_after_seconds: 2,
        }
    }
}

type Row = Map<String, Value>;

#[derive(Debug)]
struct Instance {
    tables: BTreeMap<String, Vec<Row>>,
    tokens: HashMap<String, DateTime<Utc>>,
    /// Refresh tokens issued and not revoked.
    refresh_tokens: std::collections::HashSet<String>,
    /// The grant type of every token request, granted or not.
    grants: Vec<String>,
    acts: Vec<(String, String, String, DateTime<Utc>)>,
    rng: SmallRng,
    counter: u64,
}

struct Shared {
    instance: Mutex<Instance>,
    script: Script,
    options: SnowEmulatorOptions,
    clock: Arc<dyn Clock>,
    base: Mutex<String>,
}

/// A running ServiceNow emulator. Dropping it stops the server.
pub struct SnowEmulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for SnowEmulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnowEmulator")
            .field("addr", &self.addr)
            .finish()
    }
}

impl Drop for SnowEmulator {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Instance> {
    match shared.instance.lock() {
        Ok(i) => i,
        Err(poisoned) => poisoned.into_inner(),
    }
}

fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S").to_string()
}

fn text(row: &Row, key: &str) -> String {
    row.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// Reference fields and the tables they point to.
const REFERENCES: &[(&str, &str)] = &[
    ("requested_for", "sys_user"),
    ("opened_by", "sys_user"),
    ("approver", "sys_user"),
    ("cat_item", "sc_cat_item"),
    ("sysapproval", "task"),
    ("request_item", "sc_req_item"),
];

impl SnowEmulator {
    /// Starts the emulator on `bind` (`127.0.0.1:0` for an ephemeral port).
    pub async fn start(
        bind: &str,
        data: SnowData,
        options: SnowEmulatorOptions,
        clock: Arc<dyn Clock>,
    ) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(bind).await?;
        let addr = listener.local_addr()?;
        let now = clock.now();
        let mut tables: BTreeMap<String, Vec<Row>> = BTreeMap::new();
        let mut counter = 0u64;
        for u in &data.users {
            let mut user = json!({"sys_id": u.sys_id, "user_name": u.user_name, "email": u.email, "active": "true"});
            for (k, v) in &u.fields {
                user[k] = Value::String(v.clone());
            }
            tables.entry("sys_user".into()).or_default().push(row(user));
        }
        for (id, name) in &data.catalog_items {
            tables
                .entry("sc_cat_item".into())
                .or_default()
                .push(row(json!({"sys_id": id, "name": name})));
        }
        for r in &data.ritms {
            tables.entry("sc_req_item".into()).or_default().push(row(json!({
                "sys_id": r.sys_id, "number": r.number, "cat_item": r.cat_item, "requested_for": r.requested_for,
                "opened_by": r.opened_by, "state": "1", "approval": "not requested", "stage": "request_approved",
                "active": "true", "short_description": "Access request", "work_notes": "", "comments": "",
                "sys_created_on": stamp(now), "sys_updated_on": stamp(now)})));
            for (name, value) in &r.variables {
                counter += 1;
                tables
                    .entry("sc_item_option_mtom".into())
                    .or_default()
                    .push(row(json!({
                    "sys_id": format!("{counter:032x}"), "request_item": r.sys_id,
                    "sc_item_option.item_option_new.name": name, "sc_item_option.value": value})));
            }
        }
        let shared = Arc::new(Shared {
            script: Script::default(),
            instance: Mutex::new(Instance {
                tables,
                tokens: HashMap::new(),
                refresh_tokens: Default::default(),
                grants: Vec::new(),
                acts: Vec::new(),
                rng: SmallRng::seed_from_u64(options.seed),
                counter: counter + 1000,
            }),
            options,
            clock,
            base: Mutex::new(format!("http://{addr}")),
        });
        let app = Router::new()
            .route("/oauth_token.do", post(token))
            .fallback(table)
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, shared, task })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn instance_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The options it runs with.
    pub fn options(&self) -> &SnowEmulatorOptions {
        &self.shared.options
    }

    /// The next call whose `METHOD path` contains `matching` answers `status`.
    pub fn fail_next(&self, matching: &str, status: u16, retry_after: Option<u64>) {
        self.shared.script.fail_next(matching, status, retry_after);
    }

    /// The next call whose `METHOD path` contains `matching` is answered only
    /// after `delay` (real time).
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

    /// The approver (by e-mail) acts on their open approval record of the RITM
    /// at `at` (now or later), as if in the ServiceNow UI: `approved` or `rejected`.
    pub fn act_at(&self, ritm_number: &str, approver_email: &str, state: &str, at: DateTime<Utc>) {
        lock(&self.shared).acts.push((
            ritm_number.to_owned(),
            approver_email.to_owned(),
            state.to_owned(),
            at,
        ));
    }

    /// As the instance's own catalog flow would: creates a `requested` approval
    /// record on the RITM for each approver (by e-mail), now, with no
    /// groupgate marker. Approvers without a `sys_user` record are skipped.
    pub fn flow_requests_approval(&self, ritm_number: &str, approver_emails: &[&str]) {
        let now = self.shared.clock.now();
        let mut i = lock(&self.shared);
        let Some(ritm) = i
            .tables
            .get("sc_req_item")
            .and_then(|rows| rows.iter().find(|r| text(r, "number") == ritm_number))
            .map(|r| text(r, "sys_id"))
        else {
            return;
        };
        for email in approver_emails {
            let Some(user) = i
                .tables
                .get("sys_user")
                .and_then(|rows| {
                    rows.iter()
                        .find(|u| text(u, "email").eq_ignore_ascii_case(email))
                })
                .map(|u| text(u, "sys_id"))
            else {
                continue;
            };
            i.counter += 1;
            let record = row(json!({
                "sys_id": format!("{:032x}", i.counter),
                "sysapproval": ritm, "document_id": ritm, "source_table": "sc_req_item",
                "approver": user, "state": "requested",
                "sys_created_on": stamp(now), "sys_updated_on": stamp(now),
            }));
            i.tables
                .entry("sysapproval_approver".to_owned())
                .or_default()
                .push(record);
        }
    }

    /// The `grant_type` of every request to `oauth_token.do`, in order,
    /// whether granted or not.
    pub fn token_grants(&self) -> Vec<String> {
        lock(&self.shared).grants.clone()
    }

    /// Revokes every refresh token issued so far (as an administrator
    /// would); a client must then use its full grant again.
    pub fn revoke_refresh_tokens(&self) {
        lock(&self.shared).refresh_tokens.clear();
    }

    /// Adds a record to a table, as someone with admin rights on the instance
    /// would (e.g. a second `sys_user` carrying another user's e-mail).
    pub fn insert_record(&self, table: &str, fields: Value) {
        let mut i = lock(&self.shared);
        i.tables
            .entry(table.to_owned())
            .or_default()
            .push(row(fields));
    }

    /// Changes fields of a record, as someone editing it in the instance
    /// would (e.g. re-pointing an approval record's approver).
    pub fn update_record(&self, table: &str, sys_id: &str, fields: Value) {
        let now = self.shared.clock.now();
        let mut i = lock(&self.shared);
        if let Some(record) = i
            .tables
            .get_mut(table)
            .and_then(|rows| rows.iter_mut().find(|r| text(r, "sys_id") == sys_id))
            && let Value::Object(fields) = fields
        {
            for (k, v) in fields {
                record.insert(k, v);
            }
            record.insert("sys_updated_on".into(), Value::String(stamp(now)));
        }
    }

    /// A record's fields, by table and sys_id.
    pub fn record(&self, table: &str, sys_id: &str) -> Option<Map<String, Value>> {
        lock(&self.shared)
            .tables
            .get(table)?
            .iter()
            .find(|r| text(r, "sys_id") == sys_id)
            .cloned()
    }

    /// A RITM's fields, by number.
    pub fn ritm(&self, number: &str) -> Option<Map<String, Value>> {
        lock(&self.shared)
            .tables
            .get("sc_req_item")?
            .iter()
            .find(|r| text(r, "number") == number)
            .cloned()
    }

    /// The journal entries (`work_notes` or `comments`) of a record, oldest first.
    pub fn journal(&self, sys_id: &str, element: &str) -> Vec<String> {
        let i = lock(&self.shared);
        i.tables
            .get("sys_journal_field")
            .map(|rows| {
                rows.iter()
                    .filter(|r| text(r, "element_id") == sys_id && text(r, "element") == element)
                    .map(|r| text(r, "value"))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The approval records of a RITM (by number).
    pub fn approvals(&self, ritm_number: &str) -> Vec<Map<String, Value>> {
        let Some(ritm) = self.ritm(ritm_number) else {
            return Vec::new();
        };
        let id = text(&ritm, "sys_id");
        lock(&self.shared)
            .tables
            .get("sysapproval_approver")
            .map(|rows| {
                rows.iter()
                    .filter(|r| text(r, "sysapproval") == id)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn row(v: Value) -> Row {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn envelope_error(status: u16, message: &str, detail: &str) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        code,
        axum::Json(json!({"error": {"message": message, "detail": detail}, "status": "failure"})),
    )
        .into_response()
}

async fn token(
    State(shared): State<Arc<Shared>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let o = &shared.options;
    let now = shared.clock.now();
    let f = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    let client_ok = f("client_id") == o.client_id && f("client_secret") == o.client_secret;
    let mut i = lock(&shared);
    i.grants.push(f("grant_type").to_owned());
    let granted = match f("grant_type") {
        "password" => client_ok && f("username") == o.user && f("password") == o.password,
        "client_credentials" => client_ok,
        "refresh_token" => client_ok && i.refresh_tokens.contains(f("refresh_token")),
        _ => false,
    };
    if !granted {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error_description": "access_denied", "error": "server_error"})),
        )
            .into_response();
    }
    i.counter += 1;
    let token = format!("snow-token-{:06}", i.counter);
    i.tokens.insert(
        token.clone(),
        now + chrono::TimeDelta::seconds(o.token_lifetime_seconds),
    );
    let refresh = format!("refresh-{:06}", i.counter);
    i.refresh_tokens.insert(refresh.clone());
    axum::Json(json!({"access_token": token, "refresh_token": refresh, "scope": "useraccount", "token_type": "Bearer", "expires_in": o.token_lifetime_seconds})).into_response()
}

fn authorized(shared: &Shared, i: &Instance, headers: &HeaderMap, now: DateTime<Utc>) -> bool {
    let Some(auth) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return false;
    };
    if let Some(token) = auth.strip_prefix("Bearer ") {
        return i.tokens.get(token).is_some_and(|until| *until > now);
    }
    if let Some(basic) = auth.strip_prefix("Basic ") {
        let expected = format!("{}:{}", shared.options.user, shared.options.password);
        return decode_base64(basic).as_deref() == Some(expected.as_str());
    }
    false
}

fn decode_base64(s: &str) -> Option<String> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .ok()?;
    String::from_utf8(bytes).ok()
}

async fn table(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = shared.clock.now();
    let line = match shared.script.admit(&method, &uri).await {
        Ok(line) => line,
        Err(dropped) => return dropped,
    };
    let mut i = lock(&shared);
    apply_acts(&mut i, now);
    if !authorized(&shared, &i, &headers, now) {
        return envelope_error(
            401,
            "User Not Authenticated",
            "Required to provide Auth information",
        );
    }
    if let Some(ScriptedFailure {
        status,
        retry_after,
    }) = shared.script.take_failure(&line)
    {
        return limited(status, retry_after, now);
    }
    if shared.options.fault_rate > 0.0 && i.rng.random::<f64>() < shared.options.fault_rate {
        let retry = shared.options.retry_after_seconds;
        return if i.rng.random_bool(0.5) {
            limited(429, Some(retry), now)
        } else {
            limited(503, None, now)
        };
    }
    let segs: Vec<&str> = uri
        .path()
        .trim_start_matches("/api/now/table/")
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let body: Value = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).unwrap_or(Value::Null)
    };
    let base = shared.base.lock().map(|b| b.clone()).unwrap_or_default();
    match (method.as_str(), segs.as_slice()) {
        ("GET", [table]) => list(&shared, &i, table, &query, &base, &uri),
        ("GET", [table, id]) => match find(&i, table, id) {
            Some(r) => axum::Json(json!({"result": shape(r, &query, &base)})).into_response(),
            None => envelope_error(
                404,
                "No Record found",
                "Record doesn't exist or ACL restricts the record retrieval",
            ),
        },
        ("POST", [table]) => {
            let Some(fields) = body.as_object() else {
                return envelope_error(400, "Invalid request", "the body is not a JSON object");
            };
            i.counter += 1;
            let id = format!("{:032x}", i.counter);
            let mut r = Row::new();
            r.insert("sys_id".into(), Value::String(id.clone()));
            r.insert("sys_created_on".into(), Value::String(stamp(now)));
            write_fields(&mut i, table, &mut r, fields, now);
            i.tables
                .entry((*table).to_owned())
                .or_default()
                .push(r.clone());
            roll_up(&mut i, table, &r, now);
            (
                StatusCode::CREATED,
                axum::Json(json!({"result": shape(&r, &HashMap::new(), &base)})),
            )
                .into_response()
        }
        ("PATCH" | "PUT", [table, id]) => {
            let Some(fields) = body.as_object().cloned() else {
                return envelope_error(400, "Invalid request", "the body is not a JSON object");
            };
            let Some(mut r) = find(&i, table, id).cloned() else {
                return envelope_error(
                    404,
                    "No Record found",
                    "Record doesn't exist or ACL restricts the record retrieval",
                );
            };
            write_fields(&mut i, table, &mut r, &fields, now);
            if let Some(stored) = i
                .tables
                .get_mut(*table)
                .and_then(|rows| rows.iter_mut().find(|x| text(x, "sys_id") == *id))
            {
                *stored = r.clone();
            }
            roll_up(&mut i, table, &r, now);
            axum::Json(json!({"result": shape(&r, &HashMap::new(), &base)})).into_response()
        }
        _ => envelope_error(
            400,
            "Invalid request",
            &format!("the emulator does not serve {line}"),
        ),
    }
}

fn limited(status: u16, retry_after: Option<u64>, now: DateTime<Utc>) -> Response {
    let mut r = if status == 429 {
        envelope_error(429, "Too Many Requests", "Rate limit exceeded")
    } else {
        envelope_error(status, "Injected failure", "")
    };
    if let Some(s) = retry_after {
        let h = r.headers_mut();
        for (k, v) in [
            ("retry-after", s.to_string()),
            ("x-ratelimit-limit", "100".to_owned()),
            (
                "x-ratelimit-reset",
                (now.timestamp() + i64::try_from(s).unwrap_or(0)).to_string(),
            ),
            (
                "x-ratelimit-rule",
                "0000aaaa00000000000000000000rule".to_owned(),
            ),
        ] {
            if let Ok(v) = HeaderValue::from_str(&v) {
                h.insert(k, v);
            }
        }
    }
    r
}

fn find<'a>(i: &'a Instance, table: &str, id: &str) -> Option<&'a Row> {
    i.tables
        .get(table)?
        .iter()
        .find(|r| text(r, "sys_id") == id)
}

/// Writes fields; journal fields are appended to `sys_journal_field` instead.
fn write_fields(
    i: &mut Instance,
    table: &str,
    r: &mut Row,
    fields: &Map<String, Value>,
    now: DateTime<Utc>,
) {
    let id = text(r, "sys_id");
    for (k, v) in fields {
        let value = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if k == "work_notes" || k == "comments" {
            if !value.is_empty() {
                i.counter += 1;
                let entry = row(
                    json!({"sys_id": format!("{:032x}", i.counter), "element_id": id, "element": k, "name": table,
                    "value": value, "sys_created_on": stamp(now), "sys_created_by": "groupgate.integration"}),
                );
                i.tables
                    .entry("sys_journal_field".into())
                    .or_default()
                    .push(entry);
            }
            r.insert(k.clone(), Value::String(String::new()));
        } else {
            r.insert(k.clone(), Value::String(value));
        }
    }
    r.insert("sys_updated_on".into(), Value::String(stamp(now)));
}

/// An approval record's change rolls up to the RITM's `approval` field.
fn roll_up(i: &mut Instance, table: &str, r: &Row, now: DateTime<Utc>) {
    if table != "sysapproval_approver" {
        return;
    }
    let ritm = text(r, "sysapproval");
    let states: Vec<String> = i
        .tables
        .get("sysapproval_approver")
        .map(|rows| {
            rows.iter()
                .filter(|x| text(x, "sysapproval") == ritm)
                .map(|x| text(x, "state"))
                .collect()
        })
        .unwrap_or_default();
    let approval = if states.iter().any(|s| s == "rejected") {
        "rejected"
    } else if states.iter().any(|s| s == "requested") {
        "requested"
    } else if states.iter().any(|s| s == "approved") {
        "approved"
    } else {
        "not requested"
    };
    if let Some(item) = i
        .tables
        .get_mut("sc_req_item")
        .and_then(|rows| rows.iter_mut().find(|x| text(x, "sys_id") == ritm))
    {
        item.insert("approval".into(), Value::String(approval.to_owned()));
        item.insert("sys_updated_on".into(), Value::String(stamp(now)));
    }
}

/// Scripted approvers whose time has come act on their open records.
fn apply_acts(i: &mut Instance, now: DateTime<Utc>) {
    let due: Vec<(String, String, String, DateTime<Utc>)> =
        i.acts.iter().filter(|a| a.3 <= now).cloned().collect();
    i.acts.retain(|a| a.3 > now);
    for (number, email, state, acted) in due {
        let ritm = i
            .tables
            .get("sc_req_item")
            .and_then(|rows| rows.iter().find(|r| text(r, "number") == number))
            .map(|r| text(r, "sys_id"));
        let user = i
            .tables
            .get("sys_user")
            .and_then(|rows| {
                rows.iter()
                    .find(|u| text(u, "email").eq_ignore_ascii_case(&email))
            })
            .map(|u| text(u, "sys_id"));
        let (Some(ritm), Some(user)) = (ritm, user) else {
            continue;
        };
        let record = i.tables.get_mut("sysapproval_approver").and_then(|rows| {
            rows.iter_mut().find(|r| {
                text(r, "sysapproval") == ritm
                    && text(r, "approver") == user
                    && text(r, "state") == "requested"
            })
        });
        if let Some(record) = record {
            record.insert("state".into(), Value::String(state.clone()));
            // Stamped when the approver acted, as the instance would.
            record.insert("sys_updated_on".into(), Value::String(stamp(acted)));
            let snapshot = record.clone();
            roll_up(i, "sysapproval_approver", &snapshot, now);
        }
    }
}

/// One condition of an encoded query.
enum Cond {
    Eq(String, String),
    Ne(String, String),
    In(String, Vec<String>),
    Like(String, String),
    Starts(String, String),
}

fn parse_cond(c: &str) -> Option<Cond> {
    for (op, make) in [
        ("STARTSWITH", 0u8),
        ("LIKE", 1),
        ("IN", 2),
        ("!=", 3),
        ("=", 4),
    ] {
        if let Some(pos) = c.find(op) {
            let (field, value) = (c[..pos].to_owned(), c[pos + op.len()..].to_owned());
            if field.is_empty()
                || !field
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '.')
            {
                continue;
            }
            return Some(match make {
                0 => Cond::Starts(field, value),
                1 => Cond::Like(field, value),
                2 => Cond::In(field, value.split(',').map(str::to_owned).collect()),
                3 => Cond::Ne(field, value),
                _ => Cond::Eq(field, value),
            });
        }
    }
    None
}

fn cond_field(c: &Cond) -> &str {
    match c {
        Cond::Eq(f, _)
        | Cond::Ne(f, _)
        | Cond::In(f, _)
        | Cond::Like(f, _)
        | Cond::Starts(f, _) => f,
    }
}

fn matches(c: &Cond, r: &Row) -> bool {
    match c {
        Cond::Eq(f, v) => text(r, f) == *v,
        Cond::Ne(f, v) => text(r, f) != *v,
        Cond::In(f, vs) => vs.contains(&text(r, f)),
        Cond::Like(f, v) => text(r, f).contains(v.as_str()),
        Cond::Starts(f, v) => text(r, f).starts_with(v.as_str()),
    }
}

fn list(
    shared: &Shared,
    i: &Instance,
    table: &str,
    query: &HashMap<String, String>,
    base: &str,
    uri: &Uri,
) -> Response {
    let rows: Vec<Row> = i.tables.get(table).cloned().unwrap_or_default();
    let known = |f: &str| {
        rows.iter().any(|r| r.contains_key(f))
            || [
                "sys_id",
                "number",
                "state",
                "active",
                "approval",
                "element",
                "element_id",
                "value",
                "email",
                "user_name",
            ]
            .contains(&f)
    };
    let mut groups: Vec<Vec<Cond>> = vec![Vec::new()];
    let mut order: Option<(String, bool)> = None;
    let mut unreadable = false;
    for part in query
        .get("sysparm_query")
        .map(String::as_str)
        .unwrap_or("")
        .split('^')
        .filter(|p| !p.is_empty())
    {
        if let Some(f) = part.strip_prefix("ORDERBYDESC") {
            order = Some((f.to_owned(), true));
        } else if let Some(f) = part.strip_prefix("ORDERBY") {
            order = Some((f.to_owned(), false));
        } else if let Some(rest) = part.strip_prefix("OR") {
            match parse_cond(rest).filter(|c| known(cond_field(c))) {
                Some(c) => {
                    // OR with the previous condition: keep them as alternatives.
                    let last = groups.last_mut().and_then(|g| g.pop());
                    groups.push(last.into_iter().collect());
                    if let Some(g) = groups.last_mut() {
                        g.push(c);
                    }
                }
                None => unreadable = true,
            }
        } else {
            match parse_cond(part).filter(|c| known(cond_field(c))) {
                Some(c) => groups[0].push(c),
                None => unreadable = true,
            }
        }
    }
    if unreadable && shared.options.strict_queries {
        return page(Vec::new(), query, base, uri);
    }
    let (all, alternatives) = groups.split_first().unwrap_or((&groups[0], &[]));
    let mut hits: Vec<Row> = rows
        .into_iter()
        .filter(|r| all.iter().all(|c| matches(c, r)))
        .filter(|r| {
            alternatives
                .iter()
                .all(|alt| alt.iter().any(|c| matches(c, r)))
        })
        .collect();
    if let Some((f, desc)) = order {
        hits.sort_by_key(|a| text(a, &f));
        if desc {
            hits.reverse();
        }
    }
    let _ = i;
    page(hits, query, base, uri)
}

fn page(hits: Vec<Row>, query: &HashMap<String, String>, base: &str, uri: &Uri) -> Response {
    let total = hits.len();
    let limit: usize = query
        .get("sysparm_limit")
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let offset: usize = query
        .get("sysparm_offset")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let shown: Vec<Value> = hits
        .iter()
        .skip(offset)
        .take(limit)
        .map(|r| shape(r, query, base))
        .collect();
    let mut response = axum::Json(json!({"result": shown})).into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&total.to_string()) {
        h.insert("x-total-count", v);
    }
    if total > limit {
        let link = |off: usize, rel: &str| {
            let mut q: Vec<String> = query
                .iter()
                .filter(|(k, _)| *k != "sysparm_offset")
                .map(|(k, v)| {
                    format!(
                        "{k}={}",
                        percent_encoding::utf8_percent_encode(
                            v,
                            percent_encoding::NON_ALPHANUMERIC
                        )
                    )
                })
                .collect();
            q.sort();
            q.push(format!("sysparm_offset={off}"));
            format!("<{base}{}?{}>;rel=\"{rel}\"", uri.path(), q.join("&"))
        };
        let mut links = vec![link(0, "first")];
        if offset > 0 {
            links.push(link(offset.saturating_sub(limit), "prev"));
        }
        if offset + limit < total {
            links.push(link(offset + limit, "next"));
        }
        links.push(link((total - 1) / limit * limit, "last"));
        if let Ok(v) = HeaderValue::from_str(&links.join(",")) {
            h.insert("link", v);
        }
    }
    response
}

/// A row as the Table API shows it: selected fields, display values, reference links.
fn shape(r: &Row, query: &HashMap<String, String>, base: &str) -> Value {
    let fields: Vec<String> = match query.get("sysparm_fields") {
        Some(f) if !f.is_empty() => f.split(',').map(|s| s.trim().to_owned()).collect(),
        _ => r.keys().cloned().collect(),
    };
    let display = query
        .get("sysparm_display_value")
        .map(String::as_str)
        .unwrap_or("false");
    let links = query
        .get("sysparm_exclude_reference_link")
        .map(String::as_str)
        != Some("true");
    let mut out = Map::new();
    for f in fields {
        let value = text(r, &f);
        let reference = REFERENCES
            .iter()
            .find(|(name, _)| *name == f)
            .map(|(_, t)| *t);
        let shown = match (display, reference) {
            ("all", Some(t)) if links && !value.is_empty() => {
                json!({"display_value": value, "value": value, "link": format!("{base}/api/now/table/{t}/{value}")})
            }
            ("all", _) => json!({"display_value": value, "value": value}),
            (_, Some(t)) if links && !value.is_empty() => {
                json!({"link": format!("{base}/api/now/table/{t}/{value}"), "value": value})
            }
            _ => Value::String(value),
        };
        out.insert(f, shown);
    }
    Value::Object(out)
}
