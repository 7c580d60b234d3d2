//! Driving workflows: start, feed events, execute commands, persist every step.

use crate::EngineError;
use crate::execute::ExecError;
use groupgate_core::audit::{Actor, AuditRecord, Entry};
use groupgate_core::ports::PortError;
use groupgate_core::ports::{
    ApprovalChannel, Clock, ErrorClass, IdentityProvider, Store, TicketSystem,
};
use groupgate_core::workflow::{Action, Command, Event, Phase, Wake, Workflow, WorkflowSettings};
use groupgate_core::{CompiledPolicy, GroupId, Request, TicketRef, UserId, WorkflowId};

/// Effects already executed (in bulk), by command key.
type Precomputed = HashMap<String, Result<Option<Event>, PortError>>;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
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
    /// The audit trail and timers.
    pub store: Arc<dyn Store>,
    /// Time.
    pub clock: Arc<dyn Clock>,
}

impl fmt::Debug for Ports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Ports { .. }")
    }
}

/// The engine. Every step is recorded before the next. Calls are meant to be
/// made one at a time (one worker); the store refuses an append that does not
/// follow the trail's end, so concurrent writers fail loudly rather than fork
/// the trail. (Many workers arrive with the Postgres store and row leases.)
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
    pub(crate) policy: CompiledPolicy,
    pub(crate) ports: Ports,
    settings: WorkflowSettings,
    rng: Mutex<SmallRng>,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("policy", &self.policy.digest())
            .field("settings", &self.settings)
            .finish()
    }
}

impl Engine {
    /// An engine for `policy` over `ports`, with default settings and jitter
    /// drawn from the operating system's entropy.
    pub fn new(policy: CompiledPolicy, ports: Ports) -> Self {
        Self {
            policy,
            ports,
            settings: WorkflowSettings::default(),
            rng: Mutex::new(SmallRng::from_os_rng()),
        }
    }

    /// Uses these state-machine settings (retries, verification timing).
    pub fn with_settings(mut self, settings: WorkflowSettings) -> Self {
        self.settings = settings;
        self
    }

