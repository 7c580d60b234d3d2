//! Scenario tests of the evaluator on the example policy: one test per rule.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

mod common;

use common::*;
use groupgate_core::{
    CompiledPolicy, Effect, Facts, Group, MembershipState, Outcome, ReasonCode, Suggestion,
};

fn codes(d: &groupgate_core::Decision) -> Vec<&'static str> {
    d.reasons.iter().map(|r| r.code.as_str()).collect()
}

#[test]
fn mini_example_1_finance_bi_needs_the_data_owner() {
    let p = policy();
    let d = decide(&p, &request(ADA, ADA, "Access to Finance BI"));
    assert_eq!(d.outcome, Outcome::NeedsApproval, "{:?}", codes(&d));
    let g = d.group.as_ref().unwrap();
    assert_eq!(&*g.key, "GRP-FINANCE-BI-READ");
    assert_eq!(
        g.tags.iter().map(|t| &**t).collect::<Vec<_>>(),
        ["financial-data"]
    );
    let stages: Vec<_> = d.stages.iter().map(|s| (&*s.name, &*s.source)).collect();
    assert_eq!(
        stages,
        [
            ("manager", "groups[GRP-FINANCE-BI-READ]"),
            ("data-owner", "tag_rules[financial-data]")
        ]
    );
    assert_eq!(&*d.stages[0].approvers[0].name, GRACE);
    assert_eq!(
        d.stages[0].approvers[0].id,
        id_of(GRACE),
        "known by object id"
    );
    assert_eq!(&*d.stages[1].approvers[0].name, "dora.data@contoso.com");
    assert_eq!(&*d.stages[1].approvers[0].role, "data_owner");
    // The tag rule's 180 days beats the group's 365 days: the shortest cap wins.
    let e = d.expiry.as_ref().unwrap();
    assert_eq!(e.max_duration_seconds, Some(180 * 86_400));
    assert_eq!(
        e.max_duration_rule.as_deref(),
        Some("tag_rules[financial-data]")
    );
    assert_eq!(d.approval_deadline, Some(at("2026-12-02T10:00:00Z")));
    assert_eq!(&*d.policy_digest, p.digest());
}

#[test]
fn mini_example_2_contractor_until_end_date_with_manager_approval() {
    let p = policy();
    let mut r = request(PAT, CARL, "Add contractor to Team Alpha");
    r.end_date = Some(at("2027-01-31T17:00:00Z").into());
    let d = decide(&p, &r);
    assert_eq!(d.outcome, Outcome::NeedsApproval, "{:?}", codes(&d));
    assert_eq!(&*d.group.as_ref().unwrap().key, "GRP-TEAM-ALPHA");
    assert_eq!(d.stages.len(), 1);
    assert_eq!(&*d.stages[0].approvers[0].name, MIA);
    assert!(d.has_reason(ReasonCode::ContractorRule));
    assert!(!d.has_reason(ReasonCode::ExpiryCapped));
    let e = d.expiry.as_ref().unwrap();
    assert_eq!(e.projected, at("2027-01-31T17:00:00Z"));
    assert_eq!(e.max_duration_seconds, Some(90 * 86_400));
}

#[test]
fn contractor_cap_counts_from_grant_not_request() {
    let p = policy();
    let mut r = request(PAT, CARL, "Team Alpha");
    r.end_date = Some(at("2027-06-30T00:00:00Z").into());
    let d = decide(&p, &r);
    assert!(d.has_reason(ReasonCode::ExpiryCapped));
    let e = d.expiry.as_ref().unwrap();
    // Granted right away: 90 days from the decision time.
    assert_eq!(
        e.projected,
        at("2026-02-23T10:00:00Z") + chrono::TimeDelta::days(365)
    );
    // Granted two weeks later (approvals took time): 90 days from then.
    assert_eq!(
        e.expires_at(at("2026-12-09T10:00:00Z")),
        at("2027-03-09T10:00:00Z")
    );
}

#[test]
fn contractor_without_end_date_is_denied() {
    let d = decide(&policy(), &request(PAT, CARL, "Team Alpha"));
    assert_eq!(d.outcome, Outcome::Deny);
    assert!(d.has_reason(ReasonCode::EndDateRequired));
    assert!(d.stages.is_empty() && d.expiry.is_none() && d.earliest_execution.is_none());
}

