//! Bad policy files get errors that name the file, line, column and field,
//! and say what is expected.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use groupgate_core::{CompiledPolicy, PolicyFormat, Severity, lint_policy_text};

const BASE: &str = "version: 1
groups:
  - id: GRP-A
    object_id: 00000000-0000-0000-0000-00000000000a
    managed_via_itsm: true
    approval:
      - name: manager
        approvers: [manager]
catalog:
  - name: App A
    group: GRP-A
";

/// Loads `text`, expects exactly one error with `code`, at `line`:`column`, on `field`.
fn one_error(text: &str, code: &str, field: &str, line: usize, column: usize) -> String {
    let err = CompiledPolicy::from_yaml_str(text, "bad.yaml").unwrap_err();
    assert_eq!(err.diagnostics.len(), 1, "{err}");
    let d = &err.diagnostics[0];
    assert_eq!((d.code.as_str(), d.field.as_str()), (code, field), "{err}");
    let loc = d.location.unwrap_or_else(|| panic!("no location: {err}"));
    assert_eq!((loc.line, loc.column), (line, column), "{err}");
    assert!(d.help.is_some(), "every error says what to do: {err}");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("bad.yaml:{line}:{column}: error[{code}]")),
        "{text}"
    );
    text
}

#[test]
fn the_base_policy_is_valid() {
    CompiledPolicy::from_yaml_str(BASE, "ok.yaml").unwrap();
}

#[test]
fn misspelled_field() {
    let text = one_error(
        &BASE.replace("managed_via_itsm", "manged_via_itsm"),
        "invalid-syntax",
        "groups[0].manged_via_itsm",
        5,
        5,
    );
    assert!(
        text.contains("unknown field `manged_via_itsm`, expected one of"),
        "{text}"
    );
}

#[test]
fn wrong_type() {
    let text = one_error(
        &BASE.replace("managed_via_itsm: true", "managed_via_itsm: maybe"),
        "invalid-syntax",
        "groups[0].managed_via_itsm",
        5,
        23,
    );
    assert!(text.contains("expected a boolean"), "{text}");
}

#[test]
fn unsupported_version() {
    one_error(
        &BASE.replace("version: 1", "version: 3"),
        "unsupported-version",
        "version",
        1,
        1,
    );
}

#[test]
fn catalog_names_an_unknown_group() {
    let text = one_error(
        &BASE.replace("    group: GRP-A", "    group: GRP-B"),
        "unknown-group",
        "catalog[0].group",
        11,
        5,
    );
    assert!(
        text.contains("`GRP-B` is not a group `id` in `groups`"),
        "{text}"
    );
}

#[test]
fn stage_names_an_undefined_approver_role() {
    let text = one_error(
        &BASE.replace("[manager]", "[manager, finance-team]"),
        "unknown-approver",
        "groups[0].approval[0].approvers[1]",
        8,
        30,
    );
    assert!(
        text.contains("`finance-team` is not an approver role"),
        "{text}"
    );
}

#[test]
fn invalid_pattern() {
    let text = one_error(
        &BASE.replace(
            "    group: GRP-A",
            "    patterns: ['(unclosed']\n    group: GRP-A",
        ),
        "invalid-pattern",
        "catalog[0].patterns[0]",
        11,
        16,
    );
    assert!(text.contains("is not a valid regular expression"), "{text}");
}

#[test]
fn bad_timezone_and_duration() {
    let text = BASE.to_owned() + "change_windows:\n  - name: bh\n    timezone: Europe/Atlantis\n";
    one_error(
        &text,
        "unknown-timezone",
        "change_windows[0].timezone",
        14,
        5,
    );
    let text = BASE.replace(
        "        approvers: [manager]",
        "        approvers: [manager]\n    max_duration: forever",
    );
    let text = one_error(&text, "invalid-syntax", "groups[0].max_duration", 9, 19);
    assert!(text.contains("`forever` is not a duration"), "{text}");
}

#[test]
fn every_error_is_reported_at_once() {
    let text = BASE.replace("    group: GRP-A", "    group: GRP-B")
        + "separation_of_duties:\n  - name: x\n    groups: [GRP-A]\n";
    let err = CompiledPolicy::from_yaml_str(&text, "bad.yaml").unwrap_err();
    let codes: Vec<_> = err.diagnostics.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["too-few-groups", "unknown-group"], "{err}");
    assert!(err.diagnostics.iter().all(|d| d.location.is_some()));
}

#[test]
fn json_policies_get_the_same_checks() {
    let doc: serde_json::Value = groupgate_core::input::from_yaml(
        &BASE.replace("group: GRP-A", "group: GRP-Z"),
        &Default::default(),
    )
    .unwrap();
    let json = serde_json::to_string_pretty(&doc).unwrap();
    let err = CompiledPolicy::from_json_str(&json, "bad.json").unwrap_err();
    assert_eq!(err.diagnostics[0].code, "unknown-group");
    assert!(err.diagnostics[0].location.is_some(), "{err}");
}

