//! Facts and directory snapshots from any text (bounded), and a decision
//! made on them: never a panic.
#![no_main]

use groupgate_core::input::{Limits, from_json, from_yaml};
use groupgate_core::{CompiledPolicy, DirectorySnapshot, Facts, Request};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn policy() -> &'static CompiledPolicy {
    static POLICY: OnceLock<CompiledPolicy> = OnceLock::new();
    POLICY.get_or_init(|| {
        CompiledPolicy::from_yaml_str(include_str!("../../examples/policy.yaml"), "policy.yaml")
            .unwrap_or_else(|e| panic!("the example policy loads: {e}"))
    })
}

fn request() -> Request {
    Request {
        ticket: "RITM0000001".into(),
        requester: "ada.lovelace@contoso.com".into(),
        target: "ada.lovelace@contoso.com".into(),
        resource: "Finance BI".into(),
        end_date: None,
        justification: String::new(),
        suggestion: None,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let limits = Limits::small();
    let now = chrono::DateTime::from_timestamp(1_795_000_000, 0).unwrap_or_default();
    let request = request();
    if let Ok(facts) = from_yaml::<Facts>(text, &limits) {
        let _ = policy().evaluate(&request, &facts, now);
    }
    if let Ok(facts) = from_json::<Facts>(text, &limits) {
        let _ = policy().evaluate(&request, &facts, now);
    }
    if let Ok(snapshot) = from_yaml::<DirectorySnapshot>(text, &limits) {
        let facts = snapshot.facts_for(&request, &policy().fact_needs(&request));
        let _ = policy().evaluate(&request, &facts, now);
    }
});