#[test]
fn end_date_in_the_past_is_denied() {
    let mut r = request(PAT, CARL, "Team Alpha");
    r.end_date = Some(at("2026-11-01T00:00:00Z").into());
    let d = decide(&policy(), &r);
    assert!(d.has_reason(ReasonCode::EndDateNotInFuture));
    assert_eq!(d.outcome, Outcome::Deny);
}

fn group_facts(
    p: &CompiledPolicy,
    resource: &str,
    change: impl Fn(&mut Group),
) -> groupgate_core::Decision {
    let r = request(ADA, ADA, resource);
    let mut f = facts(p, &r);
    change(f.group.as_mut().unwrap());
    p.evaluate(&r, &f, business_hours())
}

#[test]
fn unmanageable_group_kinds_are_denied_from_directory_facts() {
    let p = policy();
    type Change = fn(&mut Group);
    let cases: [(Change, ReasonCode); 5] = [
        (
            |g| g.role_assignable = true,
            ReasonCode::GroupRoleAssignable,
        ),
        (
            |g| g.dynamic_membership = true,
            ReasonCode::GroupDynamicMembership,
        ),
        (
            |g| g.on_premises_synced = true,
            ReasonCode::GroupOnPremisesSynced,
        ),
        (
            |g| g.mail_enabled = true,
            ReasonCode::GroupMailEnabledSecurity,
        ),
        (
            |g| {
                g.mail_enabled = true;
                g.security_enabled = false
            },
            ReasonCode::GroupDistributionList,
        ),
    ];
    for (change, code) in cases {
        let d = group_facts(&p, "Finance BI", change);
        assert_eq!(d.outcome, Outcome::Deny, "{code:?}");
        assert!(d.has_reason(code), "{code:?}: {:?}", codes(&d));
    }
    // The policy marks GRP-ENTRA-ADMINS managed; the directory says role-assignable.
    let d = decide(&p, &request(GRACE, ADA, "Helpdesk Admin"));
    assert_eq!(d.outcome, Outcome::Deny);
    assert!(d.has_reason(ReasonCode::GroupRoleAssignable));
}

#[test]
fn missing_or_mismatched_group_facts_are_denied() {
    let p = policy();
    let r = request(ADA, ADA, "Finance BI");
    let mut f = facts(&p, &r);
    f.group = None;
    assert!(
        p.evaluate(&r, &f, business_hours())
            .has_reason(ReasonCode::GroupNotInDirectory)
    );
    let mut f = facts(&p, &r);
    f.group.as_mut().unwrap().id = "bbbbbbbb-0000-0000-0000-000000000001".into();
    let d = p.evaluate(&r, &f, business_hours());
    assert!(d.has_reason(ReasonCode::GroupFactsMismatch));
    assert_eq!(d.outcome, Outcome::Deny);
}

#[test]
fn disabled_or_missing_people_are_denied() {
    let p = policy();
    let d = decide(&p, &request(ADA, EVE, "Finance BI"));
    assert!(d.has_reason(ReasonCode::TargetDisabled));
    assert_eq!(d.outcome, Outcome::Deny);
    let d = decide(&p, &request(EVE, ADA, "Finance BI"));
    assert!(d.has_reason(ReasonCode::RequesterDisabled));
    let d = decide(&p, &request("nobody@contoso.com", ADA, "Finance BI"));
    assert!(d.has_reason(ReasonCode::RequesterNotFound));
    let d = decide(&p, &request(ADA, "ghost@contoso.com", "Finance BI"));
    assert!(d.has_reason(ReasonCode::TargetNotFound));
    assert_eq!(d.outcome, Outcome::Deny);
}

#[test]
fn facts_about_another_person_do_not_count() {
    let p = policy();
    let r = request(ADA, ADA, "Finance BI");
    let mut f = facts(&p, &r);
    f.target = directory().user(GRACE);
    let d = p.evaluate(&r, &f, business_hours());
    assert!(d.has_reason(ReasonCode::TargetNotFound));
}

#[test]
fn unknown_and_unmanaged_groups_are_denied() {
    let p = policy();
    let d = decide(&p, &request(ADA, ADA, "Payroll Admin Console"));
    assert_eq!(d.outcome, Outcome::Deny);
    assert!(d.has_reason(ReasonCode::ResourceUnresolved));
    assert!(d.group.is_none());
    let d = decide(&p, &request(ADA, ADA, "Sales Dashboard"));
    assert!(d.has_reason(ReasonCode::GroupNotManaged));
    assert!(d.has_reason(ReasonCode::GroupDynamicMembership));
    assert_eq!(d.outcome, Outcome::Deny);
}

