//! Decision latency and policy load time for catalogs of 10 to 100,000 entries.
//!
//! `cargo bench -p groupgate-core --bench decision` runs criterion (medians per
//! decision over the mixed pool) and then prints per-decision percentiles
//! (p50, p99) measured call by call. See `docs/performance.md`.

mod synthetic;

use criterion::{BenchmarkId, Criterion, criterion_group};
use groupgate_core::CompiledPolicy;
use std::hint::black_box;
use std::time::{Duration, Instant};

const SIZES: [usize; 4] = [10, 1_000, 10_000, 100_000];
const POOL: usize = 2_000;

fn compiled(n: usize) -> CompiledPolicy {
    match CompiledPolicy::from_yaml_str(&synthetic::policy_yaml(n), "synthetic.yaml") {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1)
        }
    }
}

fn decision(c: &mut Criterion) {
    let mut group = c.benchmark_group("decision");
    for n in SIZES {
        let policy = compiled(n);
        let pool = synthetic::request_pool(&policy, n, POOL);
        let mut k = 0;
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| {
                // End to end as a caller sees it: the request and facts are
                // built (here: copied from the pool), then evaluated.
                let (request, facts, now) = pool[k % POOL].clone();
                k += 1;
                black_box(policy.evaluate(black_box(&request), black_box(&facts), now))
            })
        });
    }
    group.finish();
}

fn load(c: &mut Criterion) {
    let mut group = c.benchmark_group("policy_load");
    group.sample_size(10);
    for n in [10_000, 100_000] {
        let text = synthetic::policy_yaml(n);
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| {
                black_box(CompiledPolicy::from_yaml_str(black_box(&text), "synthetic.yaml").is_ok())
            })
        });
    }
    group.finish();
}

/// Per-call latency percentiles, which criterion's per-sample means cannot
/// show, over the whole pool and per kind of request.
fn percentiles() {
    const ROUNDS: usize = 50;
    println!(
        "\nper-decision latency (ns) over a mixed pool of {POOL} requests, each evaluated {ROUNDS} times"
    );
    println!(
        "{:>8}  {:<18} {:>7} {:>7} {:>7}",
        "entries", "requests", "p50", "p90", "p99"
    );
    for n in SIZES {
        let policy = compiled(n);
        let pool = synthetic::request_pool(&policy, n, POOL);
        let mut samples: Vec<(usize, Duration)> = Vec::with_capacity(POOL * ROUNDS);
        for _ in 0..ROUNDS {
            for (k, case) in pool.iter().enumerate() {
                let start = Instant::now();
                let (request, facts, now) = case.clone();
                black_box(policy.evaluate(black_box(&request), black_box(&facts), now));
                samples.push((k, start.elapsed()));
            }
        }
        let report = |label: &str, mut times: Vec<Duration>| {
            times.sort_unstable();
            let at =
                |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)].as_nanos();
            println!(
                "{n:>8}  {label:<18} {:>7} {:>7} {:>7}",
                at(0.50),
                at(0.90),
                at(0.99)
            );
        };
        report("all (mixed)", samples.iter().map(|s| s.1).collect());
        let mut kinds: Vec<&str> = Vec::new();
        for kind in (0..20).map(synthetic::kind_name) {
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        for kind in kinds {
            report(
                kind,
                samples
                    .iter()
                    .filter(|s| synthetic::kind_name(s.0) == kind)
                    .map(|s| s.1)
                    .collect(),
            );
        }
    }
}

criterion_group!(benches, decision, load);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    if std::env::args().all(|a| a != "--test" && a != "--list") {
        percentiles();
    }
}
