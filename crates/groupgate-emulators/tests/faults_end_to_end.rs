//! Whole workflows through the Graph and ServiceNow adapters with both
//! emulators failing 20 % of their calls at random (429 with Retry-After,
//! 503, 504): the memberships end exactly right, and so does every ticket —
//! each work note exactly once, in order, and the final state and stage.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

mod snow_support;

use chrono::TimeDelta;
use groupgate_core::workflow::{Phase, WorkflowSettings};
use groupgate_core::{CompiledPolicy, Secret, TicketRef};
use groupgate_emulators::{GraphEmulator, GraphEmulatorOptions, SnowEmulator, SnowEmulatorOptions};
use groupgate_graph::{GraphClient, GraphConfig};
use groupgate_sim::{EXAMPLE_POLICY, World};
use snow_support::*;
use std::sync::Arc;

const FINANCE: &str = "aaaaaaaa-0000-0000-0000-000000000001";
const TEAM_ALPHA: &str = "aaaaaaaa-0000-0000-0000-000000000002";
const ADA: &str = "11111111-0000-0000-0000-00000000000a";
const CARL: &str = "11111111-0000-0000-0000-00000000000c";

/// The work notes groupgate wrote, oldest first, with anchors taken off.
fn notes(emu: &SnowEmulator, number: &str) -> Vec<String> {
    let ritm = emu.ritm(number).unwrap();
    emu.journal(ritm["sys_id"].as_str().unwrap(), "work_notes")
        .into_iter()
        .map(|n| {
            n.lines()
                .filter(|l| !l.starts_with("[groupgate audit anchor"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect()
}

/// Asserts notes starting with each of `expected` appear in order, each
/// exactly once, and that no note appears twice.
fn in_order_once(all: &[String], expected: &[&str]) {
    for (i, n) in all.iter().enumerate() {
        assert!(!all[..i].contains(n), "written twice: {n}\n{all:#?}");
    }
    let mut from = 0;
    for want in expected {
        let found = all[from..]
            .iter()
            .position(|n| n.starts_with(want))
            .unwrap_or_else(|| panic!("missing or out of order: `{want}` in {all:#?}"));
        assert_eq!(
            all.iter().filter(|n| n.starts_with(want)).count(),
            1,
            "`{want}` more than once: {all:#?}"
        );
        from += found + 1;
    }
}

async fn world_at_fault_rate(seed: u64) -> (World, GraphEmulator, SnowEmulator) {
    let clock = clock();
    let graph = GraphEmulator::start(
        "127.0.0.1:0",
        directory(),
        GraphEmulatorOptions {
            fault_rate: 0.2,
            seed,
            ..Default::default()
        },
        Arc::new(clock.clone()),
    )
    .await
    .unwrap();
    let snow = SnowEmulator::start(
        "127.0.0.1:0",
        data(),
        SnowEmulatorOptions {
            fault_rate: 0.2,
            seed: seed + 1,
            ..Default::default()
        },
        Arc::new(clock.clone()),
    )
    .await
    .unwrap();
    let o = graph.options();
    let mut config = GraphConfig::for_loopback_emulator(
        &o.tenant_id,
        &o.client_id,
        Secret::new("emulator-secret"),
        graph.base_url(),
        graph.authority_url(),
    );
    config.max_batch_wait = std::time::Duration::ZERO;
    let identity = Arc::new(GraphClient::new(config).unwrap());
    let tickets = Arc::new(client(&snow, true, "emulator-password"));
    let policy = CompiledPolicy::from_yaml_str(EXAMPLE_POLICY, "examples/policy.yaml").unwrap();
    // Every evaluation makes several Graph reads: at this rate most fail at
    // least once, so allow more attempts than the default.
    let mut settings = WorkflowSettings::default();
    settings.retry.max_attempts = 60;
    settings.retry.deadline_seconds = 12 * 3600;
    let world = World::with_ports(policy, clock, seed, identity, tickets.clone(), tickets)
        .with_settings(settings);
    (world, graph, snow)
}

#[tokio::test]
async fn at_a_20_percent_fault_rate_memberships_and_tickets_end_exactly_right() {
    for seed in [5, 23] {
        let (world, graph, snow) = world_at_fault_rate(seed).await;
        // Intake itself may fail (the RITM cannot be read): the poller tries again.
        for number in ["RITM0010001", "RITM0010002"] {
            let mut tries = 0;
            while world.engine.intake(&TicketRef::new(number)).await.is_err() {
                tries += 1;
                assert!(tries < 30, "{number} never read");
            }
        }
        let mut acted = std::collections::BTreeSet::new();
        for _ in 0..60 {
            world
                .run_until(world.now() + TimeDelta::minutes(5))
                .await
                .unwrap();
            // Approvers act on the records groupgate created for them.
            for a in snow
                .approvals("RITM0010001")
                .into_iter()
                .chain(snow.approvals("RITM0010002"))
            {
                let id = a["sys_id"].as_str().unwrap().to_owned();
                if a["state"] == "requested" && acted.insert(id.clone()) {
                    let who = directory()
                        .users
                        .iter()
                        .enumerate()
                        .find(|(i, _)| format!("{:032x}", i + 1) == a["approver"].as_str().unwrap())
                        .map(|(_, u)| u.upn.clone())
                        .unwrap();
                    let number = if a["sysapproval"] == snow.ritm("RITM0010001").unwrap()["sys_id"]
                    {
                        "RITM0010001"
                    } else {
                        "RITM0010002"
                    };
                    snow.act_at(number, &who, "approved", world.now());
                }
            }
            // The worker collects answers every pass; a failed collection
            // is tried again at the next one.
            let _ = world.engine.collect_all_answers().await;
            let mut done = true;
            for t in ["RITM0010001", "RITM0010002"] {
                done &= matches!(world.workflow(t).await.unwrap().phase, Phase::Active { .. });
            }
            if done {
                break;
            }
        }
        for t in ["RITM0010001", "RITM0010002"] {
            let wf = world.workflow(t).await.unwrap();
            assert!(
                matches!(wf.phase, Phase::Active { .. }),
                "seed {seed} {t}: {:?}\n{:#?}",
                wf.phase,
                notes(&snow, t)
            );
            // Closing effects drain too.
            world
                .run_until(world.now() + TimeDelta::hours(2))
                .await
                .unwrap();
            let wf = world.workflow(t).await.unwrap();
            assert!(wf.outbox.is_empty(), "seed {seed} {t}: {:?}", wf.outbox);
            let ritm = snow.ritm(t).unwrap();
            assert_eq!(ritm["state"], "3", "seed {seed} {t}: closed complete");
            assert_eq!(ritm["stage"], "completed", "seed {seed} {t}");
        }
        assert!(graph.is_direct_member(FINANCE, ADA), "seed {seed}");
        assert!(graph.is_direct_member(TEAM_ALPHA, CARL), "seed {seed}");
        in_order_once(
            &notes(&snow, "RITM0010001"),
            &[
                "groupgate received the request",
                "approval required: 2 stage(s)",
                "approved by `grace.hopper@contoso.com` at stage `manager` via servicenow (1 of 1)",
                "approved by `dora.data@contoso.com` at stage `data-owner` via servicenow (1 of 1)",
                "executed at",
            ],
        );
        in_order_once(
            &notes(&snow, "RITM0010002"),
            &[
                "groupgate received the request",
                "approval required: 1 stage(s)",
                "approved by `mia.manager@contoso.com` at stage `manager` via servicenow (1 of 1)",
                "executed at",
            ],
        );
        // The contractor's end date passes: removed, and noted once.
        world
            .run_until("2027-02-01T12:00:00Z".parse().unwrap())
            .await
            .unwrap();
        let wf = world.workflow("RITM0010002").await.unwrap();
        assert_eq!(wf.phase, Phase::Removed, "seed {seed}");
        assert!(!graph.is_direct_member(TEAM_ALPHA, CARL), "seed {seed}");
        in_order_once(&notes(&snow, "RITM0010002"), &["executed at", "removed at"]);
        let trail = world.audit_jsonl().await.unwrap();
        groupgate_core::audit::verify_jsonl(&trail).unwrap();
    }
}
