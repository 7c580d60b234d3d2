//! Loads a synthetic policy of N entries repeatedly, for profilers
//! (`perf record -g target/release/examples/load_policy 10000`).

#[path = "../benches/decision/synthetic.rs"]
#[allow(dead_code)] // shared with the benchmark; not every helper is used here
mod synthetic;

use std::time::Instant;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let text = synthetic::policy_yaml(n);
    for _ in 0..3 {
        let t = Instant::now();
        let Ok(doc) = serde_yaml_ng::from_str::<groupgate_core::PolicyDocument>(&text) else {
            return;
        };
        let parsed = t.elapsed();
        let json = serde_json::to_string(&doc).unwrap_or_default();
        let t = Instant::now();
        let ok = groupgate_core::CompiledPolicy::from_document(doc).is_ok();
        let compiled = t.elapsed();
        let t = Instant::now();
        let ok_full = groupgate_core::CompiledPolicy::from_yaml_str(&text, "s.yaml").is_ok();
        let full = t.elapsed();
        let t = Instant::now();
        let ok_json = groupgate_core::CompiledPolicy::from_json_str(&json, "s.json").is_ok();
        let json_total = t.elapsed();
        println!(
            "n={n} yaml={}B parse={parsed:?} compile={compiled:?} yaml_load={full:?} json_load={json_total:?} {ok} {ok_full} {ok_json}",
            text.len()
        );
    }
}
