//! Times resolution alone against full evaluation over the synthetic pool.

#[path = "../benches/decision/synthetic.rs"]
#[allow(dead_code)] // shared with the benchmark; not every helper is used here
mod synthetic;

use groupgate_core::CompiledPolicy;
use std::hint::black_box;
use std::time::Instant;

fn main() {
    for n in [10usize, 10_000, 100_000] {
        let Ok(policy) = CompiledPolicy::from_yaml_str(&synthetic::policy_yaml(n), "s") else {
            return;
        };
        let pool = synthetic::request_pool(&policy, n, 2_000);
        let kind: usize = std::env::args()
            .nth(1)
            .and_then(|a| a.parse().ok())
            .unwrap_or(0);
        let exact: Vec<_> = pool
            .iter()
            .enumerate()
            .filter(|(k, _)| k % 20 == kind)
            .map(|(_, c)| c)
            .collect();
        black_box(policy.evaluate(&exact[0].0, &exact[0].1, exact[0].2));
        let rounds = 200;
        let t = Instant::now();
        for _ in 0..rounds {
            for (r, _, _) in &exact {
                black_box(policy.resolve(black_box(r)));
            }
        }
        let resolve = t.elapsed().as_nanos() as f64 / (rounds * exact.len()) as f64;
        let t = Instant::now();
        for _ in 0..rounds {
            for (r, f, now) in &exact {
                black_box(policy.evaluate(black_box(r), f, *now));
            }
        }
        let eval = t.elapsed().as_nanos() as f64 / (rounds * exact.len()) as f64;
        let t = Instant::now();
        for _ in 0..rounds {
            for (r, _, _) in &exact {
                black_box(groupgate_core::normalize(black_box(&r.resource)));
            }
        }
        let norm = t.elapsed().as_nanos() as f64 / (rounds * exact.len()) as f64;
        println!(
            "n={n:>6} kind {kind}: normalize {norm:.0} ns, resolve {resolve:.0} ns, evaluate {eval:.0} ns"
        );
    }
}
