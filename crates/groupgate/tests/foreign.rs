//! Ports implemented "in another language": a `ForeignCalls` that answers
//! each call from JSON arguments, as a binding's caller would, backed by the
//! simulated world's fakes. A whole workflow runs through it exactly as it
//! runs on the fakes directly, and a caller's failures and malformed answers
//! reach the engine classified.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use async_trait::async_trait;
use groupgate::foreign::{ForeignApprovals, ForeignCalls, ForeignDirectory, ForeignTickets, Port};
use groupgate::ports::{
    ApprovalChannel, ErrorClass, IdentityProvider, PortError, PortResult, TicketSystem,
};
use groupgate::workflow::{Phase, Verdict};
use groupgate::{GroupId, Request, TicketRef, UserId};
use groupgate_engine::{Engine, Ports};
use groupgate_sim::{FakeApprovals, FakeDirectory, FakeTickets, MemoryStore, World};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// A caller whose port objects are the fakes, reached only through JSON.
struct JsonCaller {
    directory: Arc<FakeDirectory>,
    tickets: Arc<FakeTickets>,
    approvals: Arc<FakeApprovals>,
    calls: Mutex<Vec<String>>,
    fail_next: Mutex<Option<(&'static str, PortError)>>,
    garble_next: Mutex<Option<&'static str>>,
}

fn get<T: serde::de::DeserializeOwned>(args: &Value, name: &str) -> T {
    serde_json::from_value(args[name].clone()).unwrap_or_else(|e| panic!("{name}: {e}: {args}"))
}

fn to<T: serde::Serialize>(r: PortResult<T>) -> PortResult<Value> {
    r.map(|v| serde_json::to_value(v).unwrap())
}

#[async_trait]
impl ForeignCalls for JsonCaller {
    async fn call(&self, port: Port, method: &'static str, args: Value) -> PortResult<Value> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("{}.{method}", port.name()));
        if let Some((m, e)) = self
            .fail_next
            .lock()
            .unwrap()
            .take_if(|(m, _)| *m == method)
        {
            let _ = m;
            return Err(e);
        }
        if self
            .garble_next
            .lock()
            .unwrap()
            .take_if(|m| *m == method)
            .is_some()
        {
            return Ok(json!({"not": "what was asked"}));
        }
        let d = &self.directory;
        match (port, method) {
            (Port::Directory, "user") => to(d.user(&get::<String>(&args, "key")).await),
            (Port::Directory, "manager") => to(d.manager(&get::<UserId>(&args, "user")).await),
            (Port::Directory, "group") => to(d.group(&get::<GroupId>(&args, "group")).await),
            (Port::Directory, "membership") => to(d
                .membership(&get(&args, "group"), &get(&args, "user"))
                .await),
            (Port::Directory, "member_of") => to(d
                .member_of(&get(&args, "user"), &get::<Vec<GroupId>>(&args, "groups"))
                .await),
            (Port::Directory, "direct_groups") => to(d.direct_groups(&get(&args, "user")).await),
            (Port::Directory, "add_member") => to(d
                .add_member(&get(&args, "group"), &get(&args, "user"))
                .await),
            (Port::Directory, "remove_member") => to(d
                .remove_member(&get(&args, "group"), &get(&args, "user"))
                .await),
            (Port::Tickets, "read_request") => to(self
                .tickets
                .read_request(&get::<TicketRef>(&args, "ticket"))
                .await),
            (Port::Tickets, "update") => to(self
                .tickets
                .update(&get(&args, "ticket"), &get(&args, "update"))
                .await),
            (Port::Tickets, "record_approval") => to(self
                .tickets
                .record_approval(&get(&args, "ticket"), &get(&args, "decision"))
                .await),
            (Port::Approvals, "ask") => to(self.approvals.ask(&get(&args, "ask")).await),
            (Port::Approvals, "answers") => to(self.approvals.answers(&get(&args, "ticket")).await),
            (Port::Approvals, "cancel") => to(self
                .approvals
                .cancel(
                    &get(&args, "ticket"),
                    &get::<String>(&args, "stage"),
                    &get::<String>(&args, "reason"),
                )
                .await),
            (Port::Approvals, "notify") => to(self.approvals.notify(&get(&args, "notice")).await),
            _ => panic!("unexpected call {method}"),
        }
    }

