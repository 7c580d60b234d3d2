//! Workflow integrity on the simulated world, tried the way an attacker or an
//! unlucky operator would: answers replayed from another ticket, a re-pointed
//! UPN, a manager who changed, a late answer, a user disabled between a
//! throttled attempt and its retry, one person counted twice, offboarding in
//! every phase, two callers at once, a changed setting, a broken workflow in
//! a pass, two failed closing effects, a crash right after the directory
//! accepted an add. Each checks the memberships, every ticket note and state,
//! and the audit trail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use chrono::{DateTime, TimeDelta, Utc};
use groupgate_core::audit::{AuditRecord, Entry, verify_jsonl};
use groupgate_core::ports::{NoticeKind, PortError, Store, TicketState, WorkflowFilter};
use groupgate_core::workflow::{ApprovalAnswer, Event, Phase, Verdict, Wake, WorkflowSettings};
use groupgate_core::{Request, WorkflowId};
use groupgate_engine::{Engine, Ports};
use groupgate_sim::World;
use std::sync::Arc;

const ADA: &str = "ada.lovelace@contoso.com";
const ADA_ID: &str = "11111111-0000-0000-0000-00000000000a";
const GRACE: &str = "grace.hopper@contoso.com";
const CARL: &str = "carl.contractor@contoso.com";
const CARL_ID: &str = "11111111-0000-0000-0000-00000000000c";
const PAT: &str = "pat.lead@contoso.com";
const MIA: &str = "mia.manager@contoso.com";
const DORA: &str = "dora.data@contoso.com";
const SAM: &str = "sam.sec@contoso.com";
const SAM_ID: &str = "11111111-0000-0000-0000-000000000013";
const SOL: &str = "sol.sec@contoso.com";
const FINANCE: &str = "aaaaaaaa-0000-0000-0000-000000000001";
const TEAM_ALPHA: &str = "aaaaaaaa-0000-0000-0000-000000000002";
const HR_PORTAL: &str = "aaaaaaaa-0000-0000-0000-000000000003";
const AP_CLERKS: &str = "aaaaaaaa-0000-0000-0000-000000000004";

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn request(ticket: &str, requester: &str, target: &str, resource: &str) -> Request {
    serde_json::from_value(serde_json::json!({
        "ticket": ticket, "requester": requester, "target": target, "resource": resource,
        "justification": "integrity"
    }))
    .unwrap()
}

fn contractor(ticket: &str, target: &str) -> Request {
    let mut r = request(ticket, PAT, target, "Add contractor to Team Alpha");
    r.end_date = Some(at("2027-01-31T17:00:00Z").into());
    r
}

fn notes(world: &World, ticket: &str) -> Vec<String> {
    world.tickets.ticket(ticket).unwrap().notes
}

fn joined(world: &World, ticket: &str) -> String {
    notes(world, ticket).join("\n")
}

fn state(world: &World, ticket: &str) -> Option<TicketState> {
    world.tickets.ticket(ticket).unwrap().state
}

/// Every note appears once.
fn notes_once(world: &World, ticket: &str) {
    let all = notes(world, ticket);
    for (i, n) in all.iter().enumerate() {
        assert!(
            !all[..i].contains(n),
            "note twice on {ticket}: {n}\n{all:#?}"
        );
    }
}

async fn trail(world: &World) -> Vec<AuditRecord> {
    let text = world.audit_jsonl().await.unwrap();
    verify_jsonl(&text).unwrap();
    world.engine.audit_trail().await.unwrap()
}

/// The reasons refused answers were refused for, from the trail's notes.
async fn refused_answers(world: &World, ticket: &str) -> usize {
    trail(world)
        .await
        .iter()
        .filter(|r| r.workflow.as_str() == ticket)
        .filter(|r| matches!(&r.entry, Entry::Applied { event, .. } if matches!(**event, Event::Answered { .. })))
        .count()
        - world.workflow(ticket).await.unwrap().approvals.len()
}