#[test]
fn existing_membership_is_a_no_op() {
    let p = policy();
    let d = decide(&p, &request(MIA, PAT, "Team Alpha"));
    assert_eq!(d.outcome, Outcome::AlreadyMember, "{:?}", codes(&d));
    assert!(d.has_reason(ReasonCode::AlreadyMember));
    assert!(d.stages.is_empty());
    // Tom is in Team Alpha Core, nested in Team Alpha: access already, transitively.
    let d = decide(&p, &request(PAT, TOM, "Team Alpha"));
    assert_eq!(d.outcome, Outcome::AlreadyMember);
    assert!(d.has_reason(ReasonCode::AlreadyTransitiveMember));
}

#[test]
fn a_deny_beats_a_no_op() {
    let p = policy();
    let r = request(ADA, ADA, "Finance BI");
    let mut f = facts(&p, &r);
    f.membership = MembershipState::Direct;
    f.group.as_mut().unwrap().role_assignable = true;
    assert_eq!(p.evaluate(&r, &f, business_hours()).outcome, Outcome::Deny);
}

#[test]
fn suggestion_is_only_a_hint_when_the_catalog_resolves() {
    let p = policy();
    let mut r = request(ADA, ADA, "Finance BI");
    r.suggestion = Some(Suggestion {
        group: "GRP-TEAM-ALPHA".into(),
        source: "ai-triage".into(),
        confidence: Some(0.97),
    });
    let d = decide(&p, &r);
    assert_eq!(&*d.group.as_ref().unwrap().key, "GRP-FINANCE-BI-READ");
    assert!(d.has_reason(ReasonCode::SuggestionMismatch));
    r.suggestion.as_mut().unwrap().group = "aaaaaaaa-0000-0000-0000-000000000001".into();
    assert!(decide(&p, &r).has_reason(ReasonCode::SuggestionConfirmed));
}

#[test]
fn suggestion_for_unresolved_text_adds_a_triage_stage() {
    let p = policy();
    let mut r = request(ADA, ADA, "the finance dashboards thing");
    r.suggestion = Some(Suggestion {
        group: "Finance BI".into(),
        source: "ai-triage".into(),
        confidence: None,
    });
    let d = decide(&p, &r);
    assert_eq!(d.outcome, Outcome::NeedsApproval, "{:?}", codes(&d));
    assert!(d.has_reason(ReasonCode::ResolvedBySuggestion));
    let names: Vec<_> = d.stages.iter().map(|s| &*s.name).collect();
    assert_eq!(names, ["manager", "data-owner", "triage"]);
    let triage: Vec<_> = d.stages[2].approvers.iter().map(|a| &*a.name).collect();
    assert_eq!(triage, ["bianca.bi@contoso.com", "lea.lead@contoso.com"]);
}

#[test]
fn suggestion_cannot_lower_approvals_via_a_standard_change() {
    let p = policy();
    // Grace is Ivan's manager: through the catalog, Team Alpha is a standard change…
    let direct = decide(&p, &request(GRACE, IVAN, "Team Alpha"));
    assert_eq!(direct.outcome, Outcome::PreApproved, "{:?}", codes(&direct));
    // …but named only by a suggestion, no standard change applies. Grace may
    // not approve her own request, so the manager stage cannot be met.
    let suggested = |requester: &str| {
        let mut r = request(requester, IVAN, "something for my team");
        r.suggestion = Some(Suggestion {
            group: "GRP-TEAM-ALPHA".into(),
            source: "ai-triage".into(),
            confidence: Some(0.99),
        });
        decide(&p, &r)
    };
    let d = suggested(GRACE);
    assert_eq!(d.outcome, Outcome::Deny);
    assert!(!d.has_reason(ReasonCode::StandardChange));
    assert!(d.has_reason(ReasonCode::StageUnsatisfiable));
    // Asked by someone else, it needs the manager and the triage stage.
    let d = suggested(ADA);
    assert_eq!(d.outcome, Outcome::NeedsApproval, "{:?}", codes(&d));
    let names: Vec<_> = d.stages.iter().map(|s| &*s.name).collect();
    assert_eq!(names, ["manager", "triage"]);
}

