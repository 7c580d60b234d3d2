//! The drift report on the simulated world: hand-made members of governed
//! groups are reported (and recorded); in a group marked `enforce: true`
//! they are removed — except when the directory says the group may not be
//! changed through the ticket path (role-assignable), whatever the policy
//! says; `enforce` on a group outside the ticket path does not compile.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use groupgate_core::CompiledPolicy;
use groupgate_core::audit::Entry;
use groupgate_sim::{EXAMPLE_DIRECTORY, EXAMPLE_POLICY, World};

const FIN: &str = "aaaaaaaa-0000-0000-0000-000000000001";
const HR: &str = "aaaaaaaa-0000-0000-0000-000000000003";
const ADMINS: &str = "aaaaaaaa-0000-0000-0000-000000000006";
const IVAN: &str = "11111111-0000-0000-0000-000000000018";

fn world(policy: &str) -> World {
    let policy = CompiledPolicy::from_yaml_str(policy, "policy.yaml").unwrap();
    let directory =
        groupgate_core::input::from_yaml(EXAMPLE_DIRECTORY, &Default::default()).unwrap();
    World::new(
        policy,
        directory,
        "2026-11-25T10:00:00Z".parse().unwrap(),
        3,
    )
}

fn enforced(policy: &str, group: &str) -> String {
    let at = format!("  - id: {group}\n");
    assert!(policy.contains(&at), "{group}");
    policy.replacen(&at, &format!("{at}    enforce: true\n"), 1)
}

#[tokio::test]
async fn hand_made_members_are_reported_or_in_enforced_groups_removed() {
    let policy = enforced(
        &enforced(EXAMPLE_POLICY, "GRP-HR-PORTAL"),
        "GRP-ENTRA-ADMINS",
    );
    let w = world(&policy);
    for group in [FIN, HR, ADMINS] {
        w.directory.add_by_hand(group, IVAN);
    }
    let report = w.engine.drift_report(1000).await.unwrap();
    let of = |id: &str| {
        report
            .groups
            .iter()
            .find(|g| g.group.as_str() == id)
            .unwrap()
    };
    let actions = |id: &str| -> Vec<(String, String)> {
        of(id)
            .unaccounted
            .iter()
            .filter(|m| m.id.as_str() == IVAN)
            .map(|m| (m.id.to_string(), m.action.clone()))
            .collect()
    };
    assert_eq!(actions(FIN), [(IVAN.to_owned(), "reported".to_owned())]);
    assert_eq!(actions(HR), [(IVAN.to_owned(), "removed".to_owned())]);
    // Role-assignable in the directory: never changed, only reported.
    assert_eq!(actions(ADMINS), [(IVAN.to_owned(), "reported".to_owned())]);
    assert!(w.directory.is_direct_member(FIN, IVAN));
    assert!(!w.directory.is_direct_member(HR, IVAN));
    assert!(w.directory.is_direct_member(ADMINS, IVAN));
    assert!(report.has_findings());
    // Each finding is in the trail, under drift/<group>.
    let trail = w.engine.audit_trail().await.unwrap();
    let drift: Vec<(String, String)> = trail
        .iter()
        .filter_map(|r| match &r.entry {
            Entry::Drift { user, action, .. } if user.as_str() == IVAN => {
                Some((r.workflow.to_string(), action.clone()))
            }
            _ => None,
        })
        .collect();
    assert!(
        drift.contains(&(format!("drift/{HR}"), "removed".to_owned())),
        "{drift:?}"
    );
    assert!(
        drift.contains(&(format!("drift/{FIN}"), "reported".to_owned())),
        "{drift:?}"
    );
    // The next report finds nothing left in the enforced group.
    let again = w.engine.drift_report(1000).await.unwrap();
    assert!(
        again
            .groups
            .iter()
            .find(|g| g.group.as_str() == HR)
            .unwrap()
            .unaccounted
            .iter()
            .all(|m| m.id.as_str() != IVAN)
    );
}

#[test]
fn enforce_on_a_group_outside_the_ticket_path_does_not_compile() {
    let policy = enforced(EXAMPLE_POLICY, "GRP-SALES-ALL");
    let err = CompiledPolicy::from_yaml_str(&policy, "policy.yaml").unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("enforce") && text.contains("managed_via_itsm"),
        "{text}"
    );
}
