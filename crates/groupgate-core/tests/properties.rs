//! Property tests: whatever the request, facts and time, no allow outcome for
//! a role-assignable (or otherwise unmanageable) group, or for a group outside
//! the catalog; and every decision is deterministic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

mod common;

use chrono::{DateTime, TimeDelta, Utc};
use common::*;
use groupgate_core::CompiledPolicy;
use groupgate_core::{Facts, Group, MembershipState, Outcome, Request, Suggestion, User, UserType};
use proptest::prelude::*;
use std::sync::LazyLock;

static POLICY_ONCE: LazyLock<CompiledPolicy> = LazyLock::new(policy);

const RESOURCES: &[&str] = &[
    "Finance BI",
    "Access to Finance BI",
    "FinBI",
    "fin bi",
    "Team Alpha",
    "Add contractor to Team Alpha",
    "HR Portal",
    "AP Approvers",
    "Helpdesk Admin",
    "Sales Dashboard",
    "Global Administrator",
    "",
    "Team Alpha and HR Portal",
];

const GROUP_NAMES: &[&str] = &[
    "GRP-FINANCE-BI-READ",
    "GRP-TEAM-ALPHA",
    "GRP-ENTRA-ADMINS",
    "GRP-SALES-ALL",
    "GRP-GLOBAL-ADMINS",
    "aaaaaaaa-0000-0000-0000-000000000006",
    "Team Alpha",
    "anything",
];

fn resource() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(RESOURCES).prop_map(str::to_owned),
        "[a-zA-Z ]{0,24}",
    ]
}

fn suggestion() -> impl Strategy<Value = Option<Suggestion>> {
    proptest::option::of(
        (
            prop_oneof![
                proptest::sample::select(GROUP_NAMES).prop_map(str::to_owned),
                "[A-Z-]{1,12}"
            ],
            proptest::option::of(0.0f64..=1.0),
        )
            .prop_map(|(group, confidence)| Suggestion {
                group,
                source: "ai-triage".into(),
                confidence,
            }),
    )
}

fn user(upn: &'static str) -> impl Strategy<Value = Option<User>> {
    proptest::option::weighted(
        0.9,
        (
            any::<bool>(),
            any::<bool>(),
            proptest::option::of(proptest::sample::select(
                &["Employee", "Contractor", "Vendor"][..],
            )),
        )
            .prop_map(move |(enabled, guest, employee_type)| User {
                id: format!("id-{upn}").into(),
                upn: upn.into(),
                display_name: None,
                enabled: enabled || guest,
                user_type: if guest {
                    UserType::Guest
                } else {
                    UserType::Member
                },
                employee_type: employee_type.map(Into::into),
            }),
    )
}

#[derive(Debug, Clone)]
struct GroupFlags {
    role_assignable: bool,
    dynamic: bool,
    synced: bool,
    mail_enabled: bool,
    security_enabled: bool,
    unified: bool,
}

fn flags() -> impl Strategy<Value = GroupFlags> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(role_assignable, dynamic, synced, mail_enabled, security_enabled, unified)| {
                GroupFlags {
                    role_assignable,
                    dynamic,
                    synced,
                    mail_enabled,
                    security_enabled,
                    unified,
                }
            },
        )
}

prop_compose! {
    fn scenario()(
        resource in resource(),
        suggestion in suggestion(),
        requester in user("req@contoso.com"),
        target in user("tgt@contoso.com"),
        manager in user("mgr@contoso.com"),
        flags in flags(),
        group_known in proptest::bool::weighted(0.9),
        membership in proptest::sample::select(&[MembershipState::NotMember, MembershipState::Direct, MembershipState::Transitive][..]),
        end_days in proptest::option::of(-30i64..400),
        minutes in 0i64..(60 * 24 * 60),
    ) -> (Request, Facts, DateTime<Utc>, GroupFlags) {
        let now = at("2026-11-20T00:00:00Z") + TimeDelta::minutes(minutes);
        let request = Request {
            ticket: "RITM0099999".into(),
            requester: "req@contoso.com".into(),
            target: "tgt@contoso.com".into(),
            resource,
            end_date: end_days.map(|d| (now + TimeDelta::days(d)).into()),
            justification: String::new(),
            suggestion,
        };
        let facts = Facts {
            requester,
            target,
            target_manager: manager,
            group: None,
            membership,
            target_groups: Vec::new(),
            // Every person of the example directory, so the policy's
            // approvers are known by object id.
            approvers: directory()
                .users
                .iter()
                .filter_map(|u| directory().user(&u.id))
                .collect(),
            approver_groups: Vec::new(),
        };
        let _ = group_known;
        (request, facts, now, flags)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn no_allow_for_unmanageable_or_uncatalogued_groups((request, mut facts, now, flags) in scenario()) {
        let p = &*POLICY_ONCE;
        let resolution = p.resolve(&request);
        if let Some(object_id) = resolution.object_id() {
            facts.group = Some(Group {
                id: object_id.into(),
                display_name: "g".into(),
                security_enabled: flags.security_enabled,
                mail_enabled: flags.mail_enabled,
                unified: flags.unified,
                dynamic_membership: flags.dynamic,
                on_premises_synced: flags.synced,
                role_assignable: flags.role_assignable,
            });
        }
        let d = p.evaluate(&request, &facts, now);
        if d.is_allowed() {
            let g = facts.group.as_ref().expect("allowed implies a resolved group with facts");
            prop_assert!(g.membership_writable(), "allowed a group Graph cannot write: {g:?}");
            prop_assert!(!g.role_assignable, "allowed a role-assignable group");
            let key = &d.group.as_ref().expect("allowed implies a group").key;
            let doc = p.document();
            prop_assert!(doc.catalog.iter().any(|e| *e.group == **key), "allowed `{key}` outside the catalog");
            prop_assert!(doc.groups.iter().any(|g| *g.id == **key && g.managed_via_itsm));
            let requester = facts.requester.as_ref().expect("allowed implies a requester");
            let target = facts.target.as_ref().expect("allowed implies a target");
            prop_assert!(requester.enabled && target.enabled);
            prop_assert!(facts.membership == MembershipState::NotMember);
            // Nobody approves their own request or their own access.
            for stage in &d.stages {
                for a in &stage.approvers {
                    prop_assert!(!requester.is_named_by(&a.id) && !target.is_named_by(&a.id));
                }
                prop_assert!(stage.approvers.len() as u32 >= stage.required);
            }
            prop_assert!(d.outcome == Outcome::PreApproved || !d.stages.is_empty());
        }
        if facts.group.as_ref().is_some_and(|g| g.role_assignable) {
            prop_assert!(!d.is_allowed());
        }
        prop_assert_eq!(d.to_canonical_json(), p.evaluate(&request, &facts, now).to_canonical_json());
    }

    #[test]
    fn group_facts_for_an_uncatalogued_object_never_allow((request, mut facts, now, _flags) in scenario()) {
        let p = &*POLICY_ONCE;
        // Facts describe a directory group the policy does not govern.
        facts.group = Some(Group::security("ffffffff-0000-0000-0000-000000000000", "Global Admins"));
        prop_assert!(!p.evaluate(&request, &facts, now).is_allowed());
    }
}