fn answer_of(world: &World, ticket: &str, binding: &str, stage: &str, who: &str) -> ApprovalAnswer {
    let _ = ticket;
    ApprovalAnswer {
        stage: stage.into(),
        approver: who.into(),
        approver_id: None,
        verdict: Verdict::Approve,
        comment: None,
        channel: "teams".into(),
        at: world.now(),
        binding: binding.to_owned(),
    }
}

fn restarted(world: &World, settings: WorkflowSettings) -> Engine {
    let ports = Ports {
        identity: world.directory.clone(),
        tickets: world.tickets.clone(),
        approvals: world.approvals.clone(),
        store: world.store.clone(),
        clock: Arc::new(world.clock.clone()),
    };
    Engine::new((*world.engine.policy()).clone(), ports)
        .with_seed(11)
        .with_settings(settings)
}

#[tokio::test]
async fn an_answer_replayed_from_another_ticket_is_refused() {
    let world = World::example().unwrap();
    // Two tickets for the same person and group.
    world
        .submit(request("RITM1", ADA, ADA, "Finance BI"))
        .await
        .unwrap();
    world
        .submit(request("RITM2", ADA, ADA, "Finance BI"))
        .await
        .unwrap();
    let one = world.workflow("RITM1").await.unwrap();
    let two = world.workflow("RITM2").await.unwrap();
    assert_ne!(one.bindings[0], two.bindings[0], "bound to the ticket");
    // Grace's answer on RITM1 replayed onto RITM2.
    world.approvals.push_answer(
        "RITM2",
        answer_of(&world, "RITM1", &one.bindings[0], "manager", GRACE),
    );
    let wf = world.engine.collect_answers(&"RITM2".into()).await.unwrap();
    assert_eq!(
        wf.phase,
        Phase::AwaitingApproval {
            stage: 0,
            escalated: false
        }
    );
    assert!(wf.approvals.is_empty());
    assert!(joined(&world, "RITM2").contains("refused an answer from `grace.hopper@contoso.com` via teams: it approves something else"), "{}", joined(&world, "RITM2"));
    assert_eq!(refused_answers(&world, "RITM2").await, 1);
    assert!(world.directory.writes().is_empty());
    assert_eq!(state(&world, "RITM2"), Some(TicketState::ApprovalRequired));
}

#[tokio::test]
async fn a_re_pointed_upn_is_refused_and_nobody_is_added() {
    let world = World::example().unwrap();
    world
        .submit(request("RITM1", PAT, ADA, "HR Portal"))
        .await
        .unwrap();
    world
        .answer("RITM1", GRACE, Verdict::Approve, "teams")
        .await
        .unwrap();
    // Between the approvals and the re-check, Ada's UPN is given to another account.
    let wf = world.workflow("RITM1").await.unwrap();
    assert_eq!(wf.target.as_deref(), Some(ADA_ID));
    world
        .directory
        .repoint(ADA, "99999999-0000-0000-0000-000000000001");
    let wf = world
        .answer("RITM1", "hanna.hr@contoso.com", Verdict::Approve, "teams")
        .await
        .unwrap();
    assert_eq!(wf.phase, Phase::ManualIntervention);
    assert!(
        world.directory.writes().is_empty(),
        "{:?}",
        world.directory.writes()
    );
    assert!(
        !world
            .directory
            .is_direct_member(HR_PORTAL, "99999999-0000-0000-0000-000000000001")
    );
    assert_eq!(
        state(&world, "RITM1"),
        Some(TicketState::ManualIntervention)
    );
    assert!(
        joined(&world, "RITM1").contains("now resolves to another directory object"),
        "{}",
        joined(&world, "RITM1")
    );
    assert_eq!(
        world.approvals.notices().last().unwrap().kind,
        NoticeKind::Failure
    );
    notes_once(&world, "RITM1");
    trail(&world).await;
}

