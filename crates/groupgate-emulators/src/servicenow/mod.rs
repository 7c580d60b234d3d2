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

mod display;
mod http;
mod query;
mod records;
use crate::disruption::{Script, ScriptedFailure};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::{DateTime, Utc};
use display::*;
use groupgate_core::ports::Clock;
use http::*;
use query::*;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use records::*;
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
    /// An API key accepted in the `x-sn-apikey` header (`None`: API keys
    /// are refused).
    pub api_key: Option<String>,
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
            api_key: None,
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
            // `name` is the display field; without one in the data, the user name.
            let mut user = json!({"sys_id": u.sys_id, "user_name": u.user_name, "name": u.user_name, "email": u.email, "active": "true"});
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
