//! Approver groups defined by an Entra ID group (`directory_group`): who is
//! asked, who may answer, what happens when the group changes between the
//! answer and the execution, a group larger than `max_members`, and a group
//! that does not exist. Each checks the memberships, every ticket note and
//! state, and the audit trail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use chrono::{DateTime, Utc};
use groupgate_core::audit::verify_jsonl;
use groupgate_core::ports::TicketState;
use groupgate_core::workflow::{Phase, Verdict};
use groupgate_core::{CompiledPolicy, DirectorySnapshot, ReasonCode, Request};
use groupgate_sim::{EXAMPLE_DIRECTORY, World};

const ADA: &str = "ada.lovelace@contoso.com";
const ADA_ID: &str = "11111111-0000-0000-0000-00000000000a";
const GRACE: &str = "grace.hopper@contoso.com";
const SAM: &str = "sam.sec@contoso.com";
const SAM_ID: &str = "11111111-0000-0000-0000-000000000013";
const SOL: &str = "sol.sec@contoso.com";
const SOL_ID: &str = "11111111-0000-0000-0000-000000000014";
const VAULT: &str = "aaaaaaaa-0000-0000-0000-0000000000b1";
const SEC_TEAM: &str = "aaaaaaaa-0000-0000-0000-0000000000c1";
const SEC_ONCALL: &str = "aaaaaaaa-0000-0000-0000-0000000000c2";

/// A policy whose only stage is the security team, defined in the directory.
fn policy(group_settings: &str, window: &str) -> CompiledPolicy {
    let text = format!(
        "version: 1
approver_groups:
  - name: security
    directory_group: {SEC_TEAM}
{group_settings}
change_windows:
  - name: business-hours
    timezone: Europe/Berlin
    weekly:
      - days: [mon-fri]
        from: \"07:00\"
        to: \"19:00\"
groups:
  - id: GRP-VAULT
    object_id: {VAULT}
    display_name: Vault Readers
    managed_via_itsm: true
    risk: high
    change_window: {window}
    approval:
      - name: security
        approvers: [security]
catalog:
  - name: Vault
    group: GRP-VAULT
"
    );
    CompiledPolicy::from_yaml_str(&text, "approver-groups.yaml").unwrap()
}

