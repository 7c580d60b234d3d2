//! Hostile inputs: every one is refused quickly, with the limit named and
//! how to raise it, never a stack overflow, a quadratic stall or an
//! allocation storm.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use groupgate_core::input::{LimitKind, Limits, from_yaml};
use groupgate_core::{CompiledPolicy, PolicyFormat};
use std::time::{Duration, Instant};

/// A generous ceiling on debug builds: these all fail in milliseconds.
const QUICK: Duration = Duration::from_secs(5);

fn refused(text: &str, limit: LimitKind) {
    let start = Instant::now();
    let err = CompiledPolicy::from_yaml_str(text, "hostile.yaml").unwrap_err();
    assert!(start.elapsed() < QUICK, "took {:?}", start.elapsed());
    let d = &err.diagnostics[0];
    assert_eq!(d.code, "input-limit", "{err}");
    assert!(d.message.contains(limit.variable()), "{err}");
    assert!(
        d.help
            .as_deref()
            .unwrap_or_default()
            .contains(limit.variable()),
        "{err}"
    );
    assert!(err.to_string().starts_with("hostile.yaml"), "{err}");
}

#[test]
fn deeply_nested_sequences_do_not_overflow_the_stack() {
    // 10 KB of `- - - …`: about 4,000 levels.
    let text = "- ".repeat(5000) + "x\n";
    refused(&text, LimitKind::Depth);
    let text = "[".repeat(100_000) + &"]".repeat(100_000);
    refused(&text, LimitKind::Depth);
}

#[test]
fn nested_flow_maps_are_linear() {
    // 200 KB of `{a: {a: …}}`.
    let depth = 20_000;
    let text = "{a: ".repeat(depth) + "1" + &"}".repeat(depth);
    assert!(text.len() > 100_000);
    refused(&text, LimitKind::Depth);
}

#[test]
fn alias_bombs_stop_at_the_node_limit() {
    // 6 KB that would expand to billions of nodes.
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let prev = i - 1;
        text.push_str(&format!(
            "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
        ));
    }
    text.push_str("version: 1\n");
    assert!(text.len() < 8_000);
    refused(&text, LimitKind::Nodes);
}

#[test]
fn size_and_string_limits_are_enforced_and_can_be_raised() {
    let limits = Limits {
        max_bytes: 100,
        ..Limits::default()
    };
    let text = format!("version: 1\ndescription: {}\n", "x".repeat(200));
    let err = CompiledPolicy::from_str_with_limits(&text, PolicyFormat::Yaml, "p.yaml", &limits)
        .unwrap_err();
    assert!(err.to_string().contains("GROUPGATE_LIMIT_BYTES"), "{err}");
    let limits = Limits {
        max_string: 50,
        ..Limits::default()
    };
    let err = CompiledPolicy::from_str_with_limits(&text, PolicyFormat::Yaml, "p.yaml", &limits)
        .unwrap_err();
    assert!(err.to_string().contains("GROUPGATE_LIMIT_STRING"), "{err}");
    assert_eq!(err.diagnostics[0].location.map(|l| l.line), Some(2));
    // Raised from the environment's names.
    let raised = Limits::default()
        .with_overrides(|k| (k == "GROUPGATE_LIMIT_DEPTH").then(|| "9000".to_owned()));
    assert_eq!(raised.max_depth, 9000);
    let deep = "[".repeat(100) + &"]".repeat(100);
    assert!(from_yaml::<serde_json::Value>(&deep, &raised).is_ok());
}

#[test]
fn duplicate_keys_and_several_documents_are_refused_with_their_place() {
    let err = from_yaml::<serde_json::Value>("a: 1\nb: 2\na: 3\n", &Limits::default()).unwrap_err();
    assert!(err.message.contains("duplicate key `a`"), "{err}");
    assert_eq!(err.location.map(|l| l.line), Some(3));
    let err = from_yaml::<serde_json::Value>("a: 1\n---\nb: 2\n", &Limits::default()).unwrap_err();
    assert!(err.message.contains("more than one YAML document"), "{err}");
}

#[test]
fn yaml_values_read_as_their_target_types() {
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct T {
        s: String,
        n: u32,
        f: f64,
        b: bool,
        o: Option<String>,
        l: Vec<String>,
        q: String,
    }
    let t: T = from_yaml(
        "s: 07:00\nn: 0x10\nf: 1.5e3\nb: true\no: ~\nl: [1, two, 'three']\nq: '12'\n",
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(
        t,
        T {
            s: "07:00".into(),
            n: 16,
            f: 1500.0,
            b: true,
            o: None,
            l: vec!["1".into(), "two".into(), "three".into()],
            q: "12".into()
        }
    );
    let v: serde_json::Value =
        from_yaml("a: [1, -2, 2.5, true, null, x, '1']", &Limits::default()).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"a": [1, -2, 2.5, true, null, "x", "1"]})
    );
}