#[test]
fn suggestion_outside_the_catalog_is_denied() {
    let p = policy();
    let mut r = request(ADA, ADA, "the finance dashboards thing");
    r.suggestion = Some(Suggestion {
        group: "GRP-GLOBAL-ADMINS".into(),
        source: "ai-triage".into(),
        confidence: Some(0.99),
    });
    let d = decide(&p, &r);
    assert_eq!(d.outcome, Outcome::Deny);
    assert!(d.has_reason(ReasonCode::SuggestionNotInCatalog));
    // A policy group without a catalog entry is not "in the catalog" either.
    r.suggestion.as_mut().unwrap().group = "GRP-SALES-ALL".into();
    assert!(!decide(&p, &r).is_allowed());
}

#[test]
fn unresolved_requests_list_close_catalog_entries() {
    let d = decide(&policy(), &request(ADA, ADA, "acess to finanse BI"));
    assert_eq!(d.outcome, Outcome::Deny);
    assert_eq!(&*d.suggestions[0].entry, "Finance BI");
    assert_eq!(&*d.suggestions[0].group, "GRP-FINANCE-BI-READ");
    assert!(d.suggestions[0].score > 0.5);
    assert!(d.suggestions.windows(2).all(|w| w[0].score >= w[1].score));
}

#[test]
fn ambiguous_text_is_never_guessed() {
    let d = decide(&policy(), &request(ADA, ADA, "Team Alpha and HR Portal"));
    assert_eq!(d.outcome, Outcome::Deny);
    let reason = d
        .reasons
        .iter()
        .find(|r| r.code == ReasonCode::ResourceAmbiguous)
        .unwrap();
    assert_eq!(
        *reason.details.get("groups").unwrap(),
        "GRP-TEAM-ALPHA,GRP-HR-PORTAL"
    );
    assert!(d.group.is_none());
}

#[test]
fn patterns_resolve_normalised_text() {
    let d = decide(&policy(), &request(ADA, ADA, "FIN-BI please"));
    assert!(
        d.has_reason(ReasonCode::ResolvedByPattern),
        "{:?}",
        codes(&d)
    );
    assert_eq!(&*d.group.unwrap().key, "GRP-FINANCE-BI-READ");
}

#[test]
fn separation_of_duties_checks_current_memberships() {
    let d = decide(&policy(), &request(GRACE, IVAN, "AP Approvers"));
    assert_eq!(d.outcome, Outcome::Deny);
    let r = d
        .reasons
        .iter()
        .find(|r| r.code == ReasonCode::SeparationOfDuties)
        .unwrap();
    assert_eq!(
        r.rule.as_deref(),
        Some("separation_of_duties[payables-four-eyes]")
    );
    assert_eq!(
        *r.details.get("conflicting_group").unwrap(),
        "GRP-AP-CLERKS"
    );
    // Someone in neither group may join.
    let d = decide(&policy(), &request(GRACE, ADA, "AP Approvers"));
    assert!(!d.has_reason(ReasonCode::SeparationOfDuties));
}

#[test]
fn requester_and_target_never_approve() {
    let p = policy();
    // Grace asks for Ada; Grace is Ada's manager, so the manager stage goes to the alternates.
    let d = decide(&p, &request(GRACE, ADA, "Finance BI"));
    assert_eq!(d.outcome, Outcome::NeedsApproval, "{:?}", codes(&d));
    assert!(d.has_reason(ReasonCode::ApproverExcluded));
    let manager: Vec<_> = d.stages[0].approvers.iter().map(|a| &*a.name).collect();
    assert_eq!(manager, ["lea.lead@contoso.com"]);
    // Dora (data owner) asking for herself: no other data owner, so the stage cannot be met.
    let d = decide(
        &p,
        &request(
            "dora.data@contoso.com",
            "dora.data@contoso.com",
            "Finance BI",
        ),
    );
    assert!(d.has_reason(ReasonCode::ApproverExcluded));
    assert!(
        d.has_reason(ReasonCode::StageUnsatisfiable) || d.has_reason(ReasonCode::ManagerUnknown)
    );
    assert_eq!(d.outcome, Outcome::Deny);
}

