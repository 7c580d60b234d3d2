//! The Graph adapter against the Graph emulator: every answer class, the
//! token flow, escaping, and the engine's whole workflows over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use chrono::TimeDelta;
use groupgate_core::ports::{ErrorClass, IdentityProvider, TicketState};
use groupgate_core::workflow::{Phase, Verdict};
use groupgate_core::{
    CompiledPolicy, DirectorySnapshot, GroupId, MembershipState, Request, UserId, UserType,
};
use groupgate_emulators::{GraphEmulator, GraphEmulatorOptions};
use groupgate_graph::{GraphClient, GraphConfig, Secret};
use groupgate_sim::{EXAMPLE_DIRECTORY, EXAMPLE_POLICY, SimClock, World};
use std::sync::Arc;

const FINANCE: &str = "aaaaaaaa-0000-0000-0000-000000000001";
const TEAM_ALPHA: &str = "aaaaaaaa-0000-0000-0000-000000000002";
const ADMINS: &str = "aaaaaaaa-0000-0000-0000-000000000006";
const SALES: &str = "aaaaaaaa-0000-0000-0000-000000000007";
const ADA: &str = "11111111-0000-0000-0000-00000000000a";
const CARL: &str = "11111111-0000-0000-0000-00000000000c";
const PAT: &str = "11111111-0000-0000-0000-00000000000e";
const TOM: &str = "11111111-0000-0000-0000-000000000016";

fn directory() -> DirectorySnapshot {
    groupgate_core::input::from_yaml(EXAMPLE_DIRECTORY, &Default::default()).unwrap()
}

fn clock() -> SimClock {
    SimClock::at("2026-11-25T10:00:00Z".parse().unwrap())
}

async fn emulator(options: GraphEmulatorOptions, clock: &SimClock) -> GraphEmulator {
    GraphEmulator::start("127.0.0.1:0", directory(), options, Arc::new(clock.clone()))
        .await
        .unwrap()
}

fn client(emu: &GraphEmulator, secret: &str) -> GraphClient {
    let o = emu.options();
    let config = GraphConfig::for_loopback_emulator(
        &o.tenant_id,
        &o.client_id,
        Secret::new(secret),
        emu.base_url(),
        emu.authority_url(),
    );
    GraphClient::new(config).unwrap()
}

