//! Directory approver groups over the Graph adapter and the Graph emulator:
//! members and transitiveMembers paged through `@odata.nextLink`, nested
//! groups skipped, each user once, the read bounded by `max_members` (and
//! stopped there), a missing group, and the whole decision's facts in one
//! `$batch` with later pages followed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use groupgate_core::ports::{FactsQuery, IdentityProvider};
use groupgate_core::{CompiledPolicy, DirectorySnapshot, GroupId};
use groupgate_emulators::{GraphEmulator, GraphEmulatorOptions};
use groupgate_graph::{GraphClient, GraphConfig, Secret};
use groupgate_sim::{EXAMPLE_DIRECTORY, SimClock};
use std::sync::Arc;

const TEAM: &str = "aaaaaaaa-0000-0000-0000-0000000000c1";
const ONCALL: &str = "aaaaaaaa-0000-0000-0000-0000000000c2";
const VAULT: &str = "aaaaaaaa-0000-0000-0000-0000000000b1";

/// The example directory plus a team of seven direct users and a nested
/// rota of three (one of them also direct, one only nested twice over).
fn directory() -> DirectorySnapshot {
    let mut text = EXAMPLE_DIRECTORY.to_owned();
    text.push_str(&format!(
        "  - {{id: {VAULT}, display_name: Vault Readers}}
  - {{id: {TEAM}, display_name: Security Team, members: [ada.lovelace@contoso.com, grace.hopper@contoso.com, mia.manager@contoso.com, pat.lead@contoso.com, dora.data@contoso.com, bianca.bi@contoso.com, sam.sec@contoso.com], member_groups: [{ONCALL}]}}
  - {{id: {ONCALL}, display_name: Security On-Call, members: [sam.sec@contoso.com, sol.sec@contoso.com, lea.lead@contoso.com], member_groups: [{TEAM}]}}
"
    ));
    groupgate_core::input::from_yaml(&text, &Default::default()).unwrap()
}

async fn emulator(page: usize) -> GraphEmulator {
    let clock = SimClock::at("2026-11-25T10:00:00Z".parse().unwrap());
    let options = GraphEmulatorOptions {
        max_page_size: page,
        ..Default::default()
    };
    GraphEmulator::start("127.0.0.1:0", directory(), options, Arc::new(clock))
        .await
        .unwrap()
}

fn client(emu: &GraphEmulator) -> GraphClient {
    let o = emu.options();
    let config = GraphConfig::for_loopback_emulator(
        &o.tenant_id,
        &o.client_id,
        Secret::new("emulator-secret"),
        emu.base_url(),
        emu.authority_url(),
    );
    GraphClient::new(config).unwrap()
}

fn upns(read: &groupgate_core::GroupMembers) -> Vec<String> {
    let mut out: Vec<String> = read.members.iter().map(|u| u.upn.to_string()).collect();
    out.sort();
    out
}

fn member_reads(emu: &GraphEmulator) -> usize {
    emu.requests()
        .iter()
        .filter(|r| r.contains(&format!("/groups/{TEAM}/")))
        .count()
}

#[tokio::test]
async fn direct_members_are_paged_and_nested_groups_are_not_users() {
    let emu = emulator(2).await;
    let graph = client(&emu);
    let read = graph
        .group_members(&GroupId::new(TEAM), false, 200)
        .await
        .unwrap()
        .unwrap();
    assert!(read.complete);
    assert_eq!(read.members.len(), 7, "{:?}", upns(&read));
    assert!(!upns(&read).contains(&"sol.sec@contoso.com".to_owned()));
    // Seven users and one nested group, two a page: four pages.
    assert_eq!(member_reads(&emu), 4);
    // Users come with the attributes decisions need.
    assert!(read.members.iter().all(|u| u.enabled && !u.id.is_empty()));
}

#[tokio::test]
async fn transitive_members_count_each_user_once_through_a_nesting_cycle() {
    let emu = emulator(3).await;
    let graph = client(&emu);
    let read = graph
        .group_members(&GroupId::new(TEAM), true, 200)
        .await
        .unwrap()
        .unwrap();
    assert!(read.complete);
    assert!(read.transitive);
    let got = upns(&read);
    assert_eq!(got.len(), 9, "{got:?}");
    assert!(got.contains(&"sol.sec@contoso.com".to_owned()));
    assert!(got.contains(&"lea.lead@contoso.com".to_owned()));
    assert!(
        emu.requests()
            .iter()
            .any(|r| r.contains("/transitiveMembers"))
    );
}

#[tokio::test]
async fn the_read_stops_at_max_members_and_says_it_is_partial() {
    let emu = emulator(2).await;
    let graph = client(&emu);
    let read = graph
        .group_members(&GroupId::new(TEAM), false, 3)
        .await
        .unwrap()
        .unwrap();
    assert!(!read.complete);
    assert_eq!(read.members.len(), 3);
    // Three users read and the fourth seen: two pages, not four.
    assert_eq!(member_reads(&emu), 2);
}

#[tokio::test]
async fn a_missing_group_is_none_and_hostile_ids_stay_in_their_segment() {
    let emu = emulator(999).await;
    let graph = client(&emu);
    let missing = graph
        .group_members(
            &GroupId::new("aaaaaaaa-0000-0000-0000-0000000000ff"),
            true,
            10,
        )
        .await
        .unwrap();
    assert!(missing.is_none());
    let hostile = graph
        .group_members(&GroupId::new("../users?$top=1"), false, 10)
        .await
        .unwrap();
    assert!(hostile.is_none());
    assert!(
        emu.requests()
            .iter()
            .any(|r| r.contains("..%2Fusers%3F%24top%3D1")),
        "{:?}",
        emu.requests()
    );
}

#[tokio::test]
async fn the_decision_facts_read_the_first_page_in_the_batch_and_follow_the_rest() {
    let emu = emulator(4).await;
    let graph = client(&emu);
    let policy = CompiledPolicy::from_yaml_str(
        &format!(
            "version: 1
approver_groups:
  - name: security
    directory_group: {TEAM}
    transitive: true
groups:
  - id: GRP-VAULT
    object_id: {VAULT}
    managed_via_itsm: true
    change_window: always
    approval:
      - name: security
        approvers: [security]
catalog:
  - name: Vault
    group: GRP-VAULT
"
        ),
        "vault.yaml",
    )
    .unwrap();
    let request: groupgate_core::Request = serde_json::from_value(serde_json::json!({
        "ticket": "RITM1", "requester": "vic.vendor@contoso.com",
        "target": "vic.vendor@contoso.com", "resource": "Vault"
    }))
    .unwrap();
    let needs = policy.fact_needs(&request);
    assert_eq!(needs.approver_groups.len(), 1);
    let facts = graph
        .facts(&FactsQuery {
            requester: request.requester.clone(),
            target: request.target.clone(),
            needs,
        })
        .await
        .unwrap();
    let read = facts
        .group_members(&GroupId::new(TEAM), true)
        .expect("read with the facts");
    assert_eq!(read.members.len(), 9);
    let requests = emu.requests();
    let batches = requests.iter().filter(|r| r.contains("/$batch")).count();
    let pages = requests
        .iter()
        .filter(|r| r.contains("/transitiveMembers"))
        .count();
    // One batch (users, manager, group, memberships, first page) and the two
    // further pages of 4 (9 users and 2 groups = 11 objects).
    assert_eq!(batches, 1, "{requests:#?}");
    assert_eq!(pages, 2, "{requests:#?}");
}