#[test]
fn n_of_m_stage_counts_distinct_eligible_approvers() {
    let p = policy();
    let d = decide(&p, &request(PAT, ADA, "AP Approvers"));
    assert_eq!(d.outcome, Outcome::NeedsApproval, "{:?}", codes(&d));
    let security = d.stages.iter().find(|s| &*s.name == "security").unwrap();
    assert_eq!(security.required, 2);
    assert_eq!(security.approvers.len(), 2);
    // If one security approver is the target, two can no longer approve.
    let d = decide(&p, &request(PAT, "sam.sec@contoso.com", "AP Approvers"));
    assert!(
        d.has_reason(ReasonCode::StageUnsatisfiable),
        "{:?}",
        codes(&d)
    );
    assert_eq!(d.outcome, Outcome::Deny);
}

#[test]
fn manager_unknown_without_alternates_is_denied() {
    let p = policy();
    let d = decide(&p, &request(GRACE, "dora.data@contoso.com", "HR Portal"));
    assert!(d.has_reason(ReasonCode::ManagerUnknown), "{:?}", codes(&d));
    assert_eq!(d.outcome, Outcome::Deny);
}

#[test]
fn standard_change_skips_stages_but_not_checks() {
    let p = policy();
    let d = decide(&p, &request(GRACE, IVAN, "Team Alpha"));
    assert_eq!(d.outcome, Outcome::PreApproved);
    assert!(d.stages.is_empty());
    assert!(d.has_reason(ReasonCode::StandardChange));
    // The same standard change never overrides a deny.
    let r = request(GRACE, IVAN, "Team Alpha");
    let mut f = facts(&p, &r);
    f.group.as_mut().unwrap().dynamic_membership = true;
    assert_eq!(p.evaluate(&r, &f, business_hours()).outcome, Outcome::Deny);
    // Only when the requester is the target's manager.
    let d = decide(&p, &request(ADA, IVAN, "Team Alpha"));
    assert_eq!(d.outcome, Outcome::NeedsApproval);
}

#[test]
fn guests_need_an_end_date_and_security_and_may_not_join_member_only_groups() {
    let p = policy();
    let d = decide(&p, &request(PAT, GUS, "Finance BI"));
    assert!(d.has_reason(ReasonCode::GuestRule));
    assert!(d.has_reason(ReasonCode::EndDateRequired));
    let mut r = request(PAT, GUS, "Finance BI");
    r.end_date = Some(at("2026-12-10T00:00:00Z").into());
    let d = decide(&p, &r);
    assert_eq!(d.outcome, Outcome::NeedsApproval, "{:?}", codes(&d));
    let names: Vec<_> = d.stages.iter().map(|s| &*s.name).collect();
    assert_eq!(names, ["manager", "data-owner", "security"]);
    assert_eq!(d.expiry.unwrap().max_duration_seconds, Some(30 * 86_400));
    let mut r = request(PAT, GUS, "HR Portal");
    r.end_date = Some(at("2026-12-10T00:00:00Z").into());
    assert!(decide(&p, &r).has_reason(ReasonCode::UserTypeNotAllowed));
}

#[test]
fn closed_change_window_sets_the_next_opening() {
    let p = policy();
    let r = request(ADA, ADA, "Finance BI");
    let evening = at("2026-11-25T19:30:00Z"); // 20:30 in Berlin
    let d = p.evaluate(&r, &facts(&p, &r), evening);
    assert_eq!(d.outcome, Outcome::NeedsApproval);
    assert!(d.has_reason(ReasonCode::ChangeWindowClosed));
    assert_eq!(d.earliest_execution, Some(at("2026-11-26T06:00:00Z")));
    // Inside the year-end freeze, the next opening is after it.
    let d = p.evaluate(&r, &facts(&p, &r), at("2026-12-28T10:00:00Z"));
    let reason = d
        .reasons
        .iter()
        .find(|r| r.code == ReasonCode::ChangeWindowClosed)
        .unwrap();
    assert_eq!(
        *reason.details.get("blackout").unwrap(),
        "year-end change freeze"
    );
    assert_eq!(d.earliest_execution, Some(at("2027-01-04T06:00:00Z")));
    // Team Alpha is `always`.
    let mut r = request(PAT, CARL, "Team Alpha");
    r.end_date = Some(at("2027-01-31T00:00:00Z").into());
    let d = p.evaluate(&r, &facts(&p, &r), evening);
    assert_eq!(d.earliest_execution, Some(evening));
}

