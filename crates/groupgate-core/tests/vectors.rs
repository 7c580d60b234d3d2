//! Shared conformance vectors (`tests/vectors/*.json`): policy + request +
//! facts + now → expected decision. The Python and Node bindings run the same
//! files. Each vector's `expect` is hand-written; its `decision` is the full
//! canonical JSON, which must match byte for byte.
//!
//! `GROUPGATE_BLESS=1 cargo test --test vectors` fills in `facts` (from the
//! named directory snapshot) and `decision` for new vectors; review the diff.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use groupgate_core::{CompiledPolicy, DirectorySnapshot, Expectation, Facts, Request};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Vector {
    name: String,
    description: String,
    policy: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    directory: Option<String>,
    now: String,
    request: Request,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    facts: Option<Facts>,
    expect: Expectation,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    decision: Option<serde_json::Value>,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn conformance_vectors() {
    let bless = std::env::var_os("GROUPGATE_BLESS").is_some();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(root().join("tests/vectors"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    assert!(
        paths.len() >= 10,
        "expected the conformance vectors, found {}",
        paths.len()
    );
    let mut failures = Vec::new();
    for path in &paths {
        let mut v: Vector = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let policy_text = std::fs::read_to_string(root().join(&v.policy)).unwrap();
        let policy = CompiledPolicy::from_yaml_str(&policy_text, &v.policy).unwrap();
        let now = v.now.parse().unwrap();
        // `GROUPGATE_BLESS=facts` re-derives every vector's facts too.
        let refresh = std::env::var("GROUPGATE_BLESS").is_ok_and(|v| v == "facts");
        if (v.facts.is_none() || refresh) && bless {
            let dir: DirectorySnapshot = groupgate_core::input::from_yaml(
                &std::fs::read_to_string(root().join(v.directory.as_ref().unwrap())).unwrap(),
                &Default::default(),
            )
            .unwrap();
            v.facts = Some(dir.facts_for(&v.request, &policy.fact_needs(&v.request)));
        }
        let facts = v
            .facts
            .clone()
            .unwrap_or_else(|| panic!("{}: no facts (run with GROUPGATE_BLESS=1)", v.name));
        let decision = policy.evaluate(&v.request, &facts, now);
        for m in v.expect.mismatches(&decision) {
            failures.push(format!("{}: {m}", v.name));
        }
        let got: serde_json::Value = serde_json::from_str(&decision.to_canonical_json()).unwrap();
        match (&v.decision, bless) {
            (_, true) => {
                v.decision = Some(got);
                let mut text = serde_json::to_string_pretty(&v).unwrap();
                text.push('\n');
                std::fs::write(path, text).unwrap();
            }
            (Some(want), false) => {
                // Byte-identical canonical JSON, not just equal values.
                let want_decision: groupgate_core::Decision =
                    serde_json::from_value(want.clone()).unwrap();
                if want_decision.to_canonical_json() != decision.to_canonical_json() || want != &got
                {
                    failures.push(format!(
                        "{}: decision differs from the recorded one",
                        v.name
                    ));
                }
            }
            (None, false) => failures.push(format!(
                "{}: no recorded decision (run with GROUPGATE_BLESS=1)",
                v.name
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
