//! The engine on the simulated world: whole workflows, end to end.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use chrono::{DateTime, TimeDelta, Utc};
use groupgate_core::audit::{Entry, verify_jsonl};
use groupgate_core::ports::{ErrorClass, NoticeKind, PortError, TicketState};
use groupgate_core::workflow::{Event, Phase, Verdict};
use groupgate_core::{Request, WorkflowId};
use groupgate_sim::World;

const ADA: &str = "ada.lovelace@contoso.com";
const GRACE: &str = "grace.hopper@contoso.com";
const CARL: &str = "carl.contractor@contoso.com";
const PAT: &str = "pat.lead@contoso.com";
const MIA: &str = "mia.manager@contoso.com";
const DORA: &str = "dora.data@contoso.com";
const FINANCE: &str = "aaaaaaaa-0000-0000-0000-000000000001";
const TEAM_ALPHA: &str = "aaaaaaaa-0000-0000-0000-000000000002";
const ADA_ID: &str = "11111111-0000-0000-0000-00000000000a";
const CARL_ID: &str = "11111111-0000-0000-0000-00000000000c";

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn request(ticket: &str, requester: &str, target: &str, resource: &str) -> Request {
    serde_json::from_value(serde_json::json!({
        "ticket": ticket, "requester": requester, "target": target, "resource": resource,
        "justification": "scenario"
    }))
    .unwrap()
}

fn contractor(ticket: &str) -> Request {
    let mut r = request(ticket, PAT, CARL, "Add contractor to Team Alpha");
    r.end_date = Some(at("2027-01-31T17:00:00Z").into());
    r
}

fn notes(world: &World, ticket: &str) -> String {
    world.tickets.ticket(ticket).unwrap().notes.join("\n")
}

fn state(world: &World, ticket: &str) -> Option<TicketState> {
    world.tickets.ticket(ticket).unwrap().state
}

async fn verified_trail(world: &World) -> String {
    let text = world.audit_jsonl().await.unwrap();
    verify_jsonl(&text).unwrap();
    text
}

#[tokio::test]
async fn finance_bi_is_approved_by_manager_and_data_owner_then_executed_and_verified() {
    let world = World::example().unwrap();
    let wf = world
        .submit(request("RITM1", ADA, ADA, "Access to Finance BI"))
        .await
        .unwrap();
    assert_eq!(
        wf.phase,
        Phase::AwaitingApproval {
            stage: 0,
            escalated: false
        }
    );
    assert_eq!(state(&world, "RITM1"), Some(TicketState::ApprovalRequired));
    let asks = world.approvals.asks();
    assert_eq!(asks.len(), 1);
    assert_eq!(
        asks[0]
            .approvers
            .iter()
            .map(|a| &*a.name)
            .collect::<Vec<_>>(),
        [GRACE]
    );

    // Ada cannot approve her own access; refused, noted, nothing changes.
    let wf = world
        .answer("RITM1", ADA, Verdict::Approve, "teams")
        .await
        .unwrap();
    assert_eq!(
        wf.phase,
        Phase::AwaitingApproval {
            stage: 0,
            escalated: false
        }
    );
    assert!(notes(&world, "RITM1").contains("refused an answer from `ada.lovelace@contoso.com`"));

    world
        .answer("RITM1", GRACE, Verdict::Approve, "teams")
        .await
        .unwrap();
    assert_eq!(
        world
            .approvals
            .asks()
            .last()
            .unwrap()
            .approvers
            .iter()
            .map(|a| &*a.name)
            .collect::<Vec<_>>(),
        [DORA]
    );
    let wf = world
        .answer("RITM1", DORA, Verdict::Approve, "slack")
        .await
        .unwrap();
    assert!(matches!(wf.phase, Phase::Active { .. }), "{:?}", wf.phase);
    assert!(world.directory.is_direct_member(FINANCE, ADA_ID));
    assert_eq!(state(&world, "RITM1"), Some(TicketState::ClosedComplete));
    let n = notes(&world, "RITM1");
    assert!(
        n.contains(
            "approval record: `grace.hopper@contoso.com` approved stage `manager` via teams"
        ),
        "{n}"
    );
    assert!(
        n.contains(
            "approval record: `dora.data@contoso.com` approved stage `data-owner` via slack"
        ),
        "{n}"
    );
    assert!(n.contains("executed at 2026-11-25T10:00:00+00:00: added `11111111-0000-0000-0000-00000000000a` to `GRP-FINANCE-BI-READ`"), "{n}");
    assert!(n.contains("request ids: fake-req-"), "{n}");
    assert_eq!(
        world.approvals.notices().last().unwrap().kind,
        NoticeKind::Success
    );

    // The trail holds both evaluations (intake and re-check) with their inputs.
    let trail = world.engine.audit_trail().await.unwrap();
    let evaluations = trail
        .iter()
        .filter(|r| {
            matches!(&r.entry, Entry::Applied { event, .. }
                if matches!(**event, Event::Evaluated { .. } | Event::Rechecked { .. }))
        })
        .count();
    assert_eq!(evaluations, 2);
    verified_trail(&world).await;
}