#[tokio::test]
async fn a_manager_who_changed_meanwhile_is_asked_again() {
    let world = World::example().unwrap();
    world.clock.set(at("2026-11-27T18:30:00Z")); // Friday evening: the window is closed
    world
        .submit(request("RITM1", ADA, ADA, "Finance BI"))
        .await
        .unwrap();
    world
        .answer("RITM1", GRACE, Verdict::Approve, "teams")
        .await
        .unwrap();
    let wf = world
        .answer("RITM1", DORA, Verdict::Approve, "teams")
        .await
        .unwrap();
    assert!(matches!(wf.phase, Phase::Scheduled { .. }));
    world.directory.set_manager(ADA, Some(MIA));
    world.run_until(at("2026-11-30T07:00:00Z")).await.unwrap();
    let wf = world.workflow("RITM1").await.unwrap();
    assert_eq!(
        wf.phase,
        Phase::AwaitingApproval {
            stage: 0,
            escalated: false
        },
        "the new manager is asked"
    );
    let ask = world.approvals.asks().last().unwrap().clone();
    assert_eq!(&*ask.approvers[0].name, MIA);
    assert!(joined(&world, "RITM1").contains(
        "the approval by `grace.hopper@contoso.com` at stage `manager` no longer counts"
    ));
    assert_eq!(state(&world, "RITM1"), Some(TicketState::ApprovalRequired));
    assert!(world.directory.writes().is_empty());
    // Grace again does not count; Mia's approval does, and the data owner's still stands.
    world
        .answer("RITM1", GRACE, Verdict::Approve, "teams")
        .await
        .unwrap();
    assert!(joined(&world, "RITM1").contains("not an eligible approver"));
    let wf = world
        .answer("RITM1", MIA, Verdict::Approve, "teams")
        .await
        .unwrap();
    assert!(matches!(wf.phase, Phase::Active { .. }), "{:?}", wf.phase);
    assert!(world.directory.is_direct_member(FINANCE, ADA_ID));
    assert_eq!(state(&world, "RITM1"), Some(TicketState::ClosedComplete));
    notes_once(&world, "RITM1");
    trail(&world).await;
}

#[tokio::test]
async fn an_answer_given_after_the_deadline_never_counts() {
    let world = World::example().unwrap();
    world.submit(contractor("RITM1", CARL)).await.unwrap();
    let wf = world.workflow("RITM1").await.unwrap();
    let deadline = wf.approval_deadline.unwrap();
    // The answer is dated after the deadline; its timer has not fired yet.
    let mut late = answer_of(&world, "RITM1", &wf.bindings[0], "manager", MIA);
    late.at = deadline + TimeDelta::minutes(1);
    world.approvals.push_answer("RITM1", late);
    let wf = world.engine.collect_answers(&"RITM1".into()).await.unwrap();
    assert_eq!(
        wf.phase,
        Phase::AwaitingApproval {
            stage: 0,
            escalated: false
        }
    );
    assert!(joined(&world, "RITM1").contains("given after the approval deadline"));
    assert!(world.directory.writes().is_empty());
    world
        .run_until(deadline + TimeDelta::hours(1))
        .await
        .unwrap();
    assert_eq!(
        world.workflow("RITM1").await.unwrap().phase,
        Phase::ApprovalExpired
    );
    assert_eq!(state(&world, "RITM1"), Some(TicketState::ClosedIncomplete));
    assert!(!world.directory.is_direct_member(TEAM_ALPHA, CARL_ID));
    notes_once(&world, "RITM1");
    trail(&world).await;
}

