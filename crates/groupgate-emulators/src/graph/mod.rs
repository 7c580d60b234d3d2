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

mod delta;
mod http;
mod reply;
mod routes;
mod writes;
use crate::disruption::{Script, ScriptedFailure};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::{DateTime, TimeDelta, Utc};
use groupgate_core::ports::Clock;
use groupgate_core::{DirectorySnapshot, MembershipState};
use groupgate_sim::replication::Replication;
use http::*;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use reply::*;
use routes::*;
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use writes::*;

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
    /// Every membership change made, as `add <group> <user>` / `remove <group> <user>`.
    changes: Vec<String>,
    /// The users delta query's tokens and sessions.
    delta: delta::DeltaState,
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
                changes: Vec::new(),
                delta: Default::default(),
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

    /// Changes the tenant outside groupgate (an administrator in the portal,
    /// another tool): the change is visible at once.
    pub fn edit_directory(&self, edit: impl FnOnce(&mut DirectorySnapshot)) {
        edit(&mut lock(&self.shared).dir);
    }

    /// Adds to this group made from now on never become visible to reads.
    pub fn set_replication_lag_forever(&self, group: &str) {
        lock(&self.shared).replication.never_visible(group);
    }

    /// Every membership change served, oldest first, as `add <group> <user>`
    /// or `remove <group> <user>` (object ids as stored).
    pub fn membership_changes(&self) -> Vec<String> {
        lock(&self.shared).changes.clone()
    }

    /// Users per page of `/users/delta` (100 by default).
    pub fn set_delta_page_size(&self, size: usize) {
        lock(&self.shared).delta.page_size = size;
    }

    /// Forgets every delta token: the next call on an old delta link
    /// answers 410 `syncStateNotFound`.
    pub fn expire_delta_tokens(&self) {
        lock(&self.shared).delta.expire();
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
