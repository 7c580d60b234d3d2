//! Graph paths built from what people and policies write: UPNs starting with
//! `$` in the documented key syntax, keys of dots that must not climb the
//! path, and the membership read-back that only a direct membership
//! satisfies (a nested path must never make an add look verified).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use chrono::TimeDelta;
use groupgate_core::ports::{IdentityProvider, TicketState};
use groupgate_core::workflow::{Phase, Verdict};
use groupgate_core::{CompiledPolicy, DirectorySnapshot, GroupId, MembershipState, UserId};
use groupgate_emulators::{GraphEmulator, GraphEmulatorOptions};
use groupgate_graph::{GraphClient, GraphConfig, Secret};
use groupgate_sim::{EXAMPLE_DIRECTORY, EXAMPLE_POLICY, SimClock, World};
use std::sync::Arc;

const TEAM_ALPHA: &str = "aaaaaaaa-0000-0000-0000-000000000002";
const TEAM_ALPHA_CORE: &str = "aaaaaaaa-0000-0000-0000-000000000009";
const CARL: &str = "11111111-0000-0000-0000-00000000000c";
const SVC: &str = "11111111-0000-0000-0000-0000000000f1";

fn directory() -> DirectorySnapshot {
    let mut text = EXAMPLE_DIRECTORY.replacen(
        "groups:\n",
        &format!(
            "  - {{id: {SVC}, upn: \"$svc.o'hara@contoso.com\", display_name: Service Desk Bot}}\ngroups:\n"
        ),
        1,
    );
    text.push('\n');
    groupgate_core::input::from_yaml(&text, &Default::default()).unwrap()
}

async fn start(clock: &SimClock) -> GraphEmulator {
    GraphEmulator::start(
        "127.0.0.1:0",
        directory(),
        GraphEmulatorOptions::default(),
        Arc::new(clock.clone()),
    )
    .await
    .unwrap()
}

fn client(emu: &GraphEmulator) -> GraphClient {
    let o = emu.options();
    GraphClient::new(GraphConfig::for_loopback_emulator(
        &o.tenant_id,
        &o.client_id,
        Secret::new("emulator-secret"),
        emu.base_url(),
        emu.authority_url(),
    ))
    .unwrap()
}

fn clock() -> SimClock {
    SimClock::at("2026-11-25T10:00:00Z".parse().unwrap())
}

#[tokio::test]
async fn a_upn_starting_with_a_dollar_is_read_with_the_key_syntax() {
    let clock = clock();
    let emu = start(&clock).await;
    let graph = client(&emu);
    let user = graph
        .user("$svc.o'hara@contoso.com")
        .await
        .unwrap()
        .expect("found by its UPN");
    assert_eq!(user.id.as_str(), SVC);
    let requests = emu.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("GET /v1.0/users('$svc.o''hara@contoso.com')")),
        "{requests:#?}"
    );
    // The same key through the facts batch.
    let facts = graph
        .facts(&groupgate_core::ports::FactsQuery {
            requester: "$svc.o'hara@contoso.com".into(),
            target: "$svc.o'hara@contoso.com".into(),
            needs: Default::default(),
        })
        .await
        .unwrap();
    assert_eq!(facts.requester.unwrap().id.as_str(), SVC);
    assert_eq!(facts.target.unwrap().id.as_str(), SVC);
}

#[tokio::test]
async fn keys_of_dots_never_leave_their_collection() {
    let clock = clock();
    let emu = start(&clock).await;
    let graph = client(&emu);
    for key in [".", "..", "../groups", "..%2Fgroups"] {
        assert!(graph.user(key).await.unwrap().is_none(), "{key}");
    }
    assert!(graph.group(&GroupId::new("..")).await.unwrap().is_none());
    let requests = emu.requests();
    // Every call stayed on /users/… or /users('…'), /groups('…').
    for r in requests.iter().filter(|r| !r.contains("/token")) {
        assert!(
            r.starts_with("GET /v1.0/users/")
                || r.starts_with("GET /v1.0/users('")
                || r.starts_with("GET /v1.0/groups('"),
            "{r}"
        );
    }
}

#[tokio::test]
async fn a_nested_membership_reads_as_transitive_never_direct() {
    let clock = clock();
    let emu = start(&clock).await;
    let graph = client(&emu);
    // Tom is in Team Alpha only through Team Alpha Core.
    let tom = UserId::new("11111111-0000-0000-0000-000000000016");
    let state = graph
        .membership(&GroupId::new(TEAM_ALPHA), &tom)
        .await
        .unwrap();
    assert_eq!(state, MembershipState::Transitive);
    let state = graph
        .membership(&GroupId::new(TEAM_ALPHA_CORE), &tom)
        .await
        .unwrap();
    assert_eq!(state, MembershipState::Direct);
}

#[tokio::test]
async fn an_add_that_never_shows_is_not_verified_by_a_nested_path_that_appears_meanwhile() {
    let clock = clock();
    let emu = start(&clock).await;
    let policy = CompiledPolicy::from_yaml_str(EXAMPLE_POLICY, "examples/policy.yaml").unwrap();
    let world = World::with_identity(policy, clock.clone(), 5, Arc::new(client(&emu)));
    // Carl's add to Team Alpha never shows in reads, and the first read-back
    // fails, so the workflow waits...
    emu.set_replication_lag_forever(TEAM_ALPHA);
    emu.fail_next(&format!("GET /v1.0/groups/{TEAM_ALPHA}/members"), 503, None);
    let request: groupgate_core::Request = serde_json::from_value(serde_json::json!({
        "ticket": "RITM1", "requester": "pat.lead@contoso.com",
        "target": "carl.contractor@contoso.com", "resource": "Team Alpha",
        "end_date": "2027-01-31T17:00:00Z"
    }))
    .unwrap();
    world.submit(request).await.unwrap();
    world
        .answer(
            "RITM1",
            "mia.manager@contoso.com",
            Verdict::Approve,
            "teams",
        )
        .await
        .unwrap();
    // ...while someone nests Carl through Team Alpha Core by hand.
    emu.edit_directory(|dir| {
        dir.find_group_mut(TEAM_ALPHA_CORE)
            .unwrap()
            .members
            .push(CARL.to_owned());
    });
    world
        .run_until(world.now() + TimeDelta::minutes(15))
        .await
        .unwrap();
    let wf = world.workflow("RITM1").await.unwrap();
    // Carl has access through nesting, but the add was never seen: not
    // verified, rolled back, and a person is asked to look.
    assert_eq!(wf.phase, Phase::RolledBack, "{:?}", wf.phase);
    assert!(!emu.is_direct_member(TEAM_ALPHA, CARL));
    assert!(
        emu.is_direct_member(TEAM_ALPHA_CORE, CARL),
        "not ours to remove"
    );
    assert_eq!(
        world.tickets.ticket("RITM1").unwrap().state,
        Some(TicketState::ManualIntervention)
    );
    groupgate_core::audit::verify_jsonl(&world.audit_jsonl().await.unwrap()).unwrap();
}
