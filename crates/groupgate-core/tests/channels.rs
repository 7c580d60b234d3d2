//! Where each stage is asked: a group's own approval channels, else its tag
//! rules' (combined), else the policy's default; unknown names refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use groupgate_core::{CompiledPolicy, Facts, Group, Request, User, UserType};

const POLICY: &str = "version: 1
approvals: {channels: [servicenow]}
tag_rules:
  - {tag: financial-data, approval_channels: [servicenow, teams]}
  - {tag: chatty, approval_channels: [Slack]}
groups:
  - id: FIN
    object_id: g-fin
    managed_via_itsm: true
    tags: [financial-data, chatty]
    approval: [{name: manager, approvers: [manager]}]
  - id: OPS
    object_id: g-ops
    managed_via_itsm: true
    tags: [financial-data]
    approval_channels: [slack]
    approval: [{name: manager, approvers: [manager]}]
  - id: PLAIN
    object_id: g-plain
    managed_via_itsm: true
    approval: [{name: manager, approvers: [manager]}]
catalog:
  - {name: Fin, group: FIN}
  - {name: Ops, group: OPS}
  - {name: Plain, group: PLAIN}
";

fn user(id: &str) -> User {
    User {
        id: id.into(),
        upn: format!("{id}@contoso.com").into(),
        display_name: None,
        enabled: true,
        user_type: UserType::Member,
        employee_type: None,
    }
}

fn channels(policy: &CompiledPolicy, resource: &str, group: &str) -> Vec<String> {
    let request: Request = serde_json::from_value(serde_json::json!({
        "ticket": "T1", "requester": "req", "target": "tgt", "resource": resource
    }))
    .unwrap();
    let facts = Facts {
        requester: Some(user("req")),
        target: Some(user("tgt")),
        target_manager: Some(user("boss")),
        group: Some(Group::security(group, resource)),
        ..Facts::default()
    };
    let d = policy.evaluate(&request, &facts, "2026-11-25T10:00:00Z".parse().unwrap());
    assert_eq!(d.stages.len(), 1, "{:?}", d.reasons);
    d.stages[0].channels.iter().map(|c| c.to_string()).collect()
}

#[test]
fn a_stage_is_asked_where_the_policy_says() {
    let policy = CompiledPolicy::from_yaml_str(POLICY, "p.yaml").unwrap();
    assert_eq!(
        channels(&policy, "Fin", "g-fin"),
        ["servicenow", "teams", "slack"]
    );
    assert_eq!(channels(&policy, "Ops", "g-ops"), ["slack"]);
    assert_eq!(channels(&policy, "Plain", "g-plain"), ["servicenow"]);
}

#[test]
fn no_channels_named_means_every_channel_and_the_json_is_unchanged() {
    let text = POLICY.replace("approvals: {channels: [servicenow]}\n", "");
    let policy = CompiledPolicy::from_yaml_str(&text, "p.yaml").unwrap();
    assert!(channels(&policy, "Plain", "g-plain").is_empty());
}

#[test]
fn unknown_channels_are_refused_where_they_are_named() {
    let text = POLICY.replace(
        "approval_channels: [slack]",
        "approval_channels: [slack, pager]",
    );
    let err = CompiledPolicy::from_yaml_str(&text, "p.yaml").unwrap_err();
    let d = &err.diagnostics[0];
    assert_eq!(d.code, "unknown-channel");
    assert_eq!(d.field, "groups[1].approval_channels[1]");
    assert_eq!(d.location.unwrap().line, 16);
    assert!(d.message.contains("`pager`"), "{}", d.message);
}