#[test]
fn lint_warns_about_likely_mistakes() {
    let text = "version: 1
groups:
  - {id: G1, object_id: o1, managed_via_itsm: true, approval: [{name: m, approvers: [manager]}]}
  - {id: G2, object_id: o2, managed_via_itsm: true, approval: [{name: m, approvers: [manager]}]}
  - {id: G3, object_id: o3, managed_via_itsm: true}
catalog:
  - {name: Portal, group: G1}
  - {name: Other, aliases: [portal], group: G2}
  - {name: Third, patterns: ['Third-App'], group: G3}
tag_rules:
  - {tag: nobody-has-this, max_duration: 30d}
";
    let found = lint_policy_text(text, PolicyFormat::Yaml);
    let codes: Vec<_> = found
        .iter()
        .map(|d| (d.code.as_str(), d.severity))
        .collect();
    assert!(
        codes.contains(&("ambiguous-name", Severity::Warning)),
        "{codes:?}"
    );
    assert!(
        codes.contains(&("no-approval-path", Severity::Warning)),
        "{codes:?}"
    );
    assert!(
        codes.contains(&("unreachable-pattern", Severity::Warning)),
        "{codes:?}"
    );
    assert!(
        codes.contains(&("unused-tag-rule", Severity::Warning)),
        "{codes:?}"
    );
    assert!(found.iter().all(|d| d.location.is_some()), "{found:?}");
    // An invalid policy's errors come through lint too.
    let found = lint_policy_text("version: 1\ngroups: 7\n", PolicyFormat::Yaml);
    assert_eq!(found[0].severity, Severity::Error);
    assert_eq!(found[0].location.unwrap().line, 2);
}

#[test]
fn the_example_policy_lints_clean_of_errors() {
    let text = include_str!("../../../examples/policy.yaml");
    let found = lint_policy_text(text, PolicyFormat::Yaml);
    assert!(
        found.iter().all(|d| d.severity == Severity::Warning),
        "{found:?}"
    );
}

#[test]
fn the_published_schema_matches_the_code() {
    let committed = include_str!("../../../docs/policy.schema.json");
    assert_eq!(
        committed,
        groupgate_core::policy_json_schema(),
        "run `groupgate policy schema > docs/policy.schema.json`"
    );
}

#[test]
fn every_reason_code_is_documented() {
    let doc = include_str!("../../../docs/reason-codes.md");
    for code in groupgate_core::ReasonCode::ALL {
        assert!(
            doc.contains(&format!("| `{}` |", code.as_str())),
            "docs/reason-codes.md lacks `{code}`"
        );
    }
    let documented = doc.lines().filter(|l| l.starts_with("| `")).count();
    assert_eq!(
        documented,
        groupgate_core::ReasonCode::ALL.len(),
        "docs/reason-codes.md lists a code the code lacks"
    );
}

#[test]
fn the_policy_reference_example_is_the_example_policy() {
    let reference = include_str!("../../../docs/policy.md");
    let example = include_str!("../../../examples/policy.yaml");
    assert!(
        reference.contains(example.trim()),
        "docs/policy.md must embed examples/policy.yaml verbatim"
    );
}

/// BASE with one approver group whose body is `body` (lines from line 4 on).
fn with_approver_group(body: &str) -> String {
    BASE.replacen(
        "version: 1\n",
        &format!("version: 1\napprover_groups:\n  - name: security\n{body}"),
        1,
    )
}

#[test]
fn directory_approver_groups_are_checked() {
    const TEAM: &str = "6f2a0000-0000-0000-0000-0000000000c1";
    one_error(
        &with_approver_group(&format!(
            "    members: [sam@contoso.com]\n    directory_group: {TEAM}\n"
        )),
        "conflicting-approvers",
        "approver_groups[0].directory_group",
        5,
        5,
    );
    one_error(
        &with_approver_group("    directory_group: security-team\n"),
        "invalid-object-id",
        "approver_groups[0].directory_group",
        4,
        5,
    );
    one_error(
        &with_approver_group("    members: [sam@contoso.com]\n    transitive: true\n"),
        "stray-setting",
        "approver_groups[0].transitive",
        5,
        5,
    );
    let text = one_error(
        &with_approver_group(&format!(
            "    directory_group: {TEAM}\n    max_members: 0\n"
        )),
        "out-of-range",
        "approver_groups[0].max_members",
        5,
        5,
    );
    assert!(text.contains("1 to 5000"), "{text}");
    one_error(
        &with_approver_group("    transitive: false\n"),
        "empty-approver-group",
        "approver_groups[0].members",
        3,
        5,
    );
    CompiledPolicy::from_yaml_str(
        &with_approver_group(&format!(
            "    directory_group: {TEAM}\n    transitive: true\n    max_members: 5000\n"
        )),
        "ok.yaml",
    )
    .unwrap();
}
