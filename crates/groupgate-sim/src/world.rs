//! A whole simulated world: the fakes wired to an engine on simulated time,
//! with a scenario harness that moves time to the next wake-up.

use crate::{FakeApprovals, FakeDirectory, FakeTickets, MemoryStore, SimClock};
use chrono::{DateTime, Utc};
use groupgate_core::audit::AuditRecord;
use groupgate_core::ports::Clock;
use groupgate_core::workflow::{Verdict, Workflow};
use groupgate_core::{CompiledPolicy, DirectorySnapshot, Request, WorkflowId};
use groupgate_engine::{Engine, EngineError, Ports};
use std::sync::Arc;

/// The example policy, directory and start time the demo and tests use.
pub const EXAMPLE_POLICY: &str = include_str!("../../../examples/policy.yaml");
/// The example directory snapshot.
pub const EXAMPLE_DIRECTORY: &str = include_str!("../../../examples/directory.yaml");

/// Fakes, clock and engine together.
#[derive(Debug)]
pub struct World {
    /// Simulated time.
    pub clock: SimClock,
    /// The fake directory (unused by the engine when the world was built
    /// [`World::with_identity`]).
    pub directory: Arc<FakeDirectory>,
    /// The tickets.
    pub tickets: Arc<FakeTickets>,
    /// The approvers' channel.
    pub approvals: Arc<FakeApprovals>,
    /// The audit trail and timers.
    pub store: Arc<MemoryStore>,
    /// The engine over all of them.
    pub engine: Engine,
}

impl World {
    /// A world with `policy` and `directory`, starting at `start`, with
    /// backoff jitter seeded by `seed`.
    pub fn new(
        policy: CompiledPolicy,
        directory: DirectorySnapshot,
        start: DateTime<Utc>,
        seed: u64,
    ) -> World {
        Self::build(policy, directory, SimClock::at(start), seed, None)
    }

    /// A world whose engine reads and writes the directory through
    /// `identity` (for example the Graph adapter over the Graph emulator)
    /// instead of the fake directory; `clock` is shared with that emulator.
    pub fn with_identity(
        policy: CompiledPolicy,
        clock: SimClock,
        seed: u64,
        identity: Arc<dyn groupgate_core::ports::IdentityProvider>,
    ) -> World {
        Self::build(
            policy,
            DirectorySnapshot::default(),
            clock,
            seed,
            Some(identity),
        )
    }

    /// A world on the fake directory whose tickets and approvals go through
    /// `tickets` and `approvals` (for example the ServiceNow adapter over the
    /// ServiceNow emulator); the fake tickets and approvers are then unused.
    pub fn with_ticketing(
        policy: CompiledPolicy,
        directory: DirectorySnapshot,
        clock: SimClock,
        seed: u64,
        tickets: Arc<dyn groupgate_core::ports::TicketSystem>,
        approvals: Arc<dyn groupgate_core::ports::ApprovalChannel>,
    ) -> World {
        let mut world = Self::build(policy, directory, clock, seed, None);
        let ports = Ports {
            identity: world.directory.clone(),
            tickets,
            approvals,
            store: world.store.clone(),
            clock: Arc::new(world.clock.clone()),
        };
        let policy = (*world.engine.policy()).clone();
        world.engine = Engine::new(policy, ports).with_seed(seed);
        world
    }

    /// A world whose engine works through the given adapters for the
    /// directory, tickets and approvals (for example Graph and ServiceNow
    /// over their emulators); the fakes are then unused.
    pub fn with_ports(
        policy: CompiledPolicy,
        clock: SimClock,
        seed: u64,
        identity: Arc<dyn groupgate_core::ports::IdentityProvider>,
        tickets: Arc<dyn groupgate_core::ports::TicketSystem>,
        approvals: Arc<dyn groupgate_core::ports::ApprovalChannel>,
    ) -> World {
        let mut world = Self::build(
            policy,
            DirectorySnapshot::default(),
            clock,
            seed,
            Some(identity.clone()),
        );
        let ports = Ports {
            identity,
            tickets,
            approvals,
            store: world.store.clone(),
            clock: Arc::new(world.clock.clone()),
        };
        let policy = (*world.engine.policy()).clone();
        world.engine = Engine::new(policy, ports).with_seed(seed);
        world
    }