    /// Draws backoff jitter from a seeded generator: runs become reproducible.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.rng = Mutex::new(SmallRng::seed_from_u64(seed));
        self
    }

    /// The policy in force.
    pub fn policy(&self) -> &CompiledPolicy {
        &self.policy
    }

    fn jitter(&self) -> f64 {
        self.rng
            .lock()
            .map(|mut r| r.random::<f64>())
            .unwrap_or(0.5)
    }

    /// Appends a record to the audit trail.
    pub(crate) async fn record(
        &self,
        workflow: &WorkflowId,
        actor: Actor,
        entry: Entry,
    ) -> Result<AuditRecord, EngineError> {
        let store = &self.ports.store;
        let last = store.last().await.map_err(EngineError::Store)?;
        let record = AuditRecord::seal(
            last.as_ref(),
            self.ports.clock.now(),
            workflow.clone(),
            actor,
            entry,
        );
        store.append(&record).await.map_err(EngineError::Store)?;
        Ok(record)
    }

    /// Starts a workflow for `request` and drives it until it waits (for
    /// approvers, a window, a timer) or ends. A request whose ticket already
    /// has a workflow returns that workflow unchanged.
    pub async fn submit(&self, request: Request) -> Result<Workflow, EngineError> {
        let id = WorkflowId::new(request.ticket.as_str());
        // One workflow's records, not the list of every workflow.
        let existing = self
            .ports
            .store
            .records(&id)
            .await
            .map_err(EngineError::Store)?;
        if !existing.is_empty() {
            return self.rebuild(&id, &existing);
        }
        let actor = Actor::Requester(request.requester.clone());
        self.record(
            &id,
            actor,
            Entry::Started {
                request: request.clone(),
            },
        )
        .await?;
        let (wf, commands) = Workflow::start(id, request);
        self.drive(wf, commands).await
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

    /// Rebuilds a workflow from its records.
    pub async fn workflow(&self, id: &WorkflowId) -> Result<Workflow, EngineError> {
        let records = self
            .ports
            .store
            .records(id)
            .await
            .map_err(EngineError::Store)?;
        self.rebuild(id, &records)
    }

    /// Replays a workflow's records.
    fn rebuild(&self, id: &WorkflowId, records: &[AuditRecord]) -> Result<Workflow, EngineError> {
        let corrupt = |reason: String| EngineError::Corrupt {
            workflow: id.clone(),
            reason,
        };
        let mut wf: Option<Workflow> = None;
        for record in records {
            match (&mut wf, &record.entry) {
                (None, Entry::Started { request }) => {
                    wf = Some(Workflow::start(id.clone(), request.clone()).0)
                }
                (Some(current), Entry::Applied { event, .. }) => {
                    let (next, _) = current
                        .handle(event, record.at, &self.settings)
                        .map_err(|e| corrupt(e.to_string()))?;
                    *current = next;
                }
                (None, _) => return Err(corrupt("a record precedes the start".to_owned())),
                _ => {}
            }
        }
        wf.ok_or_else(|| EngineError::UnknownWorkflow(id.clone()))
    }

    /// Every workflow, rebuilt, in the order they started.
    pub async fn workflows(&self) -> Result<Vec<Workflow>, EngineError> {
        let mut out = Vec::new();
        for id in self
            .ports
            .store
            .workflows()
            .await
            .map_err(EngineError::Store)?
        {
            out.push(self.workflow(&id).await?);
        }
        Ok(out)
    }

    /// The whole audit trail.
    pub async fn audit_trail(&self) -> Result<Vec<AuditRecord>, EngineError> {
        self.ports
            .store
            .all_records()
            .await
            .map_err(EngineError::Store)
    }

    /// Applies an event (recording it, or recording why it was refused).
    async fn apply(
        &self,
        wf: &Workflow,
        event: Event,
        actor: Actor,
    ) -> Result<Option<(Workflow, Vec<Command>)>, EngineError> {
        match wf.handle(&event, self.ports.clock.now(), &self.settings) {
            Ok((next, commands)) => {
                let phase = next.phase.name().to_owned();
                self.record(
                    &wf.id,
                    actor,
                    Entry::Applied {
                        event: Box::new(event),
                        phase,
                    },
                )
                .await?;
                Ok(Some((next, commands)))
            }
            Err(e) => {
                self.record(
                    &wf.id,
                    actor,
                    Entry::Refused {
                        event: Box::new(event),
                        reason: e.to_string(),
                    },
                )
                .await?;
                Ok(None)
            }
        }
    }

    /// Records the intent, executes the command, records the outcome; the
    /// event to feed back, if any.
    async fn execute_recorded(
        &self,
        wf: &Workflow,
        command: &Command,
    ) -> Result<Option<Event>, EngineError> {
        self.record(
            &wf.id,
            Actor::System,
            Entry::Issued {
                command: command.clone(),
            },
        )
        .await?;
        match self.execute(wf, command).await {
            Ok(event) => {
                self.record_outcome(&wf.id, &command.key, Ok(event.as_ref()))
                    .await?;
                Ok(event)
            }
            Err(ExecError::Store(e)) => Err(e),
            Err(ExecError::Port(error)) => {
                self.record_outcome(&wf.id, &command.key, Err(&error))
                    .await?;
                Ok(Some(Event::EffectFailed {
                    command: command.clone(),
                    error,
                    jitter: self.jitter(),
                }))
            }
        }
    }

    async fn record_outcome(
        &self,
        workflow: &WorkflowId,
        key: &str,
        outcome: Result<Option<&Event>, &PortError>,
    ) -> Result<(), EngineError> {
        let entry = match outcome {
            Ok(event) => Entry::Executed {
                key: key.to_owned(),
                result: event.map(|e| serde_json::json!({ "event": e.name() })),
                error: None,
            },
            Err(error) => Entry::Executed {
                key: key.to_owned(),
                result: None,
                error: Some(error.clone()),
            },
        };
        self.record(workflow, Actor::System, entry)
            .await
            .map(|_| ())
    }

    /// Executes commands in order, feeding their results back, depth first.
    /// A failure that moves the workflow to another phase drops the rest of
    /// its batch (the state machine has re-planned; the dropped commands stay
    /// visible in the trail as issued-but-superseded only if they were issued).
    async fn drive(&self, wf: Workflow, batch: Vec<Command>) -> Result<Workflow, EngineError> {
        self.drive_with(wf, batch, &mut Precomputed::new()).await
    }

    /// [`Engine::drive`], where the effects of some commands (by key) were
    /// already executed and recorded in bulk.
    async fn drive_with(
        &self,
        mut wf: Workflow,
        batch: Vec<Command>,
        done: &mut Precomputed,
    ) -> Result<Workflow, EngineError> {
        let mut stack: Vec<VecDeque<Command>> = vec![batch.into()];
        let mut steps = 0usize;
        while let Some(top) = stack.last_mut() {
            let Some(command) = top.pop_front() else {
                stack.pop();
                continue;
            };
            steps += 1;
            if steps > 10_000 {
                return Err(EngineError::Corrupt {
                    workflow: wf.id.clone(),
                    reason: "more than 10,000 steps without waiting".to_owned(),
                });
            }
            let phase_before = wf.phase.name();
            let event = match done.remove(&command.key) {
                Some(Ok(event)) => event,
                Some(Err(error)) => Some(Event::EffectFailed {
                    command: command.clone(),
                    error,
                    jitter: self.jitter(),
                }),
                None => self.execute_recorded(&wf, &command).await?,
            };
            let Some(event) = event else { continue };
            let failed = matches!(event, Event::EffectFailed { .. });
            if let Some((next, commands)) = self.apply(&wf, event, Actor::System).await? {
                let changed = next.phase.name() != phase_before;
                wf = next;
                if failed
                    && changed
                    && let Some(top) = stack.last_mut()
                {
                    top.clear();
                }
                stack.push(commands.into());
            }
        }
        Ok(wf)
    }

    /// Feeds the approvers' new answers for a workflow.
    pub async fn collect_answers(&self, id: &WorkflowId) -> Result<Workflow, EngineError> {
        let records = self
            .ports
            .store
            .records(id)
            .await
            .map_err(EngineError::Store)?;
        let mut wf = self.rebuild(id, &records)?;
        if !matches!(wf.phase, Phase::AwaitingApproval { .. }) {
            return Ok(wf);
        }
        // The events already fed (accepted or refused), so an answer counts once.
        let seen: Vec<&Event> = records
            .iter()
            .filter_map(|r| match &r.entry {
                Entry::Applied { event, .. } | Entry::Refused { event, .. } => Some(&**event),
                _ => None,
            })
            .collect();
        let answers = match self.ports.approvals.answers(&wf.request.ticket).await {
            Ok(a) => a,
            // The channel is down: try again at the next collection.
            Err(e) if matches!(e.class, ErrorClass::Transient { .. }) => return Ok(wf),
            Err(e) => return Err(EngineError::Approvals(e)),
        };
        for answer in answers {
            let event = Event::Answered {
                answer: answer.clone(),
            };
            if seen.contains(&&event) {
                continue;
            }
            let actor = Actor::Approver(answer.approver.to_string());
            if let Some((next, commands)) = self.apply(&wf, event, actor).await? {
                wf = self.drive(next, commands).await?;
            }
        }
        Ok(wf)
    }

    /// Feeds new answers to every workflow waiting for approvals.
    pub async fn collect_all_answers(&self) -> Result<(), EngineError> {
        for id in self
            .ports
            .store
            .workflows()
            .await
            .map_err(EngineError::Store)?
        {
            self.collect_answers(&id).await?;
        }
        Ok(())
    }

    /// Fires every timer due now. Returns how many fired.
    pub async fn run_due_timers(&self) -> Result<usize, EngineError> {
        let now = self.ports.clock.now();
        let due = self
            .ports
            .store
            .due_timers(now)
            .await
            .map_err(EngineError::Store)?;
        let mut fired = 0;
        for timer in due {
            let purpose: Option<Wake> =
                serde_json::from_value(serde_json::Value::String(timer.purpose.clone())).ok();
            if let Some(purpose) = purpose {
                let wf = self.workflow(&timer.workflow).await?;
                if let Some((next, commands)) = self
                    .apply(&wf, Event::Woke { purpose }, Actor::System)
                    .await?
                {
                    self.drive(next, commands).await?;
                }
                fired += 1;
            }
            self.ports
                .store
                .complete_timer(&timer)
                .await
                .map_err(EngineError::Store)?;
        }
        Ok(fired)
    }

    /// Offboarding: removes every active governed membership of `user`
    /// (object id or UPN) at once. Returns the workflows it ended.
    pub async fn offboard(
        &self,
        user: &str,
        operator: &str,
    ) -> Result<Vec<WorkflowId>, EngineError> {
        let mut planned: Vec<(Workflow, Vec<Command>)> = Vec::new();
        for wf in self.workflows().await? {
            let holds = matches!(wf.phase, Phase::Active { .. } | Phase::Completed);
            let same = wf.request.target.eq_ignore_ascii_case(user)
                || wf
                    .target
                    .as_ref()
                    .is_some_and(|t| t.as_str().eq_ignore_ascii_case(user));
            if holds
                && same
                && let Some(plan) = self
                    .apply(&wf, Event::Offboard, Actor::Operator(operator.to_owned()))
                    .await?
            {
                planned.push(plan);
            }
        }
        // Every removal at once (one bulk call per user; Graph batches them).
        let mut done = Precomputed::new();
        let mut by_user: BTreeMap<UserId, Vec<(WorkflowId, Command, GroupId)>> = BTreeMap::new();
        for (wf, commands) in &planned {
            for command in commands {
                if let Action::RemoveMember { group, user } = &command.action {
                    by_user.entry(user.clone()).or_default().push((
                        wf.id.clone(),
                        command.clone(),
                        group.clone(),
                    ));
                }
            }
        }
        for (user, removals) in by_user {
            for (workflow, command, _) in &removals {
                self.record(
                    workflow,
                    Actor::System,
                    Entry::Issued {
                        command: command.clone(),
                    },
                )
                .await?;
            }
            let groups: Vec<GroupId> = removals.iter().map(|r| r.2.clone()).collect();
            let results = match self.ports.identity.remove_memberships(&user, &groups).await {
                Ok(results) if results.len() == groups.len() => results,
                Ok(_) => groups
                    .iter()
                    .map(|_| {
                        Err(PortError::permanent(
                            "the directory answered a different number of removals",
                        ))
                    })
                    .collect(),
                Err(e) => groups.iter().map(|_| Err(e.clone())).collect(),
            };
            for ((workflow, command, _), result) in removals.iter().zip(results) {
                let outcome = result.map(|receipt| Some(Event::MemberRemoved { receipt }));
                self.record_outcome(workflow, &command.key, outcome.as_ref().map(|e| e.as_ref()))
                    .await?;
                done.insert(command.key.clone(), outcome);
            }
        }
        let mut ended = Vec::new();
        for (wf, commands) in planned {
            ended.push(wf.id.clone());
            self.drive_with(wf, commands, &mut done).await?;
        }
        Ok(ended)
    }

    /// The pending timer that fires first, if any.
    pub async fn next_timer(&self) -> Result<Option<groupgate_core::ports::Timer>, EngineError> {
        self.ports
            .store
            .next_timer()
            .await
            .map_err(EngineError::Store)
    }
}
