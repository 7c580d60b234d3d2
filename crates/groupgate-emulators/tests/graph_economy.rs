//! How many Graph requests groupgate spends, counted through the emulator's
//! call log so a regression fails: one granted request costs at most 6
//! (fact gathering, the re-check, the add and its read-back), whatever the
//! catalog size; offboarding a user from 500 groups costs at most 30
//! (their direct memberships read once, paged; removals in batches of 20;
//! verification by one more read).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use groupgate_core::workflow::Phase;
use groupgate_core::{CompiledPolicy, DirectorySnapshot, Request};
use groupgate_emulators::{GraphEmulator, GraphEmulatorOptions};
use groupgate_graph::{GraphClient, GraphConfig, Secret};
use groupgate_sim::{SimClock, World};
use std::sync::Arc;

fn gid(i: usize) -> String {
    format!("bbbbbbbb-0000-0000-0000-{i:012}")
}

/// `n` governed groups, each its own catalog entry, approved by the
/// requester being the target's manager (a standard change); every tenth
/// pair of groups is kept apart by separation of duties.
fn world_of(n: usize, clock: &SimClock) -> (CompiledPolicy, DirectorySnapshot) {
    let mut policy = String::from(
        "version: 1\nstandard_changes:\n  - {name: by-manager, max_risk: low, requester_is_target_manager: true}\ngroups:\n",
    );
    let mut catalog = String::from("catalog:\n");
    let mut sod = String::from("separation_of_duties:\n");
    let mut groups = String::from("groups:\n");
    for i in 0..n {
        policy.push_str(&format!(
            "  - {{id: G{i}, object_id: {}, managed_via_itsm: true, risk: low, change_window: always, approval: [{{name: manager, approvers: [manager]}}]}}\n",
            gid(i)
        ));
        catalog.push_str(&format!("  - {{name: App {i}, group: G{i}}}\n"));
        groups.push_str(&format!("  - {{id: {}, display_name: App {i}}}\n", gid(i)));
        if i % 10 == 1 {
            sod.push_str(&format!(
                "  - {{name: sod-{i}, groups: [G{}, G{i}]}}\n",
                i - 1
            ));
        }
    }
    policy.push_str(&catalog);
    policy.push_str(&sod);
    let _ = clock;
    let policy = CompiledPolicy::from_yaml_str(&policy, "economy.yaml").unwrap();
    let dir: DirectorySnapshot = groupgate_core::input::from_yaml(
        &format!(
            "users:\n  - {{id: 11111111-0000-0000-0000-0000000000aa, upn: worker@contoso.com, manager: boss@contoso.com}}\n  - {{id: 11111111-0000-0000-0000-0000000000bb, upn: boss@contoso.com}}\n{groups}"
        ),
        &Default::default(),
    )
    .unwrap();
    (policy, dir)
}

async fn start(n: usize) -> (GraphEmulator, World) {
    let clock = SimClock::at("2026-11-25T10:00:00Z".parse().unwrap());
    let (policy, dir) = world_of(n, &clock);
    let emu = GraphEmulator::start(
        "127.0.0.1:0",
        dir,
        GraphEmulatorOptions::default(),
        Arc::new(clock.clone()),
    )
    .await
    .unwrap();
    let o = emu.options();
    let graph = GraphClient::new(GraphConfig::for_loopback_emulator(
        &o.tenant_id,
        &o.client_id,
        Secret::new("emulator-secret"),
        emu.base_url(),
        emu.authority_url(),
    ))
    .unwrap();
    let world = World::with_identity(policy, clock, 3, Arc::new(graph));
    (emu, world)
}

fn request(ticket: &str, app: usize) -> Request {
    serde_json::from_value(serde_json::json!({
        "ticket": ticket, "requester": "boss@contoso.com",
        "target": "worker@contoso.com", "resource": format!("App {app}")
    }))
    .unwrap()
}

/// Graph calls (not token calls) made since `from`.
fn graph_calls(emu: &GraphEmulator, from: usize) -> Vec<String> {
    emu.requests()[from..]
        .iter()
        .filter(|r| r.contains("/v1.0/"))
        .cloned()
        .collect()
}

#[tokio::test]
async fn one_granted_request_costs_at_most_six_graph_requests_at_any_catalog_size() {
    for n in [30, 500] {
        let (emu, world) = start(n).await;
        // A group with a separation-of-duties partner, and one without.
        for (ticket, app) in [("T1", 11), ("T2", 7)] {
            let before = emu.requests().len();
            let wf = world.submit(request(ticket, app)).await.unwrap();
            assert_eq!(wf.phase, Phase::Completed, "{n}/{ticket}: {:?}", wf.phase);
            let calls = graph_calls(&emu, before);
            assert!(
                calls.len() <= 6,
                "{n} groups, {ticket}: {} calls: {calls:#?}",
                calls.len()
            );
            eprintln!("{n} groups, {ticket}: {} Graph requests", calls.len());
        }
    }
}

#[tokio::test]
async fn offboarding_from_500_groups_costs_at_most_30_graph_requests() {
    let n = 500;
    let (emu, world) = start(n).await;
    // Most of the first half granted through groupgate (separation of duties
    // keeps every G(10k+1) out), the rest added by hand (drift).
    let granted: Vec<usize> = (0..n / 2).filter(|i| i % 10 != 1).collect();
    for &i in &granted {
        let wf = world.submit(request(&format!("T{i}"), i)).await.unwrap();
        assert_eq!(wf.phase, Phase::Completed, "T{i}: {:?}", wf.phase);
    }
    emu.edit_directory(|dir| {
        for i in (0..n).filter(|i| !granted.contains(i)) {
            dir.find_group_mut(&gid(i))
                .unwrap()
                .members
                .push("11111111-0000-0000-0000-0000000000aa".to_owned());
        }
    });
    let before = emu.requests().len();
    let report = world
        .engine
        .offboard("worker@contoso.com", "hr")
        .await
        .unwrap();
    let calls = graph_calls(&emu, before);
    assert!(
        report.failed.is_empty() && report.failures.is_empty(),
        "{report:?}"
    );
    assert_eq!(report.removed.len(), granted.len(), "{report:?}");
    assert_eq!(report.drift.len(), n - granted.len(), "found by the sweep");
    assert!((0..n).all(|i| !emu.is_direct_member(&gid(i), "11111111-0000-0000-0000-0000000000aa")));
    assert!(
        calls.len() <= 30,
        "{} calls: {:#?}",
        calls.len(),
        &calls[..calls.len().min(40)]
    );
    eprintln!(
        "offboarding from {n} groups: {} Graph requests",
        calls.len()
    );
}