    /// Uses these state-machine settings (retries, verification timing).
    pub fn with_settings(mut self, settings: groupgate_core::workflow::WorkflowSettings) -> World {
        self.engine = self.engine.with_settings(settings);
        self
    }

    /// Reconfigures the engine (e.g. `|e| e.with_checkpoints(key, 50)`).
    pub fn map_engine(mut self, configure: impl FnOnce(Engine) -> Engine) -> World {
        self.engine = configure(self.engine);
        self
    }

    fn build(
        policy: CompiledPolicy,
        directory: DirectorySnapshot,
        clock: SimClock,
        seed: u64,
        identity: Option<Arc<dyn groupgate_core::ports::IdentityProvider>>,
    ) -> World {
        let directory = Arc::new(FakeDirectory::new(directory, clock.clone()));
        let tickets = Arc::new(FakeTickets::default());
        let approvals = Arc::new(FakeApprovals::new(clock.clone()));
        let store = Arc::new(MemoryStore::default());
        let ports = Ports {
            identity: identity.unwrap_or_else(|| {
                directory.clone() as Arc<dyn groupgate_core::ports::IdentityProvider>
            }),
            tickets: tickets.clone(),
            approvals: approvals.clone(),
            store: store.clone(),
            clock: Arc::new(clock.clone()),
        };
        let engine = Engine::new(policy, ports).with_seed(seed);
        World {
            clock,
            directory,
            tickets,
            approvals,
            store,
            engine,
        }
    }

    /// The example world: `examples/policy.yaml` and `examples/directory.yaml`
    /// on Wednesday 2026-11-25, 10:00 UTC (business hours in Berlin).
    pub fn example() -> Result<World, String> {
        let policy = CompiledPolicy::from_yaml_str(EXAMPLE_POLICY, "examples/policy.yaml")
            .map_err(|e| e.to_string())?;
        let directory: DirectorySnapshot =
            groupgate_core::input::from_yaml(EXAMPLE_DIRECTORY, &Default::default())
                .map_err(|e| e.to_string())?;
        let start = DateTime::parse_from_rfc3339("2026-11-25T10:00:00Z")
            .map_err(|e| e.to_string())?
            .with_timezone(&Utc);
        Ok(World::new(policy, directory, start, 7))
    }

    /// Now, in simulated time.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Opens a ticket for `request` and lets the engine take it in.
    pub async fn submit(&self, request: Request) -> Result<Workflow, EngineError> {
        self.tickets.open(request.clone());
        self.engine.intake(&request.ticket).await
    }

    /// `approver` answers the ticket's open ask through `channel`; the engine
    /// collects the answer.
    pub async fn answer(
        &self,
        ticket: &str,
        approver: &str,
        verdict: Verdict,
        channel: &str,
    ) -> Result<Workflow, EngineError> {
        self.approvals.answer(ticket, approver, verdict, channel);
        self.engine.collect_answers(&WorkflowId::new(ticket)).await
    }

    /// Moves time to the next pending timer (if it is not later than
    /// `until`) and fires every timer then due. Returns whether one fired.
    pub async fn step_to_next_timer(&self, until: DateTime<Utc>) -> Result<bool, EngineError> {
        let Some(timer) = self.engine.next_timer().await? else {
            return Ok(false);
        };
        if timer.at > until {
            return Ok(false);
        }
        self.clock.set(timer.at);
        self.engine.run_due_timers().await?;
        Ok(true)
    }

    /// Runs timers until none is due before `until`, then sets the clock to `until`.
    pub async fn run_until(&self, until: DateTime<Utc>) -> Result<(), EngineError> {
        for _ in 0..10_000 {
            if !self.step_to_next_timer(until).await? {
                break;
            }
        }
        self.clock.set(until);
        self.engine.run_due_timers().await?;
        Ok(())
    }

    /// A workflow by ticket.
    pub async fn workflow(&self, ticket: &str) -> Result<Workflow, EngineError> {
        self.engine.workflow(&WorkflowId::new(ticket)).await
    }

    /// The audit trail as JSON Lines.
    pub async fn audit_jsonl(&self) -> Result<String, EngineError> {
        let records: Vec<AuditRecord> = self.engine.audit_trail().await?;
        Ok(records.iter().map(|r| r.to_json_line() + "\n").collect())
    }
}