#[tokio::test]
async fn a_user_disabled_between_a_throttled_add_and_its_retry_is_not_added() {
    let world = World::example().unwrap();
    world.directory.faults().fail_next(
        "add_member",
        PortError::transient("429 TooManyRequests", Some(30)),
    );
    world.submit(contractor("RITM1", CARL)).await.unwrap();
    let wf = world
        .answer("RITM1", MIA, Verdict::Approve, "teams")
        .await
        .unwrap();
    assert!(
        matches!(wf.phase, Phase::AwaitingRetry { .. }),
        "{:?}",
        wf.phase
    );
    world.directory.set_enabled(CARL, false);
    world
        .run_until(world.now() + TimeDelta::minutes(10))
        .await
        .unwrap();
    let wf = world.workflow("RITM1").await.unwrap();
    // The throttled attempt changed nothing; the re-check denies the retry;
    // the removal of anything the attempt may have added is verified.
    assert_eq!(wf.phase, Phase::RolledBack, "{:?}", wf.phase);
    assert!(!world.directory.is_direct_member(TEAM_ALPHA, CARL_ID));
    assert!(
        !world
            .directory
            .writes()
            .iter()
            .any(|w| w.starts_with("add")),
        "{:?}",
        world.directory.writes()
    );
    let text = joined(&world, "RITM1");
    assert!(text.contains("TARGET_DISABLED"), "{text}");
    assert_eq!(
        state(&world, "RITM1"),
        Some(TicketState::ManualIntervention)
    );
    let evaluations = trail(&world)
        .await
        .iter()
        .filter(|r| matches!(&r.entry, Entry::Applied { event, .. } if matches!(**event, Event::Rechecked { .. })))
        .count();
    assert_eq!(evaluations, 2, "one re-check before each attempt");
    notes_once(&world, "RITM1");
}

#[tokio::test]
async fn one_person_named_twice_counts_once() {
    let world = World::example().unwrap();
    world
        .submit(request("RITM1", PAT, ADA, "AP Approvers"))
        .await
        .unwrap();
    world
        .answer("RITM1", GRACE, Verdict::Approve, "teams")
        .await
        .unwrap();
    // Sam approves by UPN in Teams, then by object id in Slack.
    world
        .answer("RITM1", SAM, Verdict::Approve, "teams")
        .await
        .unwrap();
    let wf = world
        .answer("RITM1", SAM_ID, Verdict::Approve, "slack")
        .await
        .unwrap();
    assert_eq!(
        wf.phase,
        Phase::AwaitingApproval {
            stage: 1,
            escalated: false
        },
        "2 of 2 needs two people"
    );
    assert!(joined(&world, "RITM1").contains("they already approved this stage"));
    assert_eq!(
        wf.approvals
            .iter()
            .filter(|a| &*a.stage == "security")
            .count(),
        1
    );
    let wf = world
        .answer("RITM1", SOL, Verdict::Approve, "teams")
        .await
        .unwrap();
    assert_eq!(
        wf.phase,
        Phase::AwaitingApproval {
            stage: 2,
            escalated: false
        }
    );
    assert!(world.directory.writes().is_empty());
    notes_once(&world, "RITM1");
    trail(&world).await;
}

