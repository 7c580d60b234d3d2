//! The engine: configuration and the calls that start, read and list workflows.

use crate::EngineError;
use crate::cache::Cache;
use crate::locks::Locks;
use crate::members::MemberCache;
use chrono::{DateTime, TimeDelta, Utc};
use groupgate_core::audit::{Actor, AuditRecord, ChainHead, CheckpointKey};
use groupgate_core::ports::{
    ApprovalChannel, Clock, IdentityProvider, Store, TicketSystem, Timer, WorkflowFilter,
    WorkflowSummary,
};
use groupgate_core::workflow::{Workflow, WorkflowSettings};
use groupgate_core::{CompiledPolicy, Request, TicketRef, WorkflowId};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::fmt;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

/// The ports the engine works through.
#[derive(Clone)]
pub struct Ports {
    /// The directory.
    pub identity: Arc<dyn IdentityProvider>,
    /// The ticket system.
    pub tickets: Arc<dyn TicketSystem>,
    /// Where approvals are asked and answered, and notices posted.
    pub approvals: Arc<dyn ApprovalChannel>,
    /// The audit trail, workflow index and timers.
    pub store: Arc<dyn Store>,
    /// Time.
    pub clock: Arc<dyn Clock>,
}

impl fmt::Debug for Ports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Ports { .. }")
    }
}

/// Signed checkpoints of the audit trail.
#[derive(Debug)]
pub(crate) struct Checkpoints {
    pub(crate) key: CheckpointKey,
    /// A checkpoint after at least this many records.
    pub(crate) every: u64,
    /// The sequence number the last checkpoint covered (`u64::MAX`: none yet).
    pub(crate) last: AtomicU64,
}

/// The engine. Within one engine, one step at a time per workflow (a lock
/// per workflow); across processes, the store's per-workflow versions make a
/// stale writer fail with [`EngineError::Conflict`] instead of forking a
/// workflow. An effect whose intent was committed and whose outcome was not
/// (the process died, or the call was dropped) is resolved the next time the
/// workflow is taken up, by asking the world.
///
/// ```
/// use std::sync::Arc;
/// use groupgate_core::CompiledPolicy;
/// use groupgate_engine::{Engine, Ports};
/// use groupgate_sim::*;
///
/// let clock = SimClock::at("2026-11-25T10:00:00Z".parse().unwrap());
/// let tickets = Arc::new(FakeTickets::default());
/// let ports = Ports {
///     identity: Arc::new(FakeDirectory::new(Default::default(), clock.clone())),
///     tickets: tickets.clone(),
///     approvals: Arc::new(FakeApprovals::new(clock.clone())),
///     store: Arc::new(MemoryStore::default()),
///     clock: Arc::new(clock),
/// };
/// let policy = CompiledPolicy::from_yaml_str("version: 1\ngroups: []\n", "p.yaml").unwrap();
/// let engine = Engine::new(policy, ports).with_seed(7);
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async {
/// let request: groupgate_core::Request = serde_json::from_str(
///     r#"{"ticket":"T1","requester":"a","target":"b","resource":"x"}"#).unwrap();
/// tickets.open(request.clone());
/// let wf = engine.submit(request).await.unwrap();
/// assert_eq!(wf.phase.name(), "denied"); // nobody and nothing is known: default deny
/// assert_eq!(tickets.ticket("T1").unwrap().state,
///            Some(groupgate_core::ports::TicketState::ClosedIncomplete));
/// # });
/// ```
pub struct Engine {
    /// The policy in force; replaced whole by [`Engine::replace_policy`].
    policy: std::sync::RwLock<Arc<CompiledPolicy>>,
    pub(crate) ports: Ports,
    pub(crate) settings: WorkflowSettings,
    rng: Mutex<SmallRng>,
    pub(crate) locks: Locks,
    pub(crate) cache: Cache,
    pub(crate) checkpoints: Option<Checkpoints>,
    /// Recent reads of directory approver groups.
    pub(crate) members: MemberCache,
    /// Workflows a pass failed on, so each incident is recorded once.
    pub(crate) quarantined: Mutex<std::collections::HashSet<WorkflowId>>,
    /// Checked by passes before each workflow.
    pub(crate) stop: crate::StopSignal,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("policy", &self.policy().digest())
            .field("settings", &self.settings)
            .field("checkpoints", &self.checkpoints.is_some())
            .finish()
    }
}

impl Engine {
    /// An engine for `policy` over `ports`, with default settings and jitter
    /// drawn from the operating system's entropy.
    pub fn new(policy: CompiledPolicy, ports: Ports) -> Self {
        Self {
            policy: std::sync::RwLock::new(Arc::new(policy)),
            ports,
            settings: WorkflowSettings::default(),
            rng: Mutex::new(SmallRng::from_os_rng()),
            locks: Locks::default(),
            cache: Cache::new(4096),
            checkpoints: None,
            members: MemberCache::new(TimeDelta::seconds(60)),
            quarantined: Mutex::new(Default::default()),
            stop: crate::StopSignal::default(),
        }
    }

    /// Keeps the members read of a directory approver group (a policy's
    /// `directory_group`) for `ttl` on the engine's clock, so decisions in a
    /// burst read each group once; 60 s by default, zero reads it for every
    /// decision. A re-check after the cache time reads the group again, so
    /// someone who left it no longer approves.
    pub fn with_approver_group_cache(mut self, ttl: std::time::Duration) -> Self {
        self.members = MemberCache::new(TimeDelta::from_std(ttl).unwrap_or(TimeDelta::MAX));
        self
    }

