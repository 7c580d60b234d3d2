//! The ServiceNow adapter against the ServiceNow emulator, and whole
//! workflows with tickets and approvals in ServiceNow.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use chrono::{DateTime, TimeDelta, Utc};
use groupgate_core::ports::{ErrorClass, TicketSystem};
use groupgate_core::workflow::Phase;
use groupgate_core::{CompiledPolicy, TicketRef};
use groupgate_emulators::{SnowEmulator, SnowEmulatorOptions};
use groupgate_servicenow::{
    ApprovalMode, Auth, ServiceNowClient, ServiceNowConfig, parse_ritm_created,
};
use groupgate_sim::{EXAMPLE_POLICY, World};
use std::sync::Arc;

mod snow_support;
use snow_support::*;

#[tokio::test]
async fn ritms_are_read_into_requests_with_their_variables() {
    let clock = clock();
    let emu = emulator(SnowEmulatorOptions::default(), &clock).await;
    for oauth in [false, true] {
        let snow = client(&emu, oauth, "emulator-password");
        let r = snow
            .read_request(&TicketRef::new("RITM0010002"))
            .await
            .unwrap();
        assert_eq!(r.requester, "pat.lead@contoso.com");
        assert_eq!(r.target, "carl.contractor@contoso.com");
        assert_eq!(r.resource, "Team Alpha");
        // A date variable is a day, read in the policy's time zone.
        assert_eq!(
            r.end_date,
            Some(groupgate_core::EndDate::Day("2027-01-31".parse().unwrap()))
        );
    }
    let snow = client(&emu, false, "emulator-password");
    let e = snow
        .read_request(&TicketRef::new("RITM0010003"))
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Invalid);
    assert!(
        e.message
            .contains("RITM0010003: catalog variable `requested_resource`"),
        "{}",
        e.message
    );
    let e = snow
        .read_request(&TicketRef::new("RITM0010004"))
        .await
        .unwrap_err();
    assert!(
        e.message
            .contains("`end_date` is `next week`, which is not a date"),
        "{}",
        e.message
    );
    let e = snow
        .read_request(&TicketRef::new("RITM0099999"))
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::NotFound);
    let wrong = client(&emu, false, "wrong");
    let e = wrong
        .read_request(&TicketRef::new("RITM0010001"))
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Forbidden);
    assert!(
        !format!("{e}{e:?}{wrong:?}").contains("wrong\""),
        "no secret in errors or Debug"
    );
}