#[tokio::test]
async fn offboarding_by_upn_ends_every_workflow_in_every_phase_and_reports_drift() {
    let world = World::example().unwrap();
    // Made by object id; offboarded by UPN.
    world.submit(contractor("RITM1", CARL_ID)).await.unwrap();
    world
        .answer("RITM1", MIA, Verdict::Approve, "teams")
        .await
        .unwrap();
    assert!(world.directory.is_direct_member(TEAM_ALPHA, CARL_ID));
    // Verifying (replication lag): the add landed but is not visible yet.
    world.directory.set_replication_lag(TimeDelta::minutes(30));
    let mut hr = request("RITM2", ADA, CARL, "HR Portal");
    hr.end_date = Some(at("2027-01-15T00:00:00Z").into());
    world.submit(hr).await.unwrap();
    world
        .answer("RITM2", MIA, Verdict::Approve, "teams")
        .await
        .unwrap();
    let wf = world
        .answer("RITM2", "hanna.hr@contoso.com", Verdict::Approve, "teams")
        .await
        .unwrap();
    assert!(
        matches!(wf.phase, Phase::Verifying { .. }),
        "{:?}",
        wf.phase
    );
    world.directory.set_replication_lag(TimeDelta::zero());
    // A throttled retry: the add waits.
    world
        .directory
        .faults()
        .fail_next("add_member", PortError::transient("429", Some(600)));
    let mut clerks = request("RITM3", GRACE, CARL, "AP Clerks");
    clerks.end_date = Some(at("2027-01-15T00:00:00Z").into());
    world.submit(clerks).await.unwrap();
    world
        .answer("RITM3", MIA, Verdict::Approve, "teams")
        .await
        .unwrap();
    let wf = world
        .answer("RITM3", DORA, Verdict::Approve, "teams")
        .await
        .unwrap();
    assert!(
        matches!(wf.phase, Phase::AwaitingRetry { .. }),
        "{:?}",
        wf.phase
    );
    // Waiting for approvals.
    let mut finance = request("RITM4", ADA, CARL, "Finance BI");
    finance.end_date = Some(at("2027-01-15T00:00:00Z").into());
    world.submit(finance).await.unwrap();
    // And one membership added by hand, outside groupgate.
    world.directory.add_by_hand(FINANCE, CARL);

    let report = world.engine.offboard(CARL, "hr-offboarding").await.unwrap();
    assert_eq!(report.user.as_deref(), Some(CARL_ID));
    let removed: Vec<&str> = report
        .removed
        .iter()
        .filter_map(|r| r.workflow.as_deref())
        .collect();
    assert_eq!(removed, ["RITM1", "RITM2", "RITM3"], "{report:?}");
    assert_eq!(report.cancelled, [WorkflowId::new("RITM4")]);
    assert_eq!(report.drift.len(), 1, "{report:?}");
    assert_eq!(report.drift[0].group.as_str(), FINANCE);
    assert!(report.is_complete(), "{report:?}");

    world
        .run_until(world.now() + TimeDelta::hours(2))
        .await
        .unwrap();
    for (t, phase) in [
        ("RITM1", Phase::Removed),
        ("RITM2", Phase::Removed),
        ("RITM3", Phase::Removed),
        ("RITM4", Phase::Cancelled),
    ] {
        assert_eq!(world.workflow(t).await.unwrap().phase, phase, "{t}");
        notes_once(&world, t);
    }
    for g in [FINANCE, TEAM_ALPHA, HR_PORTAL, AP_CLERKS] {
        assert!(!world.directory.is_direct_member(g, CARL_ID), "{g}");
    }
    assert!(joined(&world, "RITM4").contains("cancelled: the target was offboarded"));
    assert_eq!(state(&world, "RITM4"), Some(TicketState::ClosedIncomplete));
    assert!(
        world
            .approvals
            .asks()
            .iter()
            .any(|a| a.ticket.as_str() == "RITM4")
    );
    // The throttled add is never retried after the offboarding.
    let adds_of_ap = world
        .directory
        .writes()
        .iter()
        .filter(|w| w.starts_with(&format!("add {AP_CLERKS}")))
        .count();
    assert_eq!(adds_of_ap, 0, "{:?}", world.directory.writes());
    let records = trail(&world).await;
    let drift: Vec<_> = records
        .iter()
        .filter(|r| matches!(&r.entry, Entry::Drift { action, .. } if action == "removed"))
        .collect();
    assert_eq!(drift.len(), 1);
    assert_eq!(drift[0].workflow.as_str(), format!("offboarding/{CARL_ID}"));
}