#[tokio::test]
async fn contractor_access_ends_at_the_end_date() {
    let world = World::example().unwrap();
    world.submit(contractor("RITM2")).await.unwrap();
    let wf = world
        .answer("RITM2", MIA, Verdict::Approve, "servicenow")
        .await
        .unwrap();
    assert_eq!(
        wf.phase,
        Phase::Active {
            expires_at: at("2027-01-31T17:00:00Z")
        }
    );
    assert!(world.directory.is_direct_member(TEAM_ALPHA, CARL_ID));
    world.run_until(at("2027-02-01T00:00:00Z")).await.unwrap();
    let wf = world.workflow("RITM2").await.unwrap();
    assert_eq!(wf.phase, Phase::Removed);
    assert!(!world.directory.is_direct_member(TEAM_ALPHA, CARL_ID));
    assert!(notes(&world, "RITM2").contains("access expired"));
    assert_eq!(
        world.directory.writes().last().unwrap(),
        &format!("remove {TEAM_ALPHA} {CARL_ID}")
    );
    verified_trail(&world).await;
}

#[tokio::test]
async fn offboarding_removes_every_governed_membership_at_once() {
    let world = World::example().unwrap();
    world.submit(contractor("RITM3")).await.unwrap();
    world
        .answer("RITM3", MIA, Verdict::Approve, "teams")
        .await
        .unwrap();
    let mut hr = request("RITM4", ADA, CARL, "HR Portal");
    hr.end_date = Some(at("2027-01-15T00:00:00Z").into());
    world.submit(hr).await.unwrap();
    world
        .answer("RITM4", MIA, Verdict::Approve, "teams")
        .await
        .unwrap();
    world
        .answer("RITM4", "hanna.hr@contoso.com", Verdict::Approve, "teams")
        .await
        .unwrap();
    assert!(world.directory.is_direct_member(TEAM_ALPHA, CARL_ID));
    assert!(
        world
            .directory
            .is_direct_member("aaaaaaaa-0000-0000-0000-000000000003", CARL_ID)
    );
    world.clock.advance(TimeDelta::days(3));
    let ended = world.engine.offboard(CARL, "hr-offboarding").await.unwrap();
    assert_eq!(ended.removed.len(), 2, "{ended:?}");
    assert!(
        ended.drift.is_empty() && ended.failed.is_empty(),
        "{ended:?}"
    );
    for t in ["RITM3", "RITM4"] {
        assert_eq!(
            world.workflow(t).await.unwrap().phase,
            Phase::Removed,
            "{t}"
        );
        assert!(notes(&world, t).contains("offboarded"));
    }
    assert!(!world.directory.is_direct_member(TEAM_ALPHA, CARL_ID));
    verified_trail(&world).await;
}

#[tokio::test]
async fn a_role_assignable_group_is_denied_without_any_write() {
    let world = World::example().unwrap();
    let wf = world
        .submit(request("RITM5", GRACE, ADA, "Helpdesk Admin"))
        .await
        .unwrap();
    assert_eq!(wf.phase, Phase::Denied);
    assert_eq!(state(&world, "RITM5"), Some(TicketState::ClosedIncomplete));
    assert!(notes(&world, "RITM5").contains("GROUP_ROLE_ASSIGNABLE"));
    assert!(world.directory.writes().is_empty());
}

