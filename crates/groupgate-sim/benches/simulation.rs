//! The simulated world at scale: a run of N workflows (each a standard
//! change: facts gathered, decided, added, verified, closed and audited) on
//! the in-memory fakes, for N = 1,000 and 10,000. With the fakes indexed,
//! the cost per workflow stays flat as N grows.
//!
//! `cargo bench -p groupgate-sim --bench simulation` (see docs/performance.md).

#![allow(clippy::panic)] // a benchmark that cannot set up should stop loudly

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use groupgate_core::{CompiledPolicy, DirectorySnapshot, Request};
use groupgate_sim::World;
use std::fmt::Write;
use std::time::{Duration, Instant};

const GROUPS: usize = 100;

fn gid(i: usize) -> String {
    format!("cccccccc-0000-0000-0000-{i:012}")
}

fn policy() -> CompiledPolicy {
    let mut y = String::from(
        "version: 1\nstandard_changes:\n  - {name: by-manager, max_risk: low, requester_is_target_manager: true}\ngroups:\n",
    );
    for i in 0..GROUPS {
        let _ = writeln!(
            y,
            "  - {{id: G{i}, object_id: {}, managed_via_itsm: true, risk: low, change_window: always, approval: [{{name: manager, approvers: [manager]}}]}}",
            gid(i)
        );
    }
    y.push_str("catalog:\n");
    for i in 0..GROUPS {
        let _ = writeln!(y, "  - {{name: App {i}, group: G{i}}}");
    }
    CompiledPolicy::from_yaml_str(&y, "simulation.yaml").unwrap_or_else(|e| panic!("{e}"))
}

fn directory(users: usize) -> DirectorySnapshot {
    let mut y = String::from(
        "users:\n  - {id: 11111111-0000-0000-0000-000000000000, upn: boss@contoso.com}\n",
    );
    for i in 0..users {
        let _ = writeln!(
            y,
            "  - {{id: 22222222-0000-0000-0000-{i:012}, upn: user{i}@contoso.com, manager: boss@contoso.com}}"
        );
    }
    y.push_str("groups:\n");
    for i in 0..GROUPS {
        let _ = writeln!(y, "  - {{id: {}, display_name: App {i}}}", gid(i));
    }
    groupgate_core::input::from_yaml(&y, &Default::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn request(i: usize) -> Request {
    Request {
        ticket: format!("RITM{i:07}").into(),
        requester: "boss@contoso.com".into(),
        target: format!("user{i}@contoso.com"),
        resource: format!("App {}", i % GROUPS),
        end_date: None,
        justification: "simulation".into(),
        suggestion: None,
    }
}

/// Runs `n` workflows on a fresh world; the time they took.
fn run(n: usize, runtime: &tokio::runtime::Runtime) -> Duration {
    let start = "2026-11-25T10:00:00Z".parse().unwrap_or_default();
    let world = World::new(policy(), directory(n), start, 1);
    let requests: Vec<Request> = (0..n).map(request).collect();
    runtime.block_on(async {
        let began = Instant::now();
        for r in requests {
            let wf = world.submit(r).await.unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(wf.phase.name(), "completed");
        }
        began.elapsed()
    })
}

fn simulation(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let mut group = c.benchmark_group("simulation_per_workflow");
    group.sample_size(10);
    for n in [1_000, 10_000] {
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter_custom(|iters| {
                // The time of one workflow, averaged over a run of `n`.
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += run(n, &runtime) / n as u32;
                }
                total
            })
        });
    }
    group.finish();
}

criterion_group!(benches, simulation);
criterion_main!(benches);