#[tokio::test]
async fn users_managers_and_groups_are_read_with_their_attributes() {
    let clock = clock();
    let emu = emulator(GraphEmulatorOptions::default(), &clock).await;
    let graph = client(&emu, "emulator-secret");
    let carl = graph
        .user("carl.contractor@contoso.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(carl.id.as_str(), CARL);
    assert!(carl.enabled);
    assert_eq!(carl.employee_type.as_deref(), Some("Contractor"));
    let gus = graph
        .user("gus_fabrikam.com#EXT#@contoso.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(gus.user_type, UserType::Guest);
    assert!(
        emu.requests()
            .iter()
            .any(|r| r.contains("gus_fabrikam.com%23EXT%23@contoso.com")),
        "# encoded"
    );
    assert!(graph.user("nobody@contoso.com").await.unwrap().is_none());
    let eve = graph.user("eve.former@contoso.com").await.unwrap().unwrap();
    assert!(!eve.enabled);
    let manager = graph.manager(&UserId::new(CARL)).await.unwrap().unwrap();
    assert_eq!(&*manager.upn, "mia.manager@contoso.com");
    assert!(
        graph
            .manager(&UserId::new("11111111-0000-0000-0000-00000000000b"))
            .await
            .unwrap()
            .is_none(),
        "Grace has no manager"
    );
    let admins = graph.group(&GroupId::new(ADMINS)).await.unwrap().unwrap();
    assert!(admins.role_assignable);
    let sales = graph.group(&GroupId::new(SALES)).await.unwrap().unwrap();
    assert!(sales.dynamic_membership);
    let alpha = graph
        .group(&GroupId::new(TEAM_ALPHA))
        .await
        .unwrap()
        .unwrap();
    assert!(alpha.unified && alpha.membership_writable());
    assert!(
        graph
            .group(&GroupId::new("ffffffff-0000-0000-0000-000000000000"))
            .await
            .unwrap()
            .is_none()
    );
    // Every call selected its fields explicitly.
    assert!(
        emu.requests()
            .iter()
            .filter(|r| r.starts_with("GET /v1.0/users/") || r.starts_with("GET /v1.0/groups/"))
            .all(|r| r.contains("$select="))
    );
}

#[tokio::test]
async fn memberships_tell_direct_from_nested() {
    let clock = clock();
    let emu = emulator(GraphEmulatorOptions::default(), &clock).await;
    let graph = client(&emu, "emulator-secret");
    assert_eq!(
        graph
            .membership(&GroupId::new(TEAM_ALPHA), &UserId::new(PAT))
            .await
            .unwrap(),
        MembershipState::Direct
    );
    assert_eq!(
        graph
            .membership(&GroupId::new(TEAM_ALPHA), &UserId::new(TOM))
            .await
            .unwrap(),
        MembershipState::Transitive
    );
    assert_eq!(
        graph
            .membership(&GroupId::new(TEAM_ALPHA), &UserId::new(ADA))
            .await
            .unwrap(),
        MembershipState::NotMember
    );
    let groups: Vec<GroupId> = [TEAM_ALPHA, FINANCE]
        .iter()
        .map(|g| GroupId::new(*g))
        .collect();
    assert_eq!(
        graph.member_of(&UserId::new(PAT), &groups).await.unwrap(),
        vec![GroupId::new(TEAM_ALPHA)]
    );
}

#[tokio::test]
async fn writes_are_idempotent_and_removal_targets_the_reference() {
    let clock = clock();
    let emu = emulator(GraphEmulatorOptions::default(), &clock).await;
    let graph = client(&emu, "emulator-secret");
    let (group, user) = (GroupId::new(FINANCE), UserId::new(ADA));
    let first = graph.add_member(&group, &user).await.unwrap();
    assert!(!first.already);
    assert!(
        first.request_ids[0].starts_with("emu-"),
        "{:?}",
        first.request_ids
    );
    assert!(emu.is_direct_member(FINANCE, ADA));
    assert!(
        graph.add_member(&group, &user).await.unwrap().already,
        "adding an existing member succeeds, saying so"
    );
    assert!(!graph.remove_member(&group, &user).await.unwrap().already);
    assert!(
        graph.remove_member(&group, &user).await.unwrap().already,
        "removing a non-member succeeds, saying so"
    );
    let deletes: Vec<String> = emu
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("DELETE"))
        .collect();
    assert_eq!(deletes.len(), 2);
    assert!(deletes.iter().all(|d| d.ends_with("/$ref")), "{deletes:?}");
    // Removing the user object itself is refused by the emulator, loudly.
    let raw = reqwest_delete_without_ref(&emu).await;
    assert!(raw.contains("without /$ref"), "{raw}");
    assert!(
        emu.snapshot().users.iter().any(|u| u.id == ADA),
        "the user still exists"
    );
}

async fn reqwest_delete_without_ref(emu: &GraphEmulator) -> String {
    // The adapter never sends this; prove the emulator catches it if anyone did.
    let o = emu.options();
    let http = reqwest_like::client();
    let token: serde_json::Value = http
        .post(format!(
            "{}/{}/oauth2/v2.0/token",
            emu.authority_url(),
            o.tenant_id
        ))
        .form(&[
            ("client_id", o.client_id.as_str()),
            ("client_secret", o.client_secret.as_str()),
            ("scope", "x/.default"),
            ("grant_type", "client_credentials"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    http.delete(format!("{}/groups/{FINANCE}/members/{ADA}", emu.base_url()))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

mod reqwest_like {
    pub(crate) fn client() -> reqwest::Client {
        reqwest::Client::new()
    }
}

#[tokio::test]
async fn unmanageable_groups_answer_like_graph() {
    let clock = clock();
    let emu = emulator(GraphEmulatorOptions::default(), &clock).await;
    let graph = client(&emu, "emulator-secret");
    let e = graph
        .add_member(&GroupId::new(ADMINS), &UserId::new(ADA))
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Forbidden);
    assert!(
        e.message.contains("RoleManagement.ReadWrite.Directory"),
        "{}",
        e.message
    );
    assert!(e.correlation_id.is_some());
    let e = graph
        .add_member(&GroupId::new(SALES), &UserId::new(ADA))
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Forbidden);
    let e = graph
        .add_member(
            &GroupId::new("ffffffff-0000-0000-0000-000000000000"),
            &UserId::new(ADA),
        )
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::NotFound);
}

#[tokio::test]
async fn throttling_is_transient_with_retry_after_and_early_retries_are_throttled_again() {
    let clock = clock();
    let emu = emulator(GraphEmulatorOptions::default(), &clock).await;
    let graph = client(&emu, "emulator-secret");
    emu.fail_next("members/$ref", 429, Some(7));
    let e = graph
        .add_member(&GroupId::new(FINANCE), &UserId::new(ADA))
        .await
        .unwrap_err();
    assert_eq!(
        e.class,
        ErrorClass::Transient {
            retry_after_seconds: Some(7)
        }
    );
    clock.advance(TimeDelta::seconds(3));
    let e = graph.user(ADA).await.unwrap_err();
    assert!(e.class.is_transient(), "too early: throttled again");
    clock.advance(TimeDelta::seconds(8));
    assert!(graph.user(ADA).await.unwrap().is_some());
    emu.fail_next("GET /v1.0/groups", 503, None);
    assert!(
        graph
            .group(&GroupId::new(FINANCE))
            .await
            .unwrap_err()
            .class
            .is_transient()
    );
    emu.fail_next("GET /v1.0/groups", 504, None);
    assert!(
        graph
            .group(&GroupId::new(FINANCE))
            .await
            .unwrap_err()
            .class
            .is_transient()
    );
}

#[tokio::test]
async fn tokens_are_cached_refreshed_and_secrets_stay_out_of_errors() {
    let clock = clock();
    let emu = emulator(
        GraphEmulatorOptions {
            token_lifetime_seconds: 60,
            ..Default::default()
        },
        &clock,
    )
    .await;
    let bad = client(&emu, "wrong-secret");
    let e = bad.user(ADA).await.unwrap_err();
    assert!(e.message.contains("invalid_client"), "{}", e.message);
    assert!(!format!("{e:?}{e}").contains("wrong-secret"));
    assert!(!format!("{bad:?}").contains("wrong-secret"));
    let graph = client(&emu, "emulator-secret");
    graph.user(ADA).await.unwrap();
    graph.user(ADA).await.unwrap();
    // The token expires on the emulator's clock: the next call gets a 401, refreshes once, and succeeds.
    clock.advance(TimeDelta::seconds(120));
    assert!(graph.user(ADA).await.unwrap().is_some());
}

fn example_world(emu: &GraphEmulator, clock: &SimClock, seed: u64) -> World {
    let policy = CompiledPolicy::from_yaml_str(EXAMPLE_POLICY, "examples/policy.yaml").unwrap();
    World::with_identity(
        policy,
        clock.clone(),
        seed,
        Arc::new(client(emu, "emulator-secret")),
    )
}

fn request(
    ticket: &str,
    requester: &str,
    target: &str,
    resource: &str,
    end: Option<&str>,
) -> Request {
    serde_json::from_value(
        serde_json::json!({"ticket": ticket, "requester": requester, "target": target,
        "resource": resource, "end_date": end}),
    )
    .unwrap()
}

#[tokio::test]
async fn the_engine_runs_both_mini_examples_over_graph() {
    let clock = clock();
    let emu = emulator(GraphEmulatorOptions::default(), &clock).await;
    let world = example_world(&emu, &clock, 5);
    world
        .submit(request(
            "RITM1",
            "ada.lovelace@contoso.com",
            "ada.lovelace@contoso.com",
            "Access to Finance BI",
            None,
        ))
        .await
        .unwrap();
    world
        .answer(
            "RITM1",
            "grace.hopper@contoso.com",
            Verdict::Approve,
            "teams",
        )
        .await
        .unwrap();
    let wf = world
        .answer("RITM1", "dora.data@contoso.com", Verdict::Approve, "slack")
        .await
        .unwrap();
    assert!(matches!(wf.phase, Phase::Active { .. }), "{:?}", wf.phase);
    assert!(emu.is_direct_member(FINANCE, ADA));
    assert!(
        world
            .tickets
            .ticket("RITM1")
            .unwrap()
            .notes
            .join("\n")
            .contains("request ids: emu-")
    );

    world
        .submit(request(
            "RITM2",
            "pat.lead@contoso.com",
            "carl.contractor@contoso.com",
            "Add contractor to Team Alpha",
            Some("2027-01-31T17:00:00Z"),
        ))
        .await
        .unwrap();
    world
        .answer(
            "RITM2",
            "mia.manager@contoso.com",
            Verdict::Approve,
            "teams",
        )
        .await
        .unwrap();
    assert!(emu.is_direct_member(TEAM_ALPHA, CARL));
    world
        .run_until("2027-02-01T00:00:00Z".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(world.workflow("RITM2").await.unwrap().phase, Phase::Removed);
    assert!(!emu.is_direct_member(TEAM_ALPHA, CARL));

    world
        .submit(request(
            "RITM3",
            "grace.hopper@contoso.com",
            "ada.lovelace@contoso.com",
            "Helpdesk Admin",
            None,
        ))
        .await
        .unwrap();
    assert_eq!(world.workflow("RITM3").await.unwrap().phase, Phase::Denied);
    assert!(
        !emu.requests()
            .iter()
            .any(|r| r.contains(ADMINS) && r.starts_with("POST"))
    );
}

#[tokio::test]
async fn a_throttled_add_succeeds_after_retry_after_and_an_invisible_one_is_rolled_back() {
    let clock = clock();
    let emu = emulator(GraphEmulatorOptions::default(), &clock).await;
    let world = example_world(&emu, &clock, 9);
    emu.fail_next(
        "POST /v1.0/groups/aaaaaaaa-0000-0000-0000-000000000002/members/$ref",
        429,
        Some(7),
    );
    world
        .submit(request(
            "RITM4",
            "pat.lead@contoso.com",
            "carl.contractor@contoso.com",
            "Team Alpha",
            Some("2027-01-31T17:00:00Z"),
        ))
        .await
        .unwrap();
    let wf = world
        .answer(
            "RITM4",
            "mia.manager@contoso.com",
            Verdict::Approve,
            "teams",
        )
        .await
        .unwrap();
    assert!(
        matches!(wf.phase, Phase::AwaitingRetry { .. }),
        "{:?}",
        wf.phase
    );
    world
        .run_until(clock_now(&world) + TimeDelta::minutes(2))
        .await
        .unwrap();
    assert!(matches!(
        world.workflow("RITM4").await.unwrap().phase,
        Phase::Active { .. }
    ));
    assert!(emu.is_direct_member(TEAM_ALPHA, CARL));

    emu.set_replication_lag_forever(FINANCE);
    world
        .submit(request(
            "RITM5",
            "ada.lovelace@contoso.com",
            "ada.lovelace@contoso.com",
            "Finance BI",
            None,
        ))
        .await
        .unwrap();
    world
        .answer(
            "RITM5",
            "grace.hopper@contoso.com",
            Verdict::Approve,
            "teams",
        )
        .await
        .unwrap();
    world
        .answer("RITM5", "dora.data@contoso.com", Verdict::Approve, "teams")
        .await
        .unwrap();
    world
        .run_until(clock_now(&world) + TimeDelta::minutes(10))
        .await
        .unwrap();
    assert_eq!(
        world.workflow("RITM5").await.unwrap().phase,
        Phase::RolledBack
    );
    assert!(!emu.is_direct_member(FINANCE, ADA));
    assert_eq!(
        world.tickets.ticket("RITM5").unwrap().state,
        Some(TicketState::ManualIntervention)
    );
}

fn clock_now(world: &World) -> chrono::DateTime<chrono::Utc> {
    world.now()
}

#[tokio::test]
async fn with_a_seeded_20_percent_fault_rate_the_final_memberships_are_exact() {
    let clock = clock();
    let emu = emulator(
        GraphEmulatorOptions {
            fault_rate: 0.2,
            seed: 42,
            ..Default::default()
        },
        &clock,
    )
    .await;
    // Every evaluation makes about seven Graph reads; at a 20 % fault rate most
    // evaluations fail at least once, so allow more attempts than the default.
    let mut settings = groupgate_core::workflow::WorkflowSettings::default();
    settings.retry.max_attempts = 40;
    // Throttled batch items come back as transient at once (the engine
    // retries on simulated time instead of the adapter sleeping).
    let o = emu.options();
    let mut config = GraphConfig::for_loopback_emulator(
        &o.tenant_id,
        &o.client_id,
        Secret::new("emulator-secret"),
        emu.base_url(),
        emu.authority_url(),
    );
    config.max_batch_wait = std::time::Duration::ZERO;
    let policy = CompiledPolicy::from_yaml_str(EXAMPLE_POLICY, "examples/policy.yaml").unwrap();
    let world = World::with_identity(
        policy,
        clock.clone(),
        11,
        Arc::new(GraphClient::new(config).unwrap()),
    )
    .with_settings(settings);
    let run = |t: &'static str, r: Request| async move { (t, r) };
    let _ = run;
    world
        .submit(request(
            "RITM1",
            "ada.lovelace@contoso.com",
            "ada.lovelace@contoso.com",
            "Access to Finance BI",
            None,
        ))
        .await
        .unwrap();
    world
        .submit(request(
            "RITM2",
            "pat.lead@contoso.com",
            "carl.contractor@contoso.com",
            "Add contractor to Team Alpha",
            Some("2027-01-31T17:00:00Z"),
        ))
        .await
        .unwrap();
    world
        .submit(request(
            "RITM3",
            "grace.hopper@contoso.com",
            "ada.lovelace@contoso.com",
            "Helpdesk Admin",
            None,
        ))
        .await
        .unwrap();
    // Approvers answer; retries and read-backs run on simulated time.
    for _ in 0..30 {
        world
            .run_until(world.now() + TimeDelta::minutes(5))
            .await
            .unwrap();
        for (ticket, who) in [
            ("RITM1", "grace.hopper@contoso.com"),
            ("RITM1", "dora.data@contoso.com"),
            ("RITM2", "mia.manager@contoso.com"),
        ] {
            let wf = world.workflow(ticket).await.unwrap();
            if let Phase::AwaitingApproval { stage, .. } = wf.phase {
                let name = &wf.decision.as_ref().unwrap().stages[stage].name;
                let wants = (ticket == "RITM1" && stage == 0 && who.starts_with("grace"))
                    || (ticket == "RITM1" && stage == 1 && who.starts_with("dora"))
                    || ticket == "RITM2";
                if wants && !wf.approvals.iter().any(|a| a.stage == *name) {
                    world
                        .answer(ticket, who, Verdict::Approve, "teams")
                        .await
                        .unwrap();
                }
            }
        }
    }
    let phases: Vec<String> = futures_phases(&world).await;
    eprintln!(
        "{}",
        world.tickets.ticket("RITM2").unwrap().notes.join("\n")
    );
    assert!(emu.is_direct_member(FINANCE, ADA), "{phases:?}");
    assert!(emu.is_direct_member(TEAM_ALPHA, CARL), "{phases:?}");
    assert!(!emu.is_direct_member(ADMINS, ADA));
    let snapshot = emu.snapshot();
    let members = |g: &str| {
        snapshot
            .groups
            .iter()
            .find(|x| x.id == g)
            .unwrap()
            .members
            .clone()
    };
    assert_eq!(members(FINANCE), vec![ADA.to_owned()]);
    assert_eq!(
        members(TEAM_ALPHA),
        vec!["pat.lead@contoso.com".to_owned(), CARL.to_owned()]
    );
    assert!(emu.requests().len() > 20);
}

async fn futures_phases(world: &World) -> Vec<String> {
    let mut out = Vec::new();
    for t in ["RITM1", "RITM2", "RITM3"] {
        out.push(format!(
            "{t}: {}",
            world.workflow(t).await.unwrap().phase.name()
        ));
    }
    out
}

#[tokio::test]
async fn offboarding_from_30_groups_goes_through_batches() {
    let n = THIRTY;
    let (policy, dir) = thirty_groups();
    let clock = clock();
    let emu = GraphEmulator::start(
        "127.0.0.1:0",
        dir,
        GraphEmulatorOptions::default(),
        Arc::new(clock.clone()),
    )
    .await
    .unwrap();
    let world = World::with_identity(
        policy,
        clock.clone(),
        3,
        Arc::new(client(&emu, "emulator-secret")),
    );
    for i in 0..n {
        let wf = world
            .submit(request(
                &format!("T{i}"),
                "boss@contoso.com",
                "worker@contoso.com",
                &format!("App {i}"),
                None,
            ))
            .await
            .unwrap();
        assert_eq!(wf.phase, Phase::Completed, "T{i}: {:?}", wf.phase);
    }
    assert!((0..n).all(|i| emu.is_direct_member(&gid(i), "u-worker")));
    let before = emu.requests().len();
    let ended = world
        .engine
        .offboard("worker@contoso.com", "hr")
        .await
        .unwrap();
    let offboarding: Vec<String> = emu.requests()[before..].to_vec();
    assert_eq!(ended.removed.len(), n, "{ended:?}");
    assert!(
        ended.drift.is_empty() && ended.failed.is_empty(),
        "{ended:?}"
    );
    assert!((0..n).all(|i| !emu.is_direct_member(&gid(i), "u-worker")));
    for i in 0..n {
        assert_eq!(
            world.workflow(&format!("T{i}")).await.unwrap().phase,
            Phase::Removed
        );
    }
    let batches = offboarding
        .iter()
        .filter(|r| r.starts_with("POST /v1.0/$batch"))
        .count();
    assert_eq!(batches, 2, "20 + 10 removals: {offboarding:#?}");
    assert!(
        !offboarding.iter().any(|r| r.starts_with("DELETE")),
        "no single removals"
    );
    // Report for the closing note: removals in 2 batches, then one read-back per group.
    eprintln!(
        "offboarding from {n} groups: {} HTTP requests ({batches} $batch, {} read-backs)",
        offboarding.len(),
        offboarding.len() - batches
    );
}

#[tokio::test]
async fn every_error_class_reaches_the_engine_classified() {
    let clock = clock();
    let emu = emulator(GraphEmulatorOptions::default(), &clock).await;
    let graph = client(&emu, "emulator-secret");
    let group = GroupId::new(FINANCE);
    for (status, class) in [
        (400, ErrorClass::Invalid),
        (404, ErrorClass::NotFound),
        (409, ErrorClass::Conflict),
        (418, ErrorClass::Permanent),
        (
            503,
            ErrorClass::Transient {
                retry_after_seconds: None,
            },
        ),
        (
            504,
            ErrorClass::Transient {
                retry_after_seconds: None,
            },
        ),
    ] {
        emu.fail_next("members/$ref", status, None);
        let e = graph
            .add_member(&group, &UserId::new(ADA))
            .await
            .unwrap_err();
        assert_eq!(e.class, class, "{status}: {e}");
        assert!(
            e.correlation_id
                .as_deref()
                .is_some_and(|id| id.starts_with("emu-")),
            "{e:?}"
        );
    }
    // A dropped connection and a slow answer (past the client's timeout) are transient.
    emu.drop_next("GET /v1.0/groups");
    assert!(graph.group(&group).await.unwrap_err().class.is_transient());
    let o = emu.options();
    let mut config = GraphConfig::for_loopback_emulator(
        &o.tenant_id,
        &o.client_id,
        Secret::new("emulator-secret"),
        emu.base_url(),
        emu.authority_url(),
    );
    config.timeout = std::time::Duration::from_millis(300);
    let impatient = GraphClient::new(config).unwrap();
    emu.slow_next("GET /v1.0/groups", std::time::Duration::from_millis(900));
    let e = impatient.group(&group).await.unwrap_err();
    assert!(e.class.is_transient(), "{e}");
    assert!(e.message.contains("timed out"), "{e}");
}

#[tokio::test]
async fn the_write_budget_throttles_like_graph() {
    let clock = clock();
    let emu = emulator(
        GraphEmulatorOptions {
            write_budget: 2,
            ..Default::default()
        },
        &clock,
    )
    .await;
    let graph = client(&emu, "emulator-secret");
    graph
        .add_member(&GroupId::new(FINANCE), &UserId::new(ADA))
        .await
        .unwrap();
    graph
        .remove_member(&GroupId::new(FINANCE), &UserId::new(ADA))
        .await
        .unwrap();
    let e = graph
        .add_member(&GroupId::new(FINANCE), &UserId::new(ADA))
        .await
        .unwrap_err();
    assert!(e.class.is_transient(), "{e}");
    clock.advance(TimeDelta::seconds(151));
    graph
        .add_member(&GroupId::new(FINANCE), &UserId::new(ADA))
        .await
        .unwrap();
}

#[tokio::test]
async fn bulk_additions_go_through_batches_with_per_item_results() {
    let clock = clock();
    let emu = emulator(GraphEmulatorOptions::default(), &clock).await;
    let graph = client(&emu, "emulator-secret");
    let groups: Vec<GroupId> = [
        FINANCE,
        TEAM_ALPHA,
        ADMINS,
        "ffffffff-0000-0000-0000-000000000000",
    ]
    .iter()
    .map(|g| GroupId::new(*g))
    .collect();
    let results = graph
        .add_memberships(&UserId::new(PAT), &groups)
        .await
        .unwrap();
    assert!(!results[0].as_ref().unwrap().already);
    assert!(
        results[1].as_ref().unwrap().already,
        "Pat already is in Team Alpha"
    );
    assert_eq!(
        results[2].as_ref().unwrap_err().class,
        ErrorClass::Forbidden,
        "role-assignable"
    );
    assert_eq!(results[3].as_ref().unwrap_err().class, ErrorClass::NotFound);
    assert!(emu.is_direct_member(FINANCE, PAT));
    assert_eq!(
        emu.requests()
            .iter()
            .filter(|r| r.contains("$batch"))
            .count(),
        1
    );
}

#[tokio::test]
async fn offboarding_from_30_groups_survives_a_20_percent_fault_rate() {
    let n = THIRTY;
    let (policy, dir) = thirty_groups();
    let clock = clock();
    let options = GraphEmulatorOptions {
        fault_rate: 0.2,
        seed: 7,
        ..Default::default()
    };
    let emu = GraphEmulator::start("127.0.0.1:0", dir, options, Arc::new(clock.clone()))
        .await
        .unwrap();
    let o = emu.options();
    let mut config = GraphConfig::for_loopback_emulator(
        &o.tenant_id,
        &o.client_id,
        Secret::new("emulator-secret"),
        emu.base_url(),
        emu.authority_url(),
    );
    config.max_batch_wait = std::time::Duration::ZERO;
    let mut settings = groupgate_core::workflow::WorkflowSettings::default();
    settings.retry.max_attempts = 40;
    let world = World::with_identity(
        policy,
        clock.clone(),
        3,
        Arc::new(GraphClient::new(config).unwrap()),
    )
    .with_settings(settings);
    for i in 0..n {
        world
            .submit(request(
                &format!("T{i}"),
                "boss@contoso.com",
                "worker@contoso.com",
                &format!("App {i}"),
                None,
            ))
            .await
            .unwrap();
    }
    world
        .run_until(world.now() + TimeDelta::hours(2))
        .await
        .unwrap();
    for i in 0..n {
        assert_eq!(
            world.workflow(&format!("T{i}")).await.unwrap().phase,
            Phase::Completed,
            "T{i}"
        );
    }
    // At this fault rate even the first look-up may fail: the caller (the
    // worker) tries again, and offboarding is idempotent.
    let mut tries = 0;
    while world
        .engine
        .offboard("worker@contoso.com", "hr")
        .await
        .is_err()
    {
        tries += 1;
        assert!(tries < 20, "the directory never answered");
    }
    world
        .run_until(world.now() + TimeDelta::hours(2))
        .await
        .unwrap();
    for i in 0..n {
        assert_eq!(
            world.workflow(&format!("T{i}")).await.unwrap().phase,
            Phase::Removed,
            "T{i}"
        );
        assert!(!emu.is_direct_member(&gid(i), "u-worker"), "G{i}");
    }
}

const THIRTY: usize = 30;

fn gid(i: usize) -> String {
    format!("30000000-0000-0000-0000-0000000000{i:02}")
}

/// A policy and tenant with 30 low-risk groups a manager may grant as a standard change.
fn thirty_groups() -> (CompiledPolicy, DirectorySnapshot) {
    let mut policy = String::from(
        "version: 1\nstandard_changes:\n  - {name: by-manager, max_risk: low, requester_is_target_manager: true}\ngroups:\n",
    );
    let mut catalog = String::from("catalog:\n");
    let mut groups = String::from("groups:\n");
    for i in 0..THIRTY {
        policy.push_str(&format!("  - {{id: G{i}, object_id: {}, managed_via_itsm: true, risk: low, approval: [{{name: manager, approvers: [manager]}}]}}\n", gid(i)));
        catalog.push_str(&format!("  - {{name: App {i}, group: G{i}}}\n"));
        groups.push_str(&format!("  - {{id: {}, display_name: App {i}}}\n", gid(i)));
    }
    policy.push_str(&catalog);
    let policy = CompiledPolicy::from_yaml_str(&policy, "thirty.yaml").unwrap();
    let dir: DirectorySnapshot = groupgate_core::input::from_yaml(&format!(
        "users:\n  - {{id: u-worker, upn: worker@contoso.com, manager: boss@contoso.com}}\n  - {{id: u-boss, upn: boss@contoso.com}}\n{groups}"
    ), &Default::default())
    .unwrap();
    (policy, dir)
}