    fn has(&self, _port: Port, method: &str) -> bool {
        method != "group_members"
    }
}

fn request(ticket: &str, requester: &str, target: &str, resource: &str) -> Request {
    serde_json::from_value(json!({
        "ticket": ticket, "requester": requester, "target": target, "resource": resource,
        "justification": "foreign"
    }))
    .unwrap()
}

/// The example world's fakes, wired to a second engine through JSON calls.
fn foreign_engine(world: &World) -> (Engine, Arc<JsonCaller>) {
    let caller = Arc::new(JsonCaller {
        directory: world.directory.clone(),
        tickets: world.tickets.clone(),
        approvals: world.approvals.clone(),
        calls: Mutex::new(Vec::new()),
        fail_next: Mutex::new(None),
        garble_next: Mutex::new(None),
    });
    let calls: Arc<dyn ForeignCalls> = caller.clone();
    let ports = Ports {
        identity: Arc::new(ForeignDirectory(calls.clone())),
        tickets: Arc::new(ForeignTickets(calls.clone())),
        approvals: Arc::new(ForeignApprovals(calls)),
        store: Arc::new(MemoryStore::default()),
        clock: Arc::new(world.clock.clone()),
    };
    let engine = Engine::new((*world.engine.policy()).clone(), ports).with_seed(1);
    (engine, caller)
}

#[tokio::test]
async fn a_whole_workflow_runs_through_json_calls() {
    let world = World::example().unwrap();
    let (engine, caller) = foreign_engine(&world);
    let r = request(
        "RITM1",
        "ada.lovelace@contoso.com",
        "ada.lovelace@contoso.com",
        "Finance BI",
    );
    world.tickets.open(r.clone());
    let wf = engine.intake(&TicketRef::from("RITM1")).await.unwrap();
    assert!(
        matches!(wf.phase, Phase::AwaitingApproval { stage: 0, .. }),
        "{:?}",
        wf.phase
    );
    world.approvals.answer(
        "RITM1",
        "grace.hopper@contoso.com",
        Verdict::Approve,
        "teams",
    );
    engine.collect_answers(&wf.id).await.unwrap();
    world
        .approvals
        .answer("RITM1", "dora.data@contoso.com", Verdict::Approve, "teams");
    let wf = engine.collect_answers(&wf.id).await.unwrap();
    assert!(matches!(wf.phase, Phase::Active { .. }), "{:?}", wf.phase);
    assert!(world.directory.is_direct_member(
        "aaaaaaaa-0000-0000-0000-000000000001",
        "11111111-0000-0000-0000-00000000000a"
    ));
    let notes = world.tickets.ticket("RITM1").unwrap().notes.join("\n");
    assert!(
        notes.contains(
            "approval record: `dora.data@contoso.com` approved stage `data-owner` via teams"
        ),
        "{notes}"
    );
    let calls = caller.calls.lock().unwrap().clone();
    for expected in [
        "tickets.read_request",
        "directory.user",
        "directory.add_member",
        "directory.membership",
        "tickets.update",
        "tickets.record_approval",
        "approvals.ask",
        "approvals.answers",
        "approvals.notify",
    ] {
        assert!(
            calls.iter().any(|c| c == expected),
            "{expected} never called: {calls:?}"
        );
    }
    groupgate::audit::verify_jsonl(
        &engine
            .audit_trail()
            .await
            .unwrap()
            .iter()
            .map(|r| r.to_json_line() + "\n")
            .collect::<String>(),
    )
    .unwrap();
}

#[tokio::test]
async fn a_callers_failures_and_malformed_answers_are_classified() {
    let world = World::example().unwrap();
    let (engine, caller) = foreign_engine(&world);
    let r = request(
        "RITM2",
        "pat.lead@contoso.com",
        "carl.contractor@contoso.com",
        "Team Alpha",
    );
    world.tickets.open(r.clone());
    // The caller's ticket system is down: intake says so, with the class.
    *caller.fail_next.lock().unwrap() = Some((
        "read_request",
        PortError::transient("snow is down", Some(5)),
    ));
    let err = engine.intake(&TicketRef::from("RITM2")).await.unwrap_err();
    assert!(err.to_string().contains("snow is down"), "{err}");
    // An answer that is not a request: invalid, naming the port and method.
    *caller.garble_next.lock().unwrap() = Some("read_request");
    let err = engine.intake(&TicketRef::from("RITM2")).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("tickets port's `read_request`"), "{text}");
    // A directory approver group needs the optional method.
    let dir = ForeignDirectory(caller.clone());
    let err = dir
        .group_members(&GroupId::new("g"), false, 10)
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Permanent);
    assert!(err.message.contains("group_members"), "{err}");
}