/// The example directory plus the vault, the security team (Sam) and the
/// on-call rota nested in it (Sol).
fn directory() -> DirectorySnapshot {
    let mut text = EXAMPLE_DIRECTORY.to_owned();
    text.push_str(&format!(
        "  - {{id: {VAULT}, display_name: Vault Readers}}
  - {{id: {SEC_TEAM}, display_name: Security Team, members: [{SAM_ID}], member_groups: [{SEC_ONCALL}]}}
  - {{id: {SEC_ONCALL}, display_name: Security On-Call, members: [{SOL}]}}
"
    ));
    groupgate_core::input::from_yaml(&text, &Default::default()).unwrap()
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn world(group_settings: &str, window: &str, start: &str) -> World {
    World::new(policy(group_settings, window), directory(), at(start), 3)
}

fn request(ticket: &str) -> Request {
    serde_json::from_value(serde_json::json!({
        "ticket": ticket, "requester": ADA, "target": ADA, "resource": "Vault",
        "justification": "audit work"
    }))
    .unwrap()
}

fn notes(world: &World, ticket: &str) -> String {
    world.tickets.ticket(ticket).unwrap().notes.join("\n")
}

fn state(world: &World, ticket: &str) -> Option<TicketState> {
    world.tickets.ticket(ticket).unwrap().state
}

async fn trail_verifies(world: &World) {
    verify_jsonl(&world.audit_jsonl().await.unwrap()).unwrap();
}

fn asked_ids(world: &World) -> Vec<String> {
    let ask = world.approvals.asks().last().unwrap().clone();
    let mut ids: Vec<String> = ask.approvers.iter().map(|a| a.id.to_string()).collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn the_members_of_the_directory_group_are_asked_and_an_outsider_cannot_answer() {
    let world = world("    transitive: true", "always", "2026-11-25T10:00:00Z");
    let wf = world.submit(request("RITM1")).await.unwrap();
    assert!(matches!(wf.phase, Phase::AwaitingApproval { stage: 0, .. }));
    // Sam directly, Sol through the nested on-call group; each by object id.
    assert_eq!(asked_ids(&world), vec![SAM_ID, SOL_ID]);

    // Ada approving her own access, and Grace, who is not in the team: both
    // refused, still waiting.
    world
        .answer("RITM1", ADA, Verdict::Approve, "teams")
        .await
        .unwrap();
    let wf = world
        .answer("RITM1", GRACE, Verdict::Approve, "teams")
        .await
        .unwrap();
    assert!(matches!(wf.phase, Phase::AwaitingApproval { .. }));
    assert!(wf.approvals.is_empty());
    let text = notes(&world, "RITM1");
    assert!(text.contains("nobody approves their own request"), "{text}");
    assert!(
        text.contains("refused an answer from `grace.hopper@contoso.com`")
            && text.contains("not an eligible approver"),
        "{text}"
    );

    let wf = world
        .answer("RITM1", SOL, Verdict::Approve, "teams")
        .await
        .unwrap();
    assert!(matches!(wf.phase, Phase::Completed), "{:?}", wf.phase);
    assert!(world.directory.is_direct_member(VAULT, ADA_ID));
    assert_eq!(
        world.directory.writes(),
        vec![format!("add {VAULT} {ADA_ID}")]
    );
    assert_eq!(state(&world, "RITM1"), Some(TicketState::ClosedComplete));
    trail_verifies(&world).await;
}

#[tokio::test]
async fn without_transitive_only_direct_members_are_eligible() {
    let world = world("", "always", "2026-11-25T10:00:00Z");
    world.submit(request("RITM1")).await.unwrap();
    assert_eq!(asked_ids(&world), vec![SAM_ID]);
    let wf = world
        .answer("RITM1", SOL, Verdict::Approve, "teams")
        .await
        .unwrap();
    assert!(wf.approvals.is_empty(), "Sol is only a nested member");
    assert!(notes(&world, "RITM1").contains("not an eligible approver"));
    assert!(world.directory.writes().is_empty());
    let wf = world
        .answer("RITM1", SAM, Verdict::Approve, "teams")
        .await
        .unwrap();
    assert!(matches!(wf.phase, Phase::Completed), "{:?}", wf.phase);
    assert_eq!(state(&world, "RITM1"), Some(TicketState::ClosedComplete));
    trail_verifies(&world).await;
}

#[tokio::test]
async fn an_approver_who_left_the_group_before_execution_no_longer_counts() {
    // Friday evening: approved now, executed on Monday morning.
    let world = world(
        "    transitive: true",
        "business-hours",
        "2026-11-27T18:30:00Z",
    );
    world.submit(request("RITM1")).await.unwrap();
    let wf = world
        .answer("RITM1", SAM, Verdict::Approve, "teams")
        .await
        .unwrap();
    assert!(
        matches!(wf.phase, Phase::Scheduled { .. }),
        "{:?}",
        wf.phase
    );

    // Over the weekend Sam leaves the security team.
    world.directory.remove_by_hand(SEC_TEAM, SAM_ID);
    world.run_until(at("2026-11-30T07:00:00Z")).await.unwrap();

    let wf = world.workflow("RITM1").await.unwrap();
    assert!(
        matches!(wf.phase, Phase::AwaitingApproval { stage: 0, .. }),
        "{:?}",
        wf.phase
    );
    assert!(world.directory.writes().is_empty(), "nobody was added");
    assert!(
        notes(&world, "RITM1")
            .contains("the approval by `sam.sec@contoso.com` at stage `security` no longer counts"),
        "{}",
        notes(&world, "RITM1")
    );
    assert_eq!(asked_ids(&world), vec![SOL_ID], "only the current team");
    assert_eq!(state(&world, "RITM1"), Some(TicketState::ApprovalRequired));

    // Sam's answer again is refused; Sol's counts.
    world
        .answer("RITM1", SAM, Verdict::Approve, "teams")
        .await
        .unwrap();
    let wf = world
        .answer("RITM1", SOL, Verdict::Approve, "teams")
        .await
        .unwrap();
    assert!(matches!(wf.phase, Phase::Completed), "{:?}", wf.phase);
    assert_eq!(wf.approvals.len(), 1);
    assert_eq!(wf.approvals[0].approver_id.as_deref(), Some(SOL_ID));
    assert!(world.directory.is_direct_member(VAULT, ADA_ID));
    assert_eq!(state(&world, "RITM1"), Some(TicketState::ClosedComplete));
    trail_verifies(&world).await;
}

#[tokio::test]
async fn a_group_larger_than_max_members_is_read_in_part_and_says_so() {
    let world = world(
        "    transitive: true\n    max_members: 1",
        "always",
        "2026-11-25T10:00:00Z",
    );
    let wf = world.submit(request("RITM1")).await.unwrap();
    let decision = wf.decision.clone().unwrap();
    let partial = decision
        .reasons
        .iter()
        .find(|r| r.code == ReasonCode::ApproverGroupPartial)
        .expect("the partial read is a reason");
    assert!(partial.to_string().contains(SEC_TEAM), "{partial}");
    // Only the member read (Sam, the direct one) is asked and eligible.
    assert_eq!(asked_ids(&world), vec![SAM_ID]);
    let wf = world
        .answer("RITM1", SOL, Verdict::Approve, "teams")
        .await
        .unwrap();
    assert!(wf.approvals.is_empty());
    assert!(world.directory.writes().is_empty());
    trail_verifies(&world).await;
}

#[tokio::test]
async fn a_directory_group_that_does_not_exist_denies_the_request() {
    let mut directory = directory();
    directory.groups.retain(|g| g.id != SEC_TEAM);
    let world = World::new(
        policy("", "always"),
        directory,
        at("2026-11-25T10:00:00Z"),
        3,
    );
    let wf = world.submit(request("RITM1")).await.unwrap();
    assert!(matches!(wf.phase, Phase::Denied), "{:?}", wf.phase);
    let decision = wf.decision.clone().unwrap();
    let codes: Vec<ReasonCode> = decision.reasons.iter().map(|r| r.code).collect();
    assert!(
        codes.contains(&ReasonCode::ApproverNotInDirectory),
        "{codes:?}"
    );
    assert!(codes.contains(&ReasonCode::StageUnsatisfiable), "{codes:?}");
    assert!(world.approvals.asks().is_empty(), "nobody is asked");
    assert!(world.directory.writes().is_empty());
    assert_eq!(state(&world, "RITM1"), Some(TicketState::ClosedIncomplete));
    assert!(notes(&world, "RITM1").contains("security"));
    trail_verifies(&world).await;
}

#[tokio::test]
async fn a_burst_reads_the_group_once_and_a_later_decision_reads_it_again() {
    let world = world("    transitive: true", "always", "2026-11-25T10:00:00Z");
    world.submit(request("RITM1")).await.unwrap();
    assert_eq!(asked_ids(&world), vec![SAM_ID, SOL_ID]);
    // Sol leaves the rota; a decision within the cache time (60 s) still
    // sees the read made a moment ago...
    world.directory.remove_by_hand(SEC_ONCALL, SOL_ID);
    world.clock.advance(chrono::TimeDelta::seconds(30));
    world.submit(request("RITM2")).await.unwrap();
    assert_eq!(asked_ids(&world), vec![SAM_ID, SOL_ID]);
    // Sol answers at once. The re-check before the change never uses the
    // cache: it reads the group afresh and finds Sol gone, so nobody is
    // added and the current members are asked again.
    let wf = world
        .answer("RITM2", SOL, Verdict::Approve, "teams")
        .await
        .unwrap();
    assert!(
        matches!(wf.phase, Phase::AwaitingApproval { stage: 0, .. }),
        "{:?}",
        wf.phase
    );
    assert!(wf.approvals.is_empty());
    assert!(world.directory.writes().is_empty());
    assert!(
        notes(&world, "RITM2")
            .contains("the approval by `sol.sec@contoso.com` at stage `security` no longer counts"),
        "{}",
        notes(&world, "RITM2")
    );
    assert_eq!(asked_ids(&world), vec![SAM_ID]);
    // A decision after the cache time reads the group again too.
    world.clock.advance(chrono::TimeDelta::seconds(31));
    world.submit(request("RITM3")).await.unwrap();
    assert_eq!(asked_ids(&world), vec![SAM_ID]);
    trail_verifies(&world).await;
}

#[tokio::test]
async fn with_the_cache_off_every_decision_reads_the_group() {
    let world = world("    transitive: true", "always", "2026-11-25T10:00:00Z")
        .map_engine(|e| e.with_approver_group_cache(std::time::Duration::ZERO));
    world.submit(request("RITM1")).await.unwrap();
    world.directory.remove_by_hand(SEC_ONCALL, SOL_ID);
    world.submit(request("RITM2")).await.unwrap();
    assert_eq!(asked_ids(&world), vec![SAM_ID]);
}