#[tokio::test]
async fn offboarding_during_an_add_in_flight_removes_it_once_the_add_settles() {
    let world = World::example().unwrap();
    world.submit(contractor("RITM1", CARL)).await.unwrap();
    // The process dies right after the directory accepted the add: the
    // intent is committed, the outcome is not.
    world.store.fail_commit_when(|c| {
        let added = c.records.iter().any(|r| matches!(&r.entry, Entry::Applied { event, .. } if matches!(**event, Event::MemberAdded { .. })));
        added.then(|| PortError::permanent("disk full"))
    });
    let err = world
        .answer("RITM1", MIA, Verdict::Approve, "teams")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("disk full"), "{err}");
    assert!(
        world.directory.is_direct_member(TEAM_ALPHA, CARL_ID),
        "the add landed"
    );
    let wf = world.workflow("RITM1").await.unwrap();
    assert_eq!(wf.phase, Phase::Executing);
    assert!(wf.in_flight().next().is_some());
    // A restarted engine offboards: the interrupted add is resolved first.
    let engine = restarted(&world, WorkflowSettings::default());
    let report = engine.offboard(CARL, "hr").await.unwrap();
    assert!(report.is_complete(), "{report:?}");
    engine.pass().await.unwrap();
    world
        .run_until(world.now() + TimeDelta::hours(1))
        .await
        .unwrap();
    assert_eq!(
        engine.workflow(&"RITM1".into()).await.unwrap().phase,
        Phase::Removed
    );
    assert!(!world.directory.is_direct_member(TEAM_ALPHA, CARL_ID));
    notes_once(&world, "RITM1");
    trail(&world).await;
}

#[tokio::test]
async fn a_crash_right_after_the_add_is_resumed_with_its_expiry() {
    let world = World::example().unwrap();
    world.submit(contractor("RITM1", CARL)).await.unwrap();
    world.store.fail_commit_when(|c| {
        let added = c.records.iter().any(|r| matches!(&r.entry, Entry::Applied { event, .. } if matches!(**event, Event::MemberAdded { .. })));
        added.then(|| PortError::permanent("killed"))
    });
    assert!(
        world
            .answer("RITM1", MIA, Verdict::Approve, "teams")
            .await
            .is_err()
    );
    // The watchdog is in the store's timers: nothing waits forever.
    let timers = world
        .store
        .due_timers(world.now() + TimeDelta::hours(1), 10)
        .await
        .unwrap();
    assert!(
        timers.iter().any(|t| t.purpose == Wake::Watchdog),
        "{timers:?}"
    );
    let engine = restarted(&world, WorkflowSettings::default());
    let report = engine.recover().await.unwrap();
    assert_eq!(report.stepped, [WorkflowId::new("RITM1")]);
    let wf = engine.workflow(&"RITM1".into()).await.unwrap();
    assert_eq!(
        wf.phase,
        Phase::Active {
            expires_at: at("2027-01-31T17:00:00Z")
        }
    );
    let expiry = world.store.next_timer().await.unwrap().unwrap();
    assert_eq!(expiry.purpose, Wake::Expiry);
    assert_eq!(
        world
            .directory
            .writes()
            .iter()
            .filter(|w| w.starts_with("add"))
            .count(),
        1,
        "added once"
    );
    world.clock.set(at("2027-02-01T00:00:00Z"));
    engine.run_due_timers().await.unwrap();
    assert_eq!(
        engine.workflow(&"RITM1".into()).await.unwrap().phase,
        Phase::Removed
    );
    assert!(!world.directory.is_direct_member(TEAM_ALPHA, CARL_ID));
    notes_once(&world, "RITM1");
    let text = joined(&world, "RITM1");
    assert!(
        text.contains("executed at") && text.contains("access expired"),
        "{text}"
    );
    trail(&world).await;
}

#[tokio::test]
async fn two_concurrent_submits_yield_one_workflow() {
    let world = World::example().unwrap();
    let r = contractor("RITM1", CARL);
    world.tickets.open(r.clone());
    let (a, b) = tokio::join!(
        world.engine.submit(r.clone()),
        world.engine.submit(r.clone())
    );
    assert_eq!(a.unwrap().id, b.unwrap().id);
    // Two engines over one store (two processes): still one workflow.
    let other = restarted(&world, WorkflowSettings::default());
    let r2 = contractor("RITM2", CARL);
    world.tickets.open(r2.clone());
    let (a, b) = tokio::join!(world.engine.submit(r2.clone()), other.submit(r2.clone()));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.id, b.id);
    let records = trail(&world).await;
    for t in ["RITM1", "RITM2"] {
        let starts = records
            .iter()
            .filter(|r| r.workflow.as_str() == t && matches!(r.entry, Entry::Started { .. }))
            .count();
        assert_eq!(starts, 1, "{t}");
        world.engine.workflow(&t.into()).await.unwrap();
        notes_once(&world, t);
        assert_eq!(
            world
                .approvals
                .asks()
                .iter()
                .filter(|a| a.ticket.as_str() == t)
                .count(),
            1,
            "{t} asked once"
        );
    }
}

