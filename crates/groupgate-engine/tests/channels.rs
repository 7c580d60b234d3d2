//! A stage asked in several channels at once (ServiceNow as the record and
//! Teams), answered in one: the answer counts once, is written back to the
//! ticket, and every channel's outstanding asks are withdrawn with who
//! answered where and when.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use groupgate_core::workflow::{Phase, Verdict};
use groupgate_core::{CompiledPolicy, DirectorySnapshot, WorkflowId};
use groupgate_engine::{Channels, Engine, Ports};
use groupgate_sim::{FakeApprovals, FakeDirectory, FakeTickets, MemoryStore, SimClock};
use std::sync::Arc;

const DIRECTORY: &str = include_str!("../../../examples/directory.yaml");
const POLICY: &str = include_str!("../../../examples/policy.yaml");

struct Rig {
    engine: Engine,
    snow: Arc<FakeApprovals>,
    teams: Arc<FakeApprovals>,
    tickets: Arc<FakeTickets>,
    directory: Arc<FakeDirectory>,
    clock: SimClock,
}

fn rig(policy: &str) -> Rig {
    let clock = SimClock::at("2026-11-25T10:00:00Z".parse().unwrap());
    let snapshot: DirectorySnapshot =
        groupgate_core::input::from_yaml(DIRECTORY, &Default::default()).unwrap();
    let directory = Arc::new(FakeDirectory::new(snapshot, clock.clone()));
    let tickets = Arc::new(FakeTickets::default());
    let snow = Arc::new(FakeApprovals::new(clock.clone()));
    let teams = Arc::new(FakeApprovals::new(clock.clone()));
    let channels = Channels::new()
        .with("servicenow", snow.clone())
        .with("teams", teams.clone());
    let ports = Ports {
        identity: directory.clone(),
        tickets: tickets.clone(),
        approvals: Arc::new(channels),
        store: Arc::new(MemoryStore::default()),
        clock: Arc::new(clock.clone()),
    };
    let policy = CompiledPolicy::from_yaml_str(policy, "policy.yaml").unwrap();
    Rig {
        engine: Engine::new(policy, ports).with_seed(1),
        snow,
        teams,
        tickets,
        directory,
        clock,
    }
}

fn finance_bi() -> groupgate_core::Request {
    serde_json::from_value(serde_json::json!({
        "ticket": "RITM1", "requester": "ada.lovelace@contoso.com",
        "target": "ada.lovelace@contoso.com", "resource": "Finance BI"
    }))
    .unwrap()
}

#[tokio::test]
async fn a_stage_asked_in_two_channels_and_answered_in_one_counts_once() {
    let r = rig(POLICY);
    r.tickets.open(finance_bi());
    r.engine.submit(finance_bi()).await.unwrap();
    // Both channels were asked, with the same binding.
    let (s, t) = (r.snow.asks(), r.teams.asks());
    assert_eq!((s.len(), t.len()), (1, 1));
    assert_eq!(s[0].binding, t[0].binding);
    assert!(
        t[0].details
            .as_ref()
            .is_some_and(|d| d.group == "GRP-FINANCE-BI-READ")
    );
    // Grace answers in Teams: the manager stage is done; ServiceNow's ask
    // for it is withdrawn too, saying who answered where.
    r.teams.answer(
        "RITM1",
        "grace.hopper@contoso.com",
        Verdict::Approve,
        "teams",
    );
    let wf = r
        .engine
        .collect_answers(&WorkflowId::new("RITM1"))
        .await
        .unwrap();
    assert_eq!(
        wf.phase,
        Phase::AwaitingApproval {
            stage: 1,
            escalated: false
        }
    );
    for channel in [&r.snow, &r.teams] {
        let cancelled = channel.cancellations();
        assert_eq!(cancelled.len(), 1, "{cancelled:?}");
        assert_eq!(cancelled[0].1, "manager");
        assert!(
            cancelled[0].2.contains("grace.hopper@contoso.com")
                && cancelled[0].2.contains("via teams"),
            "{cancelled:?}"
        );
    }
    // The same answer read again from both channels counts once: Dora
    // answers in ServiceNow, the access is granted, once.
    r.snow.answer(
        "RITM1",
        "dora.data@contoso.com",
        Verdict::Approve,
        "servicenow",
    );
    r.teams.answer(
        "RITM1",
        "grace.hopper@contoso.com",
        Verdict::Approve,
        "teams",
    );
    let wf = r
        .engine
        .collect_answers(&WorkflowId::new("RITM1"))
        .await
        .unwrap();
    assert!(matches!(wf.phase, Phase::Active { .. }), "{:?}", wf.phase);
    assert!(r.directory.is_direct_member(
        "aaaaaaaa-0000-0000-0000-000000000001",
        "11111111-0000-0000-0000-00000000000a"
    ));
    let notes = r.tickets.ticket("RITM1").unwrap().notes.join("\n");
    assert_eq!(
        notes.matches("approved stage `manager` via teams").count(),
        1,
        "{notes}"
    );
    assert_eq!(
        notes
            .matches("approved stage `data-owner` via servicenow")
            .count(),
        1,
        "{notes}"
    );
    // Both channels were told the outcome.
    assert!(!r.snow.notices().is_empty() && !r.teams.notices().is_empty());
}

#[tokio::test]
async fn a_stage_is_asked_only_where_the_policy_says() {
    let policy = POLICY.replace(
        "  - tag: financial-data\n",
        "  - tag: financial-data\n    approval_channels: [teams]\n",
    );
    assert_ne!(policy, POLICY, "the example policy's tag rule moved");
    let r = rig(&policy);
    r.tickets.open(finance_bi());
    r.engine.submit(finance_bi()).await.unwrap();
    assert_eq!(r.snow.asks().len(), 0);
    assert_eq!(r.teams.asks().len(), 1);
    assert_eq!(r.teams.asks()[0].channels, ["teams"]);
}

#[tokio::test]
async fn a_channel_that_fails_makes_the_ask_retry_without_asking_twice() {
    let r = rig(POLICY);
    r.tickets.open(finance_bi());
    r.teams.faults().fail_next(
        "ask",
        groupgate_core::ports::PortError::transient("teams down", Some(5)),
    );
    let wf = r.engine.submit(finance_bi()).await.unwrap();
    assert_eq!(r.snow.asks().len(), 1);
    assert_eq!(r.teams.asks().len(), 0);
    assert!(matches!(wf.phase, Phase::AwaitingApproval { .. }));
    // The retry asks Teams; ServiceNow, idempotent per key, keeps one ask.
    let due = r.engine.next_timer().await.unwrap().unwrap();
    r.clock.set(due.at);
    let report = r.engine.run_due_timers().await.unwrap();
    assert_eq!(report.fired, 1, "{report:?}");
    assert_eq!(r.teams.asks().len(), 1);
    assert_eq!(r.snow.asks().len(), 1);
    assert_eq!(
        r.snow.asks()[0].idempotency_key,
        r.teams.asks()[0].idempotency_key
    );
}
