//! Evaluates the synthetic benchmark pool in a loop, for profilers
//! (`perf record -g target/release/examples/profile_decisions 10000`).

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
    let pool = synthetic::request_pool(&policy, n, 2_000);
    for _ in 0..500 {
        for (request, facts, now) in &pool {
            black_box(policy.evaluate(request, facts, *now));
        }
    }
}
