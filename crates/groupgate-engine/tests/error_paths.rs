//! Engine error paths, with generated mocks of the ports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use groupgate_core::ports::{
    ErrorClass, MockApprovalChannel, MockClock, MockIdentityProvider, MockStore, MockTicketSystem,
    PortError,
};
use groupgate_core::workflow::Phase;
use groupgate_core::{CompiledPolicy, Request};
use groupgate_engine::{Engine, EngineError, Ports};
use groupgate_sim::{EXAMPLE_POLICY, MemoryStore};
use std::sync::Arc;

fn request() -> Request {
    serde_json::from_value(serde_json::json!({
        "ticket": "RITM1", "requester": "ada.lovelace@contoso.com",
        "target": "ada.lovelace@contoso.com", "resource": "Finance BI"
    }))
    .unwrap()
}

fn clock() -> MockClock {
    let mut clock = MockClock::new();
    clock
        .expect_now()
        .returning(|| "2026-11-25T10:00:00Z".parse().unwrap());
    clock
}

fn engine(
    identity: MockIdentityProvider,
    tickets: MockTicketSystem,
    store: Arc<dyn groupgate_core::ports::Store>,
) -> Engine {
    let policy = CompiledPolicy::from_yaml_str(EXAMPLE_POLICY, "examples/policy.yaml").unwrap();
    Engine::new(
        policy,
        Ports {
            identity: Arc::new(identity),
            tickets: Arc::new(tickets),
            approvals: Arc::new(MockApprovalChannel::new()),
            store,
            clock: Arc::new(clock()),
        },
    )
    .with_seed(3)
}

#[tokio::test]
async fn a_store_that_refuses_writes_stops_the_engine_before_any_effect() {
    let mut store = MockStore::new();
    store.expect_summary().returning(|_| Ok(None));
    store
        .expect_commit()
        .returning(|_| Err(PortError::new(ErrorClass::Permanent, "disk I/O error")));
    // No port may be called: the mocks have no expectations and would panic.
    let engine = engine(
        MockIdentityProvider::new(),
        MockTicketSystem::new(),
        Arc::new(store),
    );
    let err = engine.submit(request()).await.unwrap_err();
    assert!(matches!(err, EngineError::Store(_)), "{err}");
    assert!(err.to_string().contains("disk I/O error"));
}

#[tokio::test]
async fn a_directory_that_forbids_reads_sends_the_ticket_to_manual_intervention() {
    let mut identity = MockIdentityProvider::new();
    identity.expect_facts().returning(|_| {
        Err(PortError::new(
            ErrorClass::Forbidden,
            "Authorization_RequestDenied: Insufficient privileges",
        ))
    });
    let mut tickets = MockTicketSystem::new();
    let updates = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = updates.clone();
    tickets.expect_update().returning(move |_, u| {
        seen.lock().unwrap().push(u.clone());
        Ok(())
    });
    let mut approvals = MockApprovalChannel::new();
    approvals.expect_notify().times(1).returning(|_| Ok(()));
    let policy = CompiledPolicy::from_yaml_str(EXAMPLE_POLICY, "examples/policy.yaml").unwrap();
    let engine = Engine::new(
        policy,
        Ports {
            identity: Arc::new(identity),
            tickets: Arc::new(tickets),
            approvals: Arc::new(approvals),
            store: Arc::new(MemoryStore::default()),
            clock: Arc::new(clock()),
        },
    );
    let wf = engine.submit(request()).await.unwrap();
    assert_eq!(wf.phase, Phase::ManualIntervention);
    let updates = updates.lock().unwrap();
    let last = updates.last().unwrap();
    assert_eq!(
        last.state,
        Some(groupgate_core::ports::TicketState::ManualIntervention)
    );
    assert!(
        last.work_note.contains("Insufficient privileges"),
        "{}",
        last.work_note
    );
}

#[tokio::test]
async fn throttled_reads_are_retried_not_failed() {
    let mut identity = MockIdentityProvider::new();
    identity
        .expect_facts()
        .times(1)
        .returning(|_| Err(PortError::transient("429", Some(3))));
    let mut tickets = MockTicketSystem::new();
    tickets.expect_update().returning(|_, _| Ok(()));
    let store = Arc::new(MemoryStore::default());
    let engine = engine(identity, tickets, store.clone());
    let wf = engine.submit(request()).await.unwrap();
    assert_eq!(wf.phase, Phase::Received, "waits for the retry timer");
    let evaluate = wf
        .outbox
        .iter()
        .find(|p| p.command.action.name() == "evaluate")
        .unwrap();
    assert_eq!(evaluate.attempts, 1);
    let timer = engine.next_timer().await.unwrap().unwrap();
    assert_eq!(timer.purpose, groupgate_core::workflow::Wake::Retry);
    assert_eq!(timer.key, format!("retry:{}", evaluate.command.key));
}