#[tokio::test]
async fn a_throttled_add_is_retried_after_retry_after() {
    let world = World::example().unwrap();
    world.directory.faults().fail_next(
        "add_member",
        PortError::transient("429 TooManyRequests", Some(7)),
    );
    world.submit(contractor("RITM6")).await.unwrap();
    let wf = world
        .answer("RITM6", MIA, Verdict::Approve, "teams")
        .await
        .unwrap();
    assert!(
        matches!(wf.phase, Phase::AwaitingRetry { .. }),
        "{:?}",
        wf.phase
    );
    let timer = world.engine.next_timer().await.unwrap().unwrap();
    assert_eq!(timer.purpose, groupgate_core::workflow::Wake::Retry);
    assert!(
        timer.at >= world.now() + TimeDelta::seconds(7),
        "Retry-After honoured"
    );
    world.step_to_next_timer(timer.at).await.unwrap();
    let wf = world.workflow("RITM6").await.unwrap();
    assert!(matches!(wf.phase, Phase::Active { .. }), "{:?}", wf.phase);
    assert!(world.directory.is_direct_member(TEAM_ALPHA, CARL_ID));
    // The failure and the retry are both in the trail.
    let trail = world.engine.audit_trail().await.unwrap();
    assert!(
        trail
            .iter()
            .any(|r| matches!(&r.entry, Entry::Applied { event, .. }
        if matches!(&**event, Event::EffectFailed { error, .. } if error.class.is_transient())))
    );
    verified_trail(&world).await;
}

#[tokio::test]
async fn a_membership_that_never_shows_is_rolled_back() {
    let world = World::example().unwrap();
    world.directory.never_visible(TEAM_ALPHA);
    world.submit(contractor("RITM7")).await.unwrap();
    world
        .answer("RITM7", MIA, Verdict::Approve, "teams")
        .await
        .unwrap();
    world
        .run_until(world.now() + TimeDelta::minutes(10))
        .await
        .unwrap();
    let wf = world.workflow("RITM7").await.unwrap();
    assert_eq!(wf.phase, Phase::RolledBack);
    assert!(!world.directory.is_direct_member(TEAM_ALPHA, CARL_ID));
    assert_eq!(
        state(&world, "RITM7"),
        Some(TicketState::ManualIntervention)
    );
    assert_eq!(
        world.approvals.notices().last().unwrap().kind,
        NoticeKind::Failure
    );
    assert_eq!(
        world.directory.writes(),
        [
            format!("add {TEAM_ALPHA} {CARL_ID}"),
            format!("remove {TEAM_ALPHA} {CARL_ID}")
        ]
    );
    verified_trail(&world).await;
}

#[tokio::test]
async fn a_rejection_ends_it_and_unanswered_approvals_escalate_then_expire() {
    let world = World::example().unwrap();
    world
        .submit(request("RITM8", ADA, ADA, "Finance BI"))
        .await
        .unwrap();
    let wf = world
        .answer("RITM8", GRACE, Verdict::Reject, "slack")
        .await
        .unwrap();
    assert_eq!(wf.phase, Phase::Rejected);
    assert_eq!(state(&world, "RITM8"), Some(TicketState::ClosedIncomplete));
    assert!(world.directory.writes().is_empty());

    world
        .submit(request("RITM9", ADA, ADA, "Finance BI"))
        .await
        .unwrap();
    world
        .run_until(world.now() + TimeDelta::days(3))
        .await
        .unwrap();
    let wf = world.workflow("RITM9").await.unwrap();
    assert_eq!(
        wf.phase,
        Phase::AwaitingApproval {
            stage: 0,
            escalated: true
        }
    );
    assert_eq!(
        world
            .approvals
            .asks()
            .last()
            .unwrap()
            .approvers
            .iter()
            .map(|a| &*a.name)
            .collect::<Vec<_>>(),
        ["lea.lead@contoso.com"]
    );
    world
        .run_until(world.now() + TimeDelta::days(5))
        .await
        .unwrap();
    assert_eq!(
        world.workflow("RITM9").await.unwrap().phase,
        Phase::ApprovalExpired
    );
    verified_trail(&world).await;
}

