//! Evaluates the synthetic benchmark pool in a loop, for profilers
//! (`perf record -g target/release/examples/profile_decisions 10000 [KIND]`,
//! where KIND 0–19 keeps one kind of request of the pool).

#[path = "../benches/decision/synthetic.rs"]
#[allow(dead_code)] // shared with the benchmark; not every helper is used here
mod synthetic;

use groupgate_core::CompiledPolicy;
use std::hint::black_box;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let Ok(policy) = CompiledPolicy::from_yaml_str(&synthetic::policy_yaml(n), "synthetic.yaml")
    else {
        std::process::exit(2)
    };
    let only: Option<usize> = std::env::args().nth(2).and_then(|a| a.parse().ok());
    let pool: Vec<_> = synthetic::request_pool(&policy, n, 2_000)
        .into_iter()
        .enumerate()
        .filter(|(k, _)| only.is_none_or(|o| k % 20 == o))
        .map(|(_, c)| c)
        .collect();
    let rounds = if only.is_some() { 10_000 } else { 500 };
    for _ in 0..rounds {
        for (request, facts, now) in &pool {
            black_box(policy.evaluate(request, facts, *now));
        }
    }
}