#[test]
fn no_approval_path_is_denied() {
    let p = CompiledPolicy::from_yaml_str(
        "version: 1\ngroups:\n  - {id: G, object_id: g1, managed_via_itsm: true}\ncatalog:\n  - {name: Gadget, group: G}\n",
        "p.yaml",
    )
    .unwrap();
    let r = request(ADA, ADA, "Gadget");
    let f = Facts {
        requester: directory().user(ADA),
        target: directory().user(ADA),
        group: Some(Group::security("g1", "G")),
        ..Facts::default()
    };
    let d = p.evaluate(&r, &f, business_hours());
    assert_eq!(d.outcome, Outcome::Deny);
    assert!(d.has_reason(ReasonCode::NoApprovalPath));
}

#[test]
fn every_reason_records_its_effect() {
    let d = decide(&policy(), &request(ADA, EVE, "Helpdesk Admin"));
    for r in &d.reasons {
        assert_eq!(r.effect, r.code.effect());
    }
    assert!(d.deny_reasons().count() >= 2);
    assert!(d.reasons.iter().any(|r| r.effect == Effect::Deny));
}

#[test]
fn same_inputs_give_byte_identical_json() {
    let p1 = policy();
    let p2 = policy();
    let mut r = request(PAT, CARL, "Add contractor to Team Alpha");
    r.end_date = Some(at("2027-01-31T17:00:00Z").into());
    let a = decide(&p1, &r).to_canonical_json();
    let b = decide(&p2, &r).to_canonical_json();
    assert_eq!(a, b);
    let unresolved = request(ADA, ADA, "finanse bi dashbord");
    assert_eq!(
        decide(&p1, &unresolved).to_canonical_json(),
        decide(&p2, &unresolved).to_canonical_json()
    );
    // And a decision survives a JSON round trip unchanged.
    let back: groupgate_core::Decision = serde_json::from_str(&a).unwrap();
    assert_eq!(back.to_canonical_json(), a);
}

#[test]
fn the_digest_ignores_formatting_but_not_meaning() {
    let p = policy();
    let reformatted = CompiledPolicy::from_yaml_str(
        &format!(
            "# a comment\n{}",
            POLICY.replace(
                "\ngroups:\n",
                "\n# reviewed by the identity team\ngroups:\n\n"
            )
        ),
        "x",
    )
    .unwrap();
    assert_eq!(p.digest(), reformatted.digest());
    let json = serde_json::to_string(p.document()).unwrap();
    assert_eq!(
        CompiledPolicy::from_json_str(&json, "p.json")
            .unwrap()
            .digest(),
        p.digest()
    );
    let changed =
        CompiledPolicy::from_yaml_str(&POLICY.replace("expire_after: 7d", "expire_after: 5d"), "x")
            .unwrap();
    assert_ne!(p.digest(), changed.digest());
}

#[test]
fn approvers_are_directory_users_known_by_object_id() {
    let p = policy();
    let r = request(ADA, ADA, "Access to Finance BI");
    // The data owner is not in the directory facts: not eligible, the stage
    // cannot be satisfied, and the request is denied.
    let mut f = facts(&p, &r);
    f.approvers.retain(|u| &*u.upn != "dora.data@contoso.com");
    let d = p.evaluate(&r, &f, business_hours());
    assert!(
        d.has_reason(ReasonCode::ApproverNotInDirectory),
        "{:?}",
        codes(&d)
    );
    assert!(d.has_reason(ReasonCode::StageUnsatisfiable));
    assert_eq!(d.outcome, Outcome::Deny);
    // A disabled data owner is not eligible either.
    let mut f = facts(&p, &r);
    for u in &mut f.approvers {
        if &*u.upn == "dora.data@contoso.com" {
            u.enabled = false;
        }
    }
    let d = p.evaluate(&r, &f, business_hours());
    assert!(
        d.has_reason(ReasonCode::ApproverDisabled),
        "{:?}",
        codes(&d)
    );
    assert_eq!(d.outcome, Outcome::Deny);
    // The manager is the requester's own account named another way (object
    // id instead of UPN): still excluded, by object id.
    let mut r2 = request(GRACE, ADA, "Access to Finance BI");
    r2.requester = id_of(GRACE).to_string();
    let d = p.evaluate(&r2, &facts(&p, &r2), business_hours());
    assert!(
        d.stages
            .iter()
            .all(|s| s.approvers.iter().all(|a| !a.id.same(&id_of(GRACE)))),
        "the requester never approves: {:?}",
        d.stages
    );
}