#[tokio::test]
async fn the_recheck_stops_a_change_when_the_user_was_disabled_meanwhile() {
    let world = World::example().unwrap();
    // Friday evening in Berlin: approved, then scheduled for Monday morning.
    world.clock.set(at("2026-11-27T18:30:00Z"));
    world
        .submit(request("RITM10", ADA, ADA, "Finance BI"))
        .await
        .unwrap();
    world
        .answer("RITM10", GRACE, Verdict::Approve, "teams")
        .await
        .unwrap();
    let wf = world
        .answer("RITM10", DORA, Verdict::Approve, "teams")
        .await
        .unwrap();
    assert_eq!(
        wf.phase,
        Phase::Scheduled {
            at: at("2026-11-30T06:00:00Z")
        }
    );
    world.directory.set_enabled(ADA, false);
    world.run_until(at("2026-11-30T07:00:00Z")).await.unwrap();
    let wf = world.workflow("RITM10").await.unwrap();
    assert_eq!(wf.phase, Phase::Denied);
    assert!(notes(&world, "RITM10").contains("TARGET_DISABLED"));
    assert!(world.directory.writes().is_empty());
}

#[tokio::test]
async fn an_answer_for_another_binding_and_stale_events_are_refused_and_audited() {
    let world = World::example().unwrap();
    world
        .submit(request("RITM11", ADA, ADA, "Finance BI"))
        .await
        .unwrap();
    let mut answer = groupgate_core::workflow::ApprovalAnswer {
        stage: "manager".into(),
        approver: GRACE.into(),
        approver_id: None,
        verdict: Verdict::Approve,
        comment: None,
        channel: "slack".into(),
        at: world.now(),
        binding: "sha256:something-else".into(),
    };
    world.approvals.push_answer("RITM11", answer.clone());
    let wf = world
        .engine
        .collect_answers(&WorkflowId::new("RITM11"))
        .await
        .unwrap();
    assert_eq!(
        wf.phase,
        Phase::AwaitingApproval {
            stage: 0,
            escalated: false
        }
    );
    assert!(notes(&world, "RITM11").contains("approves something else"));
    // Collecting again does not apply the same answer twice.
    world
        .engine
        .collect_answers(&WorkflowId::new("RITM11"))
        .await
        .unwrap();
    let trail = world.engine.audit_trail().await.unwrap();
    let applied = trail.iter().filter(|r| matches!(&r.entry, Entry::Applied { event, .. } if matches!(**event, Event::Answered { .. }))).count();
    assert_eq!(applied, 1);
    // An offboarding of someone without any governed access changes nothing.
    let report = world.engine.offboard(MIA, "hr").await.unwrap();
    assert!(report.removed.is_empty() && report.drift.is_empty() && report.cancelled.is_empty());
    answer.binding = world.workflow("RITM11").await.unwrap().bindings[0].clone();
    world.approvals.push_answer("RITM11", answer);
    let wf = world
        .engine
        .collect_answers(&WorkflowId::new("RITM11"))
        .await
        .unwrap();
    assert_eq!(
        wf.phase,
        Phase::AwaitingApproval {
            stage: 1,
            escalated: false
        }
    );
}

#[tokio::test]
async fn a_new_engine_over_the_same_store_carries_on() {
    let world = World::example().unwrap();
    world.submit(contractor("RITM12")).await.unwrap();
    // "Restart": a second engine over the same ports rebuilds the workflow from its records.
    let policy = (*world.engine.policy()).clone();
    let ports = groupgate_engine::Ports {
        identity: world.directory.clone(),
        tickets: world.tickets.clone(),
        approvals: world.approvals.clone(),
        store: world.store.clone(),
        clock: std::sync::Arc::new(world.clock.clone()),
    };
    let restarted = groupgate_engine::Engine::new(policy, ports).with_seed(1);
    world
        .approvals
        .answer("RITM12", MIA, Verdict::Approve, "teams");
    let wf = restarted
        .collect_answers(&WorkflowId::new("RITM12"))
        .await
        .unwrap();
    assert!(matches!(wf.phase, Phase::Active { .. }));
    // Submitting the same ticket again does not start a second workflow.
    let again = restarted.intake(&"RITM12".into()).await.unwrap();
    assert_eq!(again.phase, wf.phase);
    assert_eq!(world.directory.writes().len(), 1);
    verified_trail(&world).await;
}