#[tokio::test]
async fn a_changed_setting_leaves_old_workflows_readable() {
    let world = World::example().unwrap();
    let old = WorkflowSettings {
        verify_timeout_seconds: 60,
        ..WorkflowSettings::default()
    };
    let engine = restarted(&world, old);
    world.directory.never_visible(TEAM_ALPHA);
    world.tickets.open(contractor("RITM1", CARL));
    engine.intake(&"RITM1".into()).await.unwrap();
    world
        .approvals
        .answer("RITM1", MIA, Verdict::Approve, "teams");
    engine.collect_answers(&"RITM1".into()).await.unwrap();
    // A new engine with other settings reads and drives the old workflow
    // under the settings it started with (60 s, not 300 s, to give up).
    let mut new = WorkflowSettings {
        verify_timeout_seconds: 3600,
        ..WorkflowSettings::default()
    };
    new.retry.max_attempts = 2;
    let newer = restarted(&world, new);
    let wf = newer.workflow(&"RITM1".into()).await.unwrap();
    assert_eq!(wf.settings, old);
    world.clock.advance(TimeDelta::seconds(61));
    for _ in 0..20 {
        newer.run_due_timers().await.unwrap();
        if let Some(t) = newer.next_timer().await.unwrap() {
            world.clock.set(t.at);
        }
    }
    let wf = newer.workflow(&"RITM1".into()).await.unwrap();
    assert_eq!(
        wf.phase,
        Phase::RolledBack,
        "rolled back after the old 60 s"
    );
    assert!(!world.directory.is_direct_member(TEAM_ALPHA, CARL_ID));
    notes_once(&world, "RITM1");
    trail(&world).await;
}

#[tokio::test]
async fn a_broken_workflow_does_not_stop_a_pass() {
    let world = World::example().unwrap();
    world
        .submit(request("RITM1", ADA, ADA, "Finance BI"))
        .await
        .unwrap();
    world.submit(contractor("RITM2", CARL)).await.unwrap();
    // RITM1's records are damaged: a record that does not replay.
    let bogus = AuditRecord::seal(
        world.store.head().await.unwrap().as_ref(),
        world.now(),
        "RITM1".into(),
        groupgate_core::audit::Actor::System,
        Entry::Applied {
            event: Box::new(Event::MemberAdded {
                key: "nope".into(),
                receipt: Default::default(),
            }),
            phase: "active".into(),
        },
    );
    world.store.force_append(bogus);
    world
        .approvals
        .answer("RITM2", MIA, Verdict::Approve, "teams");
    world
        .approvals
        .answer("RITM1", GRACE, Verdict::Approve, "teams");
    let engine = restarted(&world, WorkflowSettings::default());
    let report = engine.collect_all_answers().await.unwrap();
    assert_eq!(report.failures.len(), 1, "{report:?}");
    assert_eq!(report.failures[0].workflow.as_str(), "RITM1");
    assert!(
        report.failures[0].error.contains("cannot be rebuilt"),
        "{report:?}"
    );
    let wf = engine.workflow(&"RITM2".into()).await.unwrap();
    assert!(
        matches!(wf.phase, Phase::Active { .. }),
        "the other workflow went on"
    );
    assert!(world.directory.is_direct_member(TEAM_ALPHA, CARL_ID));
    // Recorded once, in the trail, and the due-timer pass skips it too.
    engine.collect_all_answers().await.unwrap();
    world.clock.advance(TimeDelta::days(10));
    let pass = engine.run_due_timers().await.unwrap();
    assert!(pass.failures.len() <= 1, "{pass:?}");
    let records = engine.audit_trail().await.unwrap();
    let incidents = records
        .iter()
        .filter(|r| matches!(r.entry, Entry::Incident { .. }))
        .count();
    assert!((1..=2).contains(&incidents), "{incidents}");
    notes_once(&world, "RITM2");
}