#[test]
fn one_person_named_twice_is_one_approver() {
    let text = common::POLICY.replace(
        "members: [sam.sec@contoso.com, sol.sec@contoso.com]",
        "members: [sam.sec@contoso.com, 11111111-0000-0000-0000-000000000013, sol.sec@contoso.com]",
    );
    let p = CompiledPolicy::from_yaml_str(&text, "p.yaml").unwrap();
    let r = request(PAT, ADA, "AP Approvers");
    let d = p.evaluate(&r, &facts(&p, &r), business_hours());
    let security = d.stages.iter().find(|s| &*s.name == "security").unwrap();
    assert_eq!(security.approvers.len(), 2, "{:?}", security.approvers);
    assert_eq!(security.required, 2);
}

#[test]
fn fullwidth_and_other_compatibility_forms_resolve_alike() {
    let p = policy();
    for text in [
        "ＦＩＮ ＢＩ",
        "Ｆｉｎａｎｃｅ　ＢＩ",
        "Finance BI",
        "FINANCE bi",
        "ﬁnance bi",
    ] {
        let d = decide(&p, &request(ADA, ADA, text));
        assert_eq!(
            d.group.as_ref().map(|g| &*g.key),
            Some("GRP-FINANCE-BI-READ"),
            "{text}: {:?}",
            codes(&d)
        );
    }
}

#[test]
fn a_date_only_end_date_is_the_end_of_that_day_in_the_policys_zone() {
    let p = policy(); // default window: Europe/Berlin
    let mut r = request(PAT, CARL, "Team Alpha");
    r.end_date = Some("2027-01-15".parse().unwrap());
    let d = decide(&p, &r);
    assert_eq!(d.outcome, Outcome::NeedsApproval, "{:?}", codes(&d));
    // Midnight after 15 January in Berlin is 23:00 UTC that day.
    assert_eq!(
        d.expiry.as_ref().unwrap().end_date,
        Some(at("2027-01-15T23:00:00Z"))
    );
    let utc = common::POLICY.replace(
        "name: contoso-access",
        "name: contoso-access\ntimezone: UTC",
    );
    let p = CompiledPolicy::from_yaml_str(&utc, "p.yaml").unwrap();
    let d = decide(&p, &r);
    assert_eq!(
        d.expiry.as_ref().unwrap().end_date,
        Some(at("2027-01-16T00:00:00Z"))
    );
    let bad = common::POLICY.replace(
        "name: contoso-access",
        "name: contoso-access\ntimezone: Mars/Olympus",
    );
    let err = CompiledPolicy::from_yaml_str(&bad, "p.yaml").unwrap_err();
    assert_eq!(err.diagnostics[0].code, "unknown-timezone");
    assert_eq!(err.diagnostics[0].location.map(|l| l.line), Some(5));
}

#[test]
fn an_overlong_field_is_denied_without_being_read() {
    let p = policy();
    let mut r = request(ADA, ADA, &"finance bi ".repeat(100_000));
    r.justification = "x".repeat(5000);
    let d = decide(&p, &r);
    assert_eq!(d.outcome, Outcome::Deny);
    assert_eq!(
        codes(&d),
        ["REQUEST_FIELD_TOO_LONG", "REQUEST_FIELD_TOO_LONG"]
    );
    let json = d.to_canonical_json();
    assert!(
        json.len() < 2_000,
        "the text is not copied: {} bytes",
        json.len()
    );
    assert!(
        d.reasons[0]
            .message()
            .contains("`resource` is 1100000 characters long; at most 512")
    );
}

#[test]
fn a_name_anywhere_in_the_bounded_text_is_found() {
    let p = policy();
    let filler = "word ".repeat(95); // 95 words before the name, within 512 characters
    let d = decide(&p, &request(ADA, ADA, &format!("{filler}finance bi")));
    assert_eq!(
        d.group.as_ref().map(|g| &*g.key),
        Some("GRP-FINANCE-BI-READ"),
        "{:?}",
        codes(&d)
    );
}
