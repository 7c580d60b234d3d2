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
                let (request, facts, now) = &pool[k % POOL];
                k += 1;
                black_box(policy.evaluate(black_box(request), black_box(facts), *now))
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
            b.iter(|| black_box(CompiledPolicy::from_yaml_str(black_box(&text), "synthetic.yaml").is_ok()))
        });
    }
    group.finish();
}

/// Per-call latency percentiles, which criterion's per-sample means cannot show.
fn percentiles() {
    println!("\nper-decision latency over a mixed pool of {POOL} requests (each evaluated 50 times)");
    println!("{:>8} {:>10} {:>10} {:>10} {:>10}", "entries", "p50 ns", "p90 ns", "p99 ns", "max ns");
    for n in SIZES {
        let policy = compiled(n);
        let pool = synthetic::request_pool(&policy, n, POOL);
        let mut samples: Vec<Duration> = Vec::with_capacity(POOL * 50);
        for _ in 0..50 {
            for (request, facts, now) in &pool {
                let start = Instant::now();
                black_box(policy.evaluate(black_box(request), black_box(facts), *now));
                samples.push(start.elapsed());
            }
        }
        samples.sort_unstable();
        let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)].as_nanos();
        println!("{n:>8} {:>10} {:>10} {:>10} {:>10}", at(0.50), at(0.90), at(0.99), at(1.0));
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