#[tokio::test]
async fn two_failed_closing_effects_are_both_retried() {
    let world = World::example().unwrap();
    world.submit(contractor("RITM1", CARL)).await.unwrap();
    world
        .tickets
        .faults()
        .fail_next("update", PortError::transient("429", Some(20)));
    world
        .approvals
        .faults()
        .fail_next("notify", PortError::transient("503", Some(40)));
    // The first ticket update after the answer is the approval note; fail
    // the closing one instead.
    world
        .approvals
        .answer("RITM1", MIA, Verdict::Approve, "teams");
    let wf = world.engine.collect_answers(&"RITM1".into()).await.unwrap();
    assert!(matches!(wf.phase, Phase::Active { .. }));
    let failing: Vec<_> = wf.outbox.iter().filter(|p| p.retry_at.is_some()).collect();
    assert_eq!(failing.len(), 2, "{:?}", wf.outbox);
    world
        .run_until(world.now() + TimeDelta::minutes(5))
        .await
        .unwrap();
    let wf = world.workflow("RITM1").await.unwrap();
    assert!(wf.outbox.is_empty(), "{:?}", wf.outbox);
    let text = joined(&world, "RITM1");
    assert!(
        text.contains("approved by `mia.manager@contoso.com`") && text.contains("executed at"),
        "{text}"
    );
    assert_eq!(state(&world, "RITM1"), Some(TicketState::ClosedComplete));
    assert_eq!(world.approvals.notices().len(), 1);
    assert_eq!(world.approvals.notices()[0].kind, NoticeKind::Success);
    notes_once(&world, "RITM1");
    let records = trail(&world).await;
    let failures = records.iter().filter(|r| matches!(&r.entry, Entry::Applied { event, .. } if matches!(**event, Event::EffectFailed { .. }))).count();
    assert_eq!(failures, 2);
    let summaries = world
        .engine
        .summaries(&WorkflowFilter {
            open: Some(true),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        summaries
            .iter()
            .all(|s| s.id.as_str() != "RITM1" || s.phase == "active")
    );
}

#[tokio::test]
async fn the_closing_note_anchors_the_trail() {
    let world = World::example().unwrap();
    world.submit(contractor("RITM1", CARL)).await.unwrap();
    world
        .answer("RITM1", MIA, Verdict::Approve, "teams")
        .await
        .unwrap();
    let text = joined(&world, "RITM1");
    let marker = text
        .lines()
        .find(|l| l.starts_with("[groupgate audit anchor seq="))
        .expect("an anchor");
    let anchor: groupgate_core::audit::Anchor = marker
        .trim_start_matches("[groupgate audit anchor ")
        .trim_end_matches(']')
        .parse()
        .unwrap();
    let records = trail(&world).await;
    assert_eq!(records[anchor.seq as usize].hash, anchor.hash);
    let options = groupgate_core::audit::VerifyOptions {
        anchors: vec![anchor.clone()],
        verifier: None,
    };
    let full = world.audit_jsonl().await.unwrap();
    groupgate_core::audit::verify_trail(&full, &options).unwrap();
    // Cut the trail at the anchor: detected.
    let cut: String = full
        .lines()
        .take(anchor.seq as usize)
        .map(|l| format!("{l}\n"))
        .collect();
    let err = groupgate_core::audit::verify_trail(&cut, &options).unwrap_err();
    assert!(err.to_string().contains("cut from its end"), "{err}");
}
