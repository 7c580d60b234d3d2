//! Workflows per second through the engine with the SQLite store (the
//! in-memory fakes for the directory, tickets and approvals, so the store
//! and the engine are what is measured), at `synchronous=FULL` and
//! `NORMAL`, with 1,000 and 100,000 workflows already in the file; and the
//! engine's own cost per workflow with the in-memory store, for
//! comparison. Each workflow is a standard change: facts gathered,
//! decided, added, verified, ticket noted and closed, every step audited.
//!
//! `cargo bench -p groupgate-sqlite --bench throughput` (see
//! docs/performance.md). The pre-filled files are built once and kept in
//! `target/groupgate-bench/`; each measurement works on a fresh copy.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)] // a benchmark that cannot set up should stop loudly

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use groupgate_core::ports::Store;
use groupgate_core::{CompiledPolicy, DirectorySnapshot, Request};
use groupgate_engine::{Engine, Ports};
use groupgate_sim::{FakeApprovals, FakeDirectory, FakeTickets, MemoryStore, SimClock};
use groupgate_sqlite::{Durability, SqliteOptions, SqliteStore};
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const GROUPS: usize = 100;
/// Workflows measured per sample.
const BATCH: usize = 50;
/// Users beyond the pre-filled ones, for the workflows measured.
const SPARE: usize = 60_000;

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
    CompiledPolicy::from_yaml_str(&y, "throughput.yaml").unwrap()
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
    let limits = groupgate_core::input::Limits::default().with_overrides(|k| match k {
        "GROUPGATE_LIMIT_BYTES" => Some("1000000000".into()),
        "GROUPGATE_LIMIT_NODES" => Some("100000000".into()),
        _ => None,
    });
    groupgate_core::input::from_yaml(&y, &limits).unwrap()
}

fn request(i: usize) -> Request {
    Request {
        ticket: format!("RITM{i:07}").into(),
        requester: "boss@contoso.com".into(),
        target: format!("user{i}@contoso.com"),
        resource: format!("App {}", i % GROUPS),
        end_date: None,
        justification: "throughput".into(),
        suggestion: None,
    }
}

/// The engine over the fakes and `store`; the directory knows `users`.
struct Rig {
    engine: Engine,
    tickets: Arc<FakeTickets>,
    next: AtomicUsize,
}

impl Rig {
    fn new(store: Arc<dyn Store>, snapshot: &DirectorySnapshot, first: usize) -> Self {
        let clock = SimClock::at("2026-11-25T10:00:00Z".parse().unwrap());
        let tickets = Arc::new(FakeTickets::default());
        let ports = Ports {
            identity: Arc::new(FakeDirectory::new(snapshot.clone(), clock.clone())),
            tickets: tickets.clone(),
            approvals: Arc::new(FakeApprovals::new(clock.clone())),
            store,
            clock: Arc::new(clock),
        };
        Self {
            engine: Engine::new(policy(), ports).with_seed(1),
            tickets,
            next: AtomicUsize::new(first),
        }
    }

    /// Runs `n` new workflows to their end; the time they took.
    async fn run(&self, n: usize) -> Duration {
        let requests: Vec<Request> = (0..n)
            .map(|_| request(self.next.fetch_add(1, Ordering::Relaxed)))
            .collect();
        for r in &requests {
            self.tickets.open(r.clone());
        }
        let began = Instant::now();
        for r in requests {
            let wf = self.engine.submit(r).await.unwrap();
            assert_eq!(wf.phase.name(), "completed");
        }
        began.elapsed()
    }
}

fn bench_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/groupgate-bench");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A file holding `n` finished workflows (built once, then reused).
fn prefilled(n: usize, snapshot: &DirectorySnapshot, runtime: &tokio::runtime::Runtime) -> PathBuf {
    let path = bench_dir().join(format!("prefilled-{n}-v2.db"));
    if path.exists() {
        return path;
    }
    let building = path.with_extension("building");
    let _ = std::fs::remove_file(&building);
    let store = Arc::new(
        SqliteStore::open(
            &building,
            SqliteOptions {
                durability: Durability::Normal,
                ..SqliteOptions::default()
            },
        )
        .unwrap(),
    );
    let rig = Rig::new(store.clone(), snapshot, 0);
    eprintln!("building {n} workflows into {} (once)", path.display());
    runtime.block_on(rig.run(n));
    drop(rig);
    // One self-contained file (the WAL folded in).
    store.backup_to(&path).unwrap();
    drop(store);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", building.display()));
    }
    path
}

fn throughput(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let sizes = [1_000usize, 100_000];
    let snapshot = directory(sizes[1] + SPARE);
    let mut group = c.benchmark_group("workflows");
    group.sample_size(10);
    group.throughput(Throughput::Elements(BATCH as u64));
    group.warm_up_time(Duration::from_secs(1));

    group.bench_function(BenchmarkId::new("memory-store", 0), |b| {
        let rig = Rig::new(Arc::new(MemoryStore::default()), &snapshot, sizes[1]);
        b.iter_custom(|iters| (0..iters).map(|_| runtime.block_on(rig.run(BATCH))).sum());
    });

    for n in sizes {
        let source = prefilled(n, &snapshot, &runtime);
        let size = std::fs::metadata(&source).map(|m| m.len()).unwrap_or(0);
        eprintln!(
            "prefilled-{n}: {} bytes, {} bytes per workflow",
            size,
            size / n as u64
        );
        for (name, durability) in [("normal", Durability::Normal), ("full", Durability::Full)] {
            let work = bench_dir().join(format!("work-{n}-{name}.db"));
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", work.display()));
            }
            std::fs::copy(&source, &work).unwrap();
            let store = Arc::new(
                SqliteStore::open(
                    &work,
                    SqliteOptions {
                        durability,
                        ..SqliteOptions::default()
                    },
                )
                .unwrap(),
            );
            let rig = Rig::new(store, &snapshot, sizes[1]);
            group.bench_function(BenchmarkId::new(name, n), |b| {
                b.iter_custom(|iters| (0..iters).map(|_| runtime.block_on(rig.run(BATCH))).sum());
            });
        }
    }
    group.finish();
}

criterion_group!(benches, throughput);
criterion_main!(benches);
