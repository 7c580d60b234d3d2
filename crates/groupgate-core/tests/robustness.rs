//! Robustness properties: damaged policy files and arbitrary request text
//! never panic; a policy that does not load always says what and where.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

mod common;

use common::*;
use groupgate_core::{CompiledPolicy, PolicyError, evaluate_with_snapshot};
use proptest::prelude::*;
use std::sync::LazyLock;

const EXAMPLE: &str = include_str!("../../../examples/policy.yaml");

static POLICY_ONCE: LazyLock<CompiledPolicy> = LazyLock::new(policy);

/// An edit of the example policy: bytes `start..start+len` (clamped to char
/// boundaries) replaced by `insert`.
fn damaged() -> impl Strategy<Value = String> {
    (
        0..EXAMPLE.len(),
        0usize..40,
        prop_oneof![
            Just(String::new()),
            Just(":".to_owned()),
            Just("\n  - ".to_owned()),
            Just("{".to_owned()),
            Just("'".to_owned()),
            Just("\t".to_owned()),
            "\\PC{0,12}",
        ],
    )
        .prop_map(|(start, len, insert)| {
            let mut start = start;
            while !EXAMPLE.is_char_boundary(start) {
                start -= 1;
            }
            let mut end = (start + len).min(EXAMPLE.len());
            while !EXAMPLE.is_char_boundary(end) {
                end += 1;
            }
            format!("{}{insert}{}", &EXAMPLE[..start], &EXAMPLE[end..])
        })
}

fn assert_explained(err: &PolicyError, text: &str) {
    assert!(!err.diagnostics.is_empty(), "an error without diagnostics");
    let lines = text.lines().count().max(1);
    for d in &err.diagnostics {
        assert!(!d.message.trim().is_empty(), "an empty message: {d:?}");
        assert!(!d.code.is_empty(), "no code: {d:?}");
        if let Some(at) = d.location {
            assert!(
                at.line >= 1 && at.line <= lines + 1,
                "line {} outside a {lines}-line text: {d:?}",
                at.line
            );
        }
    }
    assert!(!err.to_string().is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn a_damaged_policy_loads_or_says_what_and_where(text in damaged()) {
        if let Err(err) = CompiledPolicy::from_yaml_str(&text, "policy.yaml") {
            assert_explained(&err, &text);
        }
    }

    #[test]
    fn arbitrary_text_is_refused_with_an_explanation(text in "\\PC{0,300}") {
        for result in [
            CompiledPolicy::from_yaml_str(&text, "policy.yaml"),
            CompiledPolicy::from_json_str(&text, "policy.json"),
        ] {
            if let Err(err) = result {
                assert_explained(&err, &text);
            }
        }
    }

    #[test]
    fn any_resource_text_gets_a_decision(resource in "\\PC{0,200}") {
        let req = request("ada.lovelace@contoso.com", "ada.lovelace@contoso.com", &resource);
        let decision = evaluate_with_snapshot(&POLICY_ONCE, &req, &directory(), business_hours());
        // Every decision explains itself and serialises.
        prop_assert!(!decision.reasons.is_empty());
        prop_assert!(serde_json::to_string(&decision).is_ok());
    }
}