#[tokio::test]
async fn a_tampered_trail_fails_verification() {
    let world = World::example().unwrap();
    world
        .submit(request("RITM13", ADA, ADA, "Finance BI"))
        .await
        .unwrap();
    let text = verified_trail(&world).await;
    let lines: Vec<&str> = text.lines().collect();
    // Edit.
    let edited = text.replacen("ada.lovelace@contoso.com", "eve.former@contoso.com", 1);
    assert!(verify_jsonl(&edited).is_err());
    // Delete.
    let deleted: String = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 2)
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    assert!(verify_jsonl(&deleted).is_err());
    // Reorder.
    let mut swapped = lines.clone();
    swapped.swap(1, 2);
    assert!(verify_jsonl(&(swapped.join("\n") + "\n")).is_err());
    // Insert (a copy of a record).
    let mut inserted = lines.clone();
    inserted.insert(3, lines[1]);
    assert!(verify_jsonl(&(inserted.join("\n") + "\n")).is_err());
}

#[tokio::test]
async fn a_ticket_that_cannot_be_read_is_an_intake_error() {
    let world = World::example().unwrap();
    let err = world.engine.intake(&"RITM404".into()).await.unwrap_err();
    assert!(
        err.to_string().contains("cannot read ticket `RITM404`"),
        "{err}"
    );
    let _ = ErrorClass::NotFound;
}

#[tokio::test]
async fn answers_fed_directly_count_once_and_refusals_say_why() {
    let world = World::example().unwrap();
    world
        .submit(request("RITM31", ADA, ADA, "Finance BI"))
        .await
        .unwrap();
    let id = WorkflowId::new("RITM31");
    let binding = world.workflow("RITM31").await.unwrap().bindings[0].clone();
    let answer = |who: &str, at: DateTime<Utc>| groupgate_core::workflow::ApprovalAnswer {
        stage: "manager".into(),
        approver: who.into(),
        approver_id: None,
        verdict: Verdict::Approve,
        comment: Some("ok".into()),
        channel: "teams".into(),
        at,
        binding: binding.clone(),
    };
    // Ada approving her own access: recorded as refused, with the reason.
    let outcome = world
        .engine
        .answer(&id, answer(ADA, world.now()))
        .await
        .unwrap();
    assert!(!outcome.counted);
    let why = outcome.refusal.unwrap();
    assert!(why.contains("nobody approves their own request"), "{why}");
    // Grace counts; fed again (a double click), it does not count twice.
    let graces = answer(GRACE, world.now());
    let outcome = world.engine.answer(&id, graces.clone()).await.unwrap();
    assert!(outcome.counted, "{:?}", outcome.refusal);
    assert_eq!(
        outcome.workflow.phase,
        Phase::AwaitingApproval {
            stage: 1,
            escalated: false
        }
    );
    let again = world.engine.answer(&id, graces).await.unwrap();
    assert!(!again.counted);
    assert_eq!(
        again.refusal.as_deref(),
        Some("this answer was already recorded")
    );
    // Dora's approval of the next stage grants the access.
    let binding1 = world.workflow("RITM31").await.unwrap().bindings[1].clone();
    let mut doras = answer(DORA, world.now());
    doras.stage = "data-owner".into();
    doras.binding = binding1;
    let outcome = world.engine.answer(&id, doras).await.unwrap();
    assert!(outcome.counted);
    assert!(matches!(outcome.workflow.phase, Phase::Active { .. }));
    assert!(world.directory.is_direct_member(FINANCE, ADA_ID));
    assert_eq!(state(&world, "RITM31"), Some(TicketState::ClosedComplete));
    let n = notes(&world, "RITM31");
    assert!(
        n.contains("refused an answer from `ada.lovelace@contoso.com`"),
        "{n}"
    );
    assert_eq!(
        n.matches("approval record: `grace.hopper@contoso.com` approved stage `manager` via teams")
            .count(),
        1,
        "{n}"
    );
    // The trail: three answers applied or refused, one per delivery, and it verifies.
    let trail = verified_trail(&world).await;
    assert_eq!(
        trail.matches("\"event\":\"answered\"").count(),
        3,
        "{trail}"
    );
    // An unknown ticket is an error, not a silent no-op.
    let err = world
        .engine
        .answer(&WorkflowId::new("RITM404"), answer(GRACE, world.now()))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("RITM404"), "{err}");
}
