//! The decision benchmark's policy and mixed request pool, written to a
//! folder for the bindings' benchmarks, with the native per-decision time
//! on that same pool, so a binding's figure can be set beside it from one
//! run (`bindings/python/benches/evaluate.py` runs this first).
//!
//! `cargo run --release -p groupgate-core --example decision_pool -- DIR [ENTRIES]`
//! writes `DIR/policy.yaml`, `DIR/pool.json` (`[{request, facts, now}]`)
//! and prints `{"entries", "pool", "native_ns_per_decision"}`: the median,
//! over rounds, of the mean time per decision over the whole pool (each
//! request and its facts copied, as a caller builds them, then evaluated).

#[path = "../benches/decision/synthetic.rs"]
#[allow(dead_code)] // shared with the benchmark; not every helper is used here
mod synthetic;

use groupgate_core::CompiledPolicy;
use std::hint::black_box;
use std::time::Instant;

const POOL: usize = 2_000;
const ROUNDS: usize = 51;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next() else {
        eprintln!("usage: decision_pool DIR [ENTRIES]");
        std::process::exit(2);
    };
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let dir = std::path::PathBuf::from(dir);
    let text = synthetic::policy_yaml(n);
    let policy = match CompiledPolicy::from_yaml_str(&text, "synthetic.yaml") {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let pool = synthetic::request_pool(&policy, n, POOL);
    let json: Vec<serde_json::Value> = pool
        .iter()
        .map(|(request, facts, now)| serde_json::json!({"request": request, "facts": facts, "now": now}))
        .collect();
    let written = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(dir.join("policy.yaml"), &text))
        .and_then(|()| {
            std::fs::write(
                dir.join("pool.json"),
                serde_json::to_string(&json).unwrap_or_default(),
            )
        });
    if let Err(e) = written {
        eprintln!("cannot write to {}: {e}", dir.display());
        std::process::exit(1);
    }
    let mut per_round: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            for case in &pool {
                let (request, facts, now) = case.clone();
                black_box(policy.evaluate(black_box(&request), black_box(&facts), now));
            }
            start.elapsed().as_nanos() as f64 / POOL as f64
        })
        .collect();
    per_round.sort_by(f64::total_cmp);
    let median = per_round[ROUNDS / 2];
    println!(
        "{}",
        serde_json::json!({"entries": n, "pool": POOL, "native_ns_per_decision": median})
    );
}
