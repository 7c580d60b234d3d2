//! A request from any text (YAML or JSON, bounded), evaluated against the
//! example policy: a decision or a load error, never a panic.
#![no_main]

use groupgate_core::input::{Limits, from_json, from_yaml};
use groupgate_core::{CompiledPolicy, Facts, Request};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn policy() -> &'static CompiledPolicy {
    static POLICY: OnceLock<CompiledPolicy> = OnceLock::new();
    POLICY.get_or_init(|| {
        CompiledPolicy::from_yaml_str(include_str!("../../examples/policy.yaml"), "policy.yaml")
            .unwrap_or_else(|e| panic!("the example policy loads: {e}"))
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let limits = Limits::small();
    let now = chrono::DateTime::from_timestamp(1_795_000_000, 0).unwrap_or_default();
    for request in [
        from_yaml::<Request>(text, &limits).ok(),
        from_json::<Request>(text, &limits).ok(),
    ]
    .into_iter()
    .flatten()
    {
        let decision = policy().evaluate(&request, &Facts::default(), now);
        let _ = serde_json::to_string(&decision);
        let _ = policy().fact_needs(&request);
    }
});