    /// Uses these state-machine settings for workflows started from now on
    /// (each workflow keeps the settings it was started with).
    pub fn with_settings(mut self, settings: WorkflowSettings) -> Self {
        self.settings = settings;
        self
    }

    /// Draws backoff jitter from a seeded generator: runs become reproducible.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.rng = Mutex::new(SmallRng::seed_from_u64(seed));
        self
    }

    /// Keeps up to `capacity` workflows in memory between calls (default
    /// 4096; 0 turns the cache off).
    pub fn with_cache_capacity(mut self, capacity: usize) -> Self {
        self.cache = Cache::new(capacity);
        self
    }

    /// Signs a checkpoint of the trail with `key` whenever at least `every`
    /// records were appended since the last one.
    pub fn with_checkpoints(mut self, key: CheckpointKey, every: u64) -> Self {
        self.checkpoints = Some(Checkpoints {
            key,
            every: every.max(1),
            last: AtomicU64::new(u64::MAX),
        });
        self
    }

    /// The engine's stop signal: once stopped, passes (timers, answers,
    /// recovery) finish the workflow in hand and take up no other.
    pub fn stop_signal(&self) -> crate::StopSignal {
        self.stop.clone()
    }

    /// The policy in force (a snapshot: a later
    /// [`Engine::replace_policy`] does not change it).
    pub fn policy(&self) -> Arc<CompiledPolicy> {
        match self.policy.read() {
            Ok(p) => p.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Puts `policy` in force for every evaluation from now on, and returns
    /// the one it replaces. Workflows in flight are not re-decided here:
    /// each re-checks against the policy in force when it executes (time of
    /// check = time of use), and every decision records the digest it used.
    pub fn replace_policy(&self, policy: CompiledPolicy) -> Arc<CompiledPolicy> {
        let new = Arc::new(policy);
        match self.policy.write() {
            Ok(mut p) => std::mem::replace(&mut *p, new),
            Err(poisoned) => std::mem::replace(&mut *poisoned.into_inner(), new),
        }
    }

    /// The settings new workflows start with.
    pub fn settings(&self) -> &WorkflowSettings {
        &self.settings
    }

    /// The time on the engine's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.ports.clock.now()
    }

    pub(crate) fn jitter(&self) -> f64 {
        self.rng
            .lock()
            .map(|mut r| r.random::<f64>())
            .unwrap_or(0.5)
    }

    /// Starts a workflow for `request` and drives it until it waits (for
    /// approvers, a window, a timer) or ends. A request whose ticket already
    /// has a workflow returns that workflow: one workflow per ticket, also
    /// when two callers submit at once (in this process by lock, across
    /// processes by the store's version check).
    pub async fn submit(&self, request: Request) -> Result<Workflow, EngineError> {
        let id = WorkflowId::new(request.ticket.as_str());
        let _held = self.locks.hold(&id).await;
        if let Some(mut existing) = self.load(&id).await? {
            self.resume(&mut existing).await?;
            return Ok(existing.wf);
        }
        let now = self.now();
        let actor = Actor::Requester(request.requester.clone());
        let (wf, _) = Workflow::start(id.clone(), request, self.settings, now);
        let Some(mut loaded) = self.commit_start(wf, actor, now).await? else {
            // Another process started it first.
            return self.workflow(&id).await;
        };
        match self.drive(&mut loaded).await {
            Ok(()) => Ok(loaded.wf),
            Err(EngineError::Conflict(_)) => self.workflow(&id).await,
            Err(e) => Err(e),
        }
    }

    /// Reads a ticket through the ticket system and submits it.
    pub async fn intake(&self, ticket: &TicketRef) -> Result<Workflow, EngineError> {
        let request = self
            .ports
            .tickets
            .read_request(ticket)
            .await
            .map_err(|error| EngineError::Intake {
                ticket: ticket.to_string(),
                error,
            })?;
        self.submit(request).await
    }

    /// A workflow as its records say (nothing is executed).
    pub async fn workflow(&self, id: &WorkflowId) -> Result<Workflow, EngineError> {
        self.load(id)
            .await?
            .map(|l| l.wf)
            .ok_or_else(|| EngineError::UnknownWorkflow(id.clone()))
    }

    /// A workflow's index row (phase, next wake, last error), if it exists.
    pub async fn summary(&self, id: &WorkflowId) -> Result<Option<WorkflowSummary>, EngineError> {
        self.ports
            .store
            .summary(id)
            .await
            .map_err(EngineError::Store)
    }

    /// Index rows of the workflows matching `filter` (no history is replayed).
    pub async fn summaries(
        &self,
        filter: &WorkflowFilter,
    ) -> Result<Vec<WorkflowSummary>, EngineError> {
        self.ports
            .store
            .find(filter)
            .await
            .map_err(EngineError::Store)
    }

    /// The whole audit trail (paged from the store).
    pub async fn audit_trail(&self) -> Result<Vec<AuditRecord>, EngineError> {
        let mut out = Vec::new();
        loop {
            let page = self
                .ports
                .store
                .trail(out.len() as u64, 10_000)
                .await
                .map_err(EngineError::Store)?;
            if page.is_empty() {
                return Ok(out);
            }
            out.extend(page);
        }
    }

    /// The end of the audit trail.
    pub async fn head(&self) -> Result<Option<ChainHead>, EngineError> {
        self.ports.store.head().await.map_err(EngineError::Store)
    }

    /// The pending timer that fires first, if any.
    pub async fn next_timer(&self) -> Result<Option<Timer>, EngineError> {
        self.ports
            .store
            .next_timer()
            .await
            .map_err(EngineError::Store)
    }
}
