//! Policy reload in a running worker, against the emulators: a policy file
//! that does not compile is refused (the policy in force stays, the refusal
//! is counted and recorded); a valid new one is put in force at the next
//! pass, recorded with both digests, and a request approved under the old
//! policy is re-checked against the new one before anything changes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod chat_world;

use chat_world::*;
use groupgate_service::PolicyReload;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_policy_is_refused_and_a_new_one_governs_the_execution_of_older_approvals() {
    let w = World::start("reload", &[(1, "ada.lovelace@contoso.com")]).await;
    eventually("RITM 1 awaits its manager", async || {
        (w.phase("RITM0000001").await == "awaiting_approval").then_some(())
    })
    .await;
    let old = w.service.engine().policy().digest().to_owned();
    let path = w.dir.join("policy.yaml");

    // A policy that does not compile: refused at the next pass, the old one
    // stays, and the refusal is counted and in the trail with its line.
    std::fs::write(&path, POLICY.replace("risk: high", "risk: extreme")).unwrap();
    eventually("the broken policy refused", async || {
        (w.service.policy_reload_failures() == 1).then_some(())
    })
    .await;
    assert_eq!(w.service.engine().policy().digest(), old);
    let trail = w.trail().await.join("\n");
    assert!(trail.contains("policy reload"), "refusal not recorded");
    assert!(trail.contains("extreme"), "the refusal says what is wrong");
    assert!(!trail.contains("policy_changed"));
    // Asked again (as SIGHUP does): still refused, with file and line.
    match w.service.reload_policy().await {
        PolicyReload::Refused { digest, error } => {
            assert_eq!(digest, old);
            assert!(error.contains("policy.yaml:7:"), "{error}");
        }
        other => panic!("{other:?}"),
    }

    // The group is taken out of the ticket path: valid, so put in force.
    std::fs::write(
        &path,
        POLICY.replace("managed_via_itsm: true", "managed_via_itsm: false"),
    )
    .unwrap();
    let new = eventually("the new policy in force", async || {
        let d = w.service.engine().policy().digest().to_owned();
        (d != old).then_some(d)
    })
    .await;
    assert!(matches!(
        w.service.reload_policy().await,
        PolicyReload::Unchanged { .. }
    ));
    let trail = w.trail().await.join("\n");
    assert!(trail.contains("\"entry\":\"policy_changed\""));
    assert!(trail.contains(&format!("\"from\":\"{old}\"")));
    assert!(trail.contains(&format!("\"to\":\"{new}\"")));

    // The manager and the data owner approve in ServiceNow, under the request decided with
    // the old policy: nothing is added, because the execution re-checks
    // against the policy in force.
    w.snow.act_at(
        "RITM0000001",
        "grace.hopper@contoso.com",
        "approved",
        chrono::Utc::now(),
    );
    eventually("the data owner asked", async || {
        (w.snow.approvals("RITM0000001").len() == 2).then_some(())
    })
    .await;
    w.snow.act_at(
        "RITM0000001",
        "dora.data@contoso.com",
        "approved",
        chrono::Utc::now(),
    );
    let phase = eventually("the request ends", async || {
        let p = w.phase("RITM0000001").await;
        (!p.starts_with("awaiting_approval")).then_some(p)
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert!(
        !w.graph.is_direct_member(FIN, ADA),
        "added under a policy no longer in force ({phase})"
    );
    let trail = w.trail().await.join("\n");
    assert!(
        trail.contains(&format!("\"policy_digest\":\"{new}\"")),
        "a decision under the new policy is recorded"
    );
    let ritm = w.snow.ritm("RITM0000001").unwrap();
    assert_ne!(ritm["state"], "3", "not closed complete: {ritm:?}");
}