#[tokio::test]
async fn an_encoded_query_injection_changes_nothing() {
    let clock = clock();
    // Like an instance: unreadable conditions are ignored, so a smuggled `^OR` would match everything.
    let emu = emulator(SnowEmulatorOptions::default(), &clock).await;
    let snow = client(&emu, false, "emulator-password");
    for evil in [
        "RITM0010001^ORnumberISNOTEMPTY",
        "RITM0010001^NQactive=true",
        "RITM0010001,RITM0010002",
    ] {
        let e = snow.read_request(&TicketRef::new(evil)).await.unwrap_err();
        assert_eq!(e.class, ErrorClass::Invalid, "{evil}");
    }
    assert!(
        emu.requests().is_empty(),
        "nothing reached the instance: {:?}",
        emu.requests()
    );
    let world = world(&emu, &clock);
    let err = world
        .engine
        .intake(&TicketRef::new("RITM0010001^ORnumberISNOTEMPTY"))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("cannot be used in a ServiceNow query"),
        "{err}"
    );
    assert!(
        world
            .engine
            .summaries(&Default::default())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn finance_bi_from_a_ritm_with_approvals_answered_in_servicenow() {
    let clock = clock();
    let emu = emulator(SnowEmulatorOptions::default(), &clock).await;
    let world = world(&emu, &clock);
    let wf = world
        .engine
        .intake(&TicketRef::new("RITM0010001"))
        .await
        .unwrap();
    assert_eq!(
        wf.phase,
        Phase::AwaitingApproval {
            stage: 0,
            escalated: false
        }
    );
    let ritm = emu.ritm("RITM0010001").unwrap();
    assert_eq!(ritm["state"], "-5", "pending approval");
    assert_eq!(ritm["stage"], "waiting_for_approval");
    assert_eq!(ritm["approval"], "requested");
    let approvals = emu.approvals("RITM0010001");
    assert_eq!(approvals.len(), 1);
    assert_eq!(
        approvals[0]["approver"],
        user_id("grace.hopper@contoso.com")
    );
    // Grace approves in ServiceNow a minute later; the engine collects it.
    emu.act_at(
        "RITM0010001",
        "grace.hopper@contoso.com",
        "approved",
        world.now() + TimeDelta::minutes(1),
    );
    clock.advance(TimeDelta::minutes(2));
    world
        .engine
        .collect_answers(&"RITM0010001".into())
        .await
        .unwrap();
    let approvals = emu.approvals("RITM0010001");
    assert_eq!(approvals.len(), 2, "the data owner is asked next");
    emu.act_at(
        "RITM0010001",
        "dora.data@contoso.com",
        "approved",
        world.now(),
    );
    let wf = world
        .engine
        .collect_answers(&"RITM0010001".into())
        .await
        .unwrap();
    assert!(matches!(wf.phase, Phase::Active { .. }), "{:?}", wf.phase);
    let ritm = emu.ritm("RITM0010001").unwrap();
    assert_eq!(ritm["state"], "3", "closed complete");
    assert_eq!(ritm["stage"], "completed");
    assert_eq!(ritm["approval"], "approved");
    let notes = emu
        .journal(ritm["sys_id"].as_str().unwrap(), "work_notes")
        .join("\n");
    assert!(notes.contains("approval required: 2 stage(s)"), "{notes}");
    assert!(
        notes.contains(
            "approval: `grace.hopper@contoso.com` approved stage `manager` via servicenow"
        ),
        "{notes}"
    );
    assert!(notes.contains("executed at"), "{notes}");
    assert!(notes.contains("to `GRP-FINANCE-BI-READ`"), "{notes}");
    // Each approver's e-mail is read once, however often answers are polled.
    let grace_reads = emu
        .requests()
        .iter()
        .filter(|r| {
            r.contains(&format!(
                "/sys_user/{}",
                user_id("grace.hopper@contoso.com")
            ))
        })
        .count();
    assert_eq!(grace_reads, 1, "{:#?}", emu.requests());
    // A restarted client reads each record's stage marker once, then remembers it.
    let restarted = client(&emu, true, "emulator-password");
    let ticket = TicketRef::new("RITM0010001");
    let before = emu.requests().len();
    for _ in 0..2 {
        let answers = groupgate_core::ports::ApprovalChannel::answers(&restarted, &ticket)
            .await
            .unwrap();
        assert_eq!(answers.len(), 2);
    }
    let marker_reads = emu.requests()[before..]
        .iter()
        .filter(|r| r.contains("sys_journal_field") && r.contains("element%3Dcomments"))
        .count();
    assert_eq!(marker_reads, 2, "{:#?}", &emu.requests()[before..]);
    // Each note once, even though the engine collected several times.
    let lines: Vec<&str> = notes.lines().collect();
    let mut unique = lines.clone();
    unique.dedup();
    assert_eq!(lines.len(), unique.len());
}

#[tokio::test]
async fn a_contractor_ritm_rejections_and_expiry() {
    let clock = clock();
    let emu = emulator(SnowEmulatorOptions::default(), &clock).await;
    let world = world(&emu, &clock);
    world
        .engine
        .intake(&TicketRef::new("RITM0010002"))
        .await
        .unwrap();
    emu.act_at(
        "RITM0010002",
        "mia.manager@contoso.com",
        "approved",
        world.now(),
    );
    let wf = world
        .engine
        .collect_answers(&"RITM0010002".into())
        .await
        .unwrap();
    assert_eq!(
        wf.phase,
        Phase::Active {
            // The end of 31 January in the policy's zone (Europe/Berlin).
            expires_at: at("2027-01-31T23:00:00Z")
        }
    );
    world.run_until(at("2027-02-01T06:00:00Z")).await.unwrap();
    assert_eq!(
        world.workflow("RITM0010002").await.unwrap().phase,
        Phase::Removed
    );

    // A rejection closes the ticket incomplete.
    world
        .engine
        .intake(&TicketRef::new("RITM0010005"))
        .await
        .unwrap();
    emu.act_at(
        "RITM0010005",
        "grace.hopper@contoso.com",
        "rejected",
        world.now(),
    );
    let wf = world
        .engine
        .collect_answers(&"RITM0010005".into())
        .await
        .unwrap();
    assert_eq!(wf.phase, Phase::Rejected);
    assert_eq!(emu.ritm("RITM0010005").unwrap()["state"], "4");
}

#[tokio::test]
async fn unanswered_approvals_expire_and_outstanding_records_are_withdrawn() {
    let clock = clock();
    let emu = emulator(SnowEmulatorOptions::default(), &clock).await;
    let world = world(&emu, &clock);
    world
        .engine
        .intake(&TicketRef::new("RITM0010001"))
        .await
        .unwrap();
    world
        .run_until(world.now() + TimeDelta::days(8))
        .await
        .unwrap();
    assert_eq!(
        world.workflow("RITM0010001").await.unwrap().phase,
        Phase::ApprovalExpired
    );
    assert_eq!(emu.ritm("RITM0010001").unwrap()["state"], "4");
    let states: Vec<String> = emu
        .approvals("RITM0010001")
        .iter()
        .map(|a| a["state"].as_str().unwrap().to_owned())
        .collect();
    assert!(states.iter().all(|s| s == "not_required"), "{states:?}");
}

#[tokio::test]
async fn rate_limits_are_retried_after_retry_after() {
    let clock = clock();
    let emu = emulator(SnowEmulatorOptions::default(), &clock).await;
    let world = world(&emu, &clock);
    emu.fail_next("PATCH /api/now/table/sc_req_item", 429, Some(30));
    let wf = world
        .engine
        .intake(&TicketRef::new("RITM0010001"))
        .await
        .unwrap();
    assert!(
        wf.outbox.iter().any(|p| p.retry_at.is_some()),
        "the ticket update waits for its retry"
    );
    let timer = world.engine.next_timer().await.unwrap().unwrap();
    assert!(timer.at >= world.now() + TimeDelta::seconds(30));
    world
        .run_until(world.now() + TimeDelta::minutes(2))
        .await
        .unwrap();
    assert_eq!(emu.ritm("RITM0010001").unwrap()["approval"], "requested");
    let wf = world.workflow("RITM0010001").await.unwrap();
    assert!(wf.outbox.is_empty(), "{:?}", wf.outbox);
}

#[test]
fn webhook_payloads_are_checked() {
    assert!(parse_ritm_created(b"not json").is_err());
    let other = br#"{"event":"incident.inserted","sys_id":"00000000000000000000000000000001","number":"RITM0000001"}"#;
    assert!(
        parse_ritm_created(other)
            .unwrap_err()
            .to_string()
            .contains("incident.inserted")
    );
    let evil = br#"{"event":"sc_req_item.inserted","sys_id":"00000000000000000000000000000001","number":"RITM1^ORactive=true"}"#;
    assert!(
        parse_ritm_created(evil)
            .unwrap_err()
            .to_string()
            .contains("`number`")
    );
}

#[tokio::test]
async fn the_poller_lists_new_ritms_of_configured_catalog_items() {
    let clock = clock();
    let emu = emulator(
        SnowEmulatorOptions {
            strict_queries: true,
            ..Default::default()
        },
        &clock,
    )
    .await;
    let snow = client(&emu, true, "emulator-password");
    let found = snow.new_ritms(&[CATALOG_ITEM.to_owned()]).await.unwrap();
    assert_eq!(found.len(), 5);
    assert!(snow.new_ritms(&["not-a-sys-id".to_owned()]).await.is_err());
    assert!(
        snow.new_ritms(&["c0000000000000000000000000000002".to_owned()])
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn dropped_connections_and_slow_answers_are_transient() {
    let clock = clock();
    let emu = emulator(SnowEmulatorOptions::default(), &clock).await;
    let snow = client(&emu, false, "emulator-password");
    emu.drop_next("GET /api/now/table/sc_req_item");
    assert!(
        snow.read_request(&TicketRef::new("RITM0010001"))
            .await
            .unwrap_err()
            .class
            .is_transient()
    );
    let o = emu.options();
    let mut config = ServiceNowConfig::for_loopback_emulator(
        emu.instance_url(),
        Auth::Basic {
            user: o.user.clone(),
            password: "emulator-password".into(),
        },
    );
    config.timeout = std::time::Duration::from_millis(300);
    let impatient = ServiceNowClient::new(config).unwrap();
    emu.slow_next(
        "GET /api/now/table/sc_req_item",
        std::time::Duration::from_millis(900),
    );
    let e = impatient
        .read_request(&TicketRef::new("RITM0010001"))
        .await
        .unwrap_err();
    assert!(
        e.class.is_transient() && e.message.contains("timed out"),
        "{e}"
    );
    emu.fail_next("GET /api/now/table/sc_req_item", 503, None);
    assert!(
        snow.read_request(&TicketRef::new("RITM0010001"))
            .await
            .unwrap_err()
            .class
            .is_transient()
    );
    assert!(
        snow.read_request(&TicketRef::new("RITM0010001"))
            .await
            .is_ok()
    );
}

/// A client whose approval records are created by the instance's own flow.
fn flow_client(emu: &SnowEmulator) -> Arc<ServiceNowClient> {
    let o = emu.options();
    let mut config = ServiceNowConfig::for_loopback_emulator(
        emu.instance_url(),
        Auth::Basic {
            user: o.user.clone(),
            password: "emulator-password".into(),
        },
    );
    config.approvals = ApprovalMode::ReadFlowCreated;
    Arc::new(ServiceNowClient::new(config).unwrap())
}

/// The instance's flow asks `approver` on RITM0010001, who approves at `at`.
fn flow_asks_and_approves(emu: &SnowEmulator, approver: &str, at: DateTime<Utc>) {
    emu.flow_requests_approval("RITM0010001", &[approver]);
    emu.act_at("RITM0010001", approver, "approved", at);
}

#[tokio::test]
async fn flow_created_approvals_are_read_and_survive_a_restart() {
    let clock = clock();
    let emu = emulator(SnowEmulatorOptions::default(), &clock).await;
    let snow = flow_client(&emu);
    let policy = CompiledPolicy::from_yaml_str(EXAMPLE_POLICY, "examples/policy.yaml").unwrap();
    let world = World::with_ticketing(
        policy.clone(),
        directory(),
        clock.clone(),
        4,
        snow.clone(),
        snow,
    );
    let ticket = TicketRef::new("RITM0010001");
    let wf = world.engine.intake(&ticket).await.unwrap();
    assert!(matches!(wf.phase, Phase::AwaitingApproval { stage: 0, .. }));
    // groupgate created no approval record: the flow does.
    assert!(emu.approvals("RITM0010001").is_empty());
    let ritm_id = emu.ritm("RITM0010001").unwrap()["sys_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let notes = emu.journal(&ritm_id, "work_notes").join("\n");
    assert!(
        notes.contains("Approval stage `manager` requested"),
        "{notes}"
    );

    // The flow asks the manager, who approves a minute later.
    flow_asks_and_approves(
        &emu,
        "grace.hopper@contoso.com",
        world.now() + TimeDelta::minutes(1),
    );
    clock.advance(TimeDelta::minutes(2));
    let wf = world.engine.collect_answers(&wf.id).await.unwrap();
    assert!(
        matches!(wf.phase, Phase::AwaitingApproval { stage: 1, .. }),
        "{:?}",
        wf.phase
    );
    let notes = emu.journal(&ritm_id, "work_notes").join("\n");
    assert!(
        notes.contains("Approval stage `data-owner` requested"),
        "{notes}"
    );

    // The engine restarts: a new client (nothing in memory) over the same trail.
    clock.advance(TimeDelta::minutes(5));
    let restarted = flow_client(&emu);
    // Answers are matched to the stage asked before them, from the RITM's notes.
    let answers = groupgate_core::ports::ApprovalChannel::answers(&*restarted, &ticket)
        .await
        .unwrap();
    assert_eq!(answers.len(), 1);
    assert_eq!(&*answers[0].stage, "manager");
    assert_eq!(&*answers[0].approver, "grace.hopper@contoso.com");
    let engine = groupgate_engine::Engine::new(
        policy,
        groupgate_engine::Ports {
            identity: world.directory.clone(),
            tickets: restarted.clone(),
            approvals: restarted,
            store: world.store.clone(),
            clock: Arc::new(clock.clone()),
        },
    )
    .with_seed(4);
    // The manager's earlier approval is not counted again for the data owner's
    // stage; the flow asks the data owner, who approves.
    let wf = engine.collect_answers(&wf.id).await.unwrap();
    assert!(
        matches!(wf.phase, Phase::AwaitingApproval { stage: 1, .. }),
        "{:?}",
        wf.phase
    );
    flow_asks_and_approves(
        &emu,
        "dora.data@contoso.com",
        world.now() + TimeDelta::minutes(1),
    );
    clock.advance(TimeDelta::minutes(2));
    let wf = engine.collect_answers(&wf.id).await.unwrap();
    assert!(matches!(wf.phase, Phase::Active { .. }), "{:?}", wf.phase);
    let notes = emu.journal(&ritm_id, "work_notes").join("\n");
    assert!(
        notes.contains("`dora.data@contoso.com` approved stage `data-owner` via servicenow"),
        "{notes}"
    );
    assert_eq!(emu.ritm("RITM0010001").unwrap()["state"], "3");
    assert!(engine.audit_trail().await.is_ok());
}

#[tokio::test]
async fn oauth_tokens_are_renewed_with_the_refresh_token_then_the_grant() {
    let clock = clock();
    // Tokens so short-lived that the client renews before every call.
    let options = SnowEmulatorOptions {
        token_lifetime_seconds: 1,
        ..SnowEmulatorOptions::default()
    };
    let emu = emulator(options, &clock).await;
    let snow = client(&emu, true, "emulator-password");
    let ticket = TicketRef::new("RITM0010001");
    snow.read_request(&ticket).await.unwrap();
    assert_eq!(
        emu.token_grants().first().map(String::as_str),
        Some("password")
    );
    snow.read_request(&ticket).await.unwrap();
    let grants = emu.token_grants();
    assert!(grants.len() >= 2, "{grants:?}");
    assert!(
        grants[1..].iter().all(|g| g == "refresh_token"),
        "the password is sent once: {grants:?}"
    );
    // Refresh tokens revoked: the next renewal falls back to the grant.
    emu.revoke_refresh_tokens();
    let before = emu.token_grants().len();
    snow.read_request(&ticket).await.unwrap();
    let grants = emu.token_grants();
    assert_eq!(
        grants[before..before + 2],
        ["refresh_token".to_owned(), "password".to_owned()],
        "{grants:?}"
    );
}
