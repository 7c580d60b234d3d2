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
        let Ok(doc) = groupgate_core::input::from_yaml::<groupgate_core::PolicyDocument>(
            &text,
            &Default::default(),
        ) else {
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
        let t = Instant::now();
        let events = yaml_rust2_events(&text);
        let events_time = t.elapsed();
        println!(
            "n={n} yaml={}B parse={parsed:?} compile={compiled:?} yaml_load={full:?} json_load={json_total:?} yaml_rust2_events={events_time:?} ({events}) {ok} {ok_full} {ok_json}",
            text.len()
        );
    }
}

/// Iterates yaml-rust2's parser events over `text` (no tree): the cost of
/// the event parser alone, for comparing YAML front ends.
pub fn yaml_rust2_events(text: &str) -> usize {
    let mut parser = yaml_rust2::parser::Parser::new_from_str(text);
    let mut n = 0;
    while let Ok((event, _)) = parser.next_token() {
        n += 1;
        if event == yaml_rust2::parser::Event::StreamEnd {
            break;
        }
    }
    n
}
