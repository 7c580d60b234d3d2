//! Leavers found in the directory, against the emulators: the worker reads
//! Graph's users delta (paged), keeps the delta link, and queues an
//! offboarding for a disabled or deleted user who has a workflow that is
//! not over — and only for them; an expired delta link starts a full read
//! again without offboarding anyone twice.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod chat_world;

use chat_world::*;
use groupgate_service::LEAVER_OPERATOR;

const PAT: &str = "11111111-0000-0000-0000-00000000000e";
const CARL: &str = "11111111-0000-0000-0000-00000000000c";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_and_deleted_users_with_open_workflows_are_offboarded_once() {
    let w = World::start_full(
        "leavers",
        &[
            (1, "ada.lovelace@contoso.com"),
            (2, "ada.lovelace@contoso.com"),
            (3, "pat.lead@contoso.com"),
        ],
        POLLING,
        "leavers: {poll_seconds: 60}\n",
    )
    .await;
    w.graph.set_delta_page_size(2);
    for ticket in ["RITM0000001", "RITM0000003"] {
        eventually("both requests await approval", async || {
            (w.phase(ticket).await == "awaiting_approval").then_some(())
        })
        .await;
    }
    // Ada holds Finance BI through RITM 2 (approved in ServiceNow), and asks
    // again in RITM 1.
    w.snow.act_at(
        "RITM0000002",
        "grace.hopper@contoso.com",
        "approved",
        chrono::Utc::now(),
    );
    eventually("the data owner asked", async || {
        (w.snow.approvals("RITM0000002").len() == 2).then_some(())
    })
    .await;
    w.snow.act_at(
        "RITM0000002",
        "dora.data@contoso.com",
        "approved",
        chrono::Utc::now(),
    );
    eventually("RITM 2 active", async || {
        (w.phase("RITM0000002").await == "active").then_some(())
    })
    .await;
    assert!(w.graph.is_direct_member(FIN, ADA));
    // The first pass read every user (a baseline: nobody disabled has a
    // workflow) and kept the link.
    let first = eventually("the baseline read", async || {
        w.service
            .store()
            .worker_state("graph.users_delta_link")
            .unwrap()
    })
    .await;
    assert!(first.contains("$deltatoken="), "{first}");
    assert!(w.service.store().pending_offboardings().unwrap().is_empty());
    let pages = w
        .graph
        .requests()
        .iter()
        .filter(|r| r.contains("/users/delta"))
        .count();
    assert!(pages > 2, "the read was paged: {pages} requests");

    // Ada is disabled, Carl too (no workflow), Pat deleted.
    w.graph.edit_directory(|d| {
        for u in d.users.iter_mut() {
            if u.id == ADA || u.id == CARL {
                u.enabled = false;
            }
        }
        d.users.retain(|u| u.id != PAT);
    });
    let scan = w.service.scan_for_leavers().await.unwrap();
    assert_eq!(scan.leavers, 3, "{scan:?}");
    let mut queued = scan.queued.clone();
    queued.sort();
    assert_eq!(queued, [ADA, PAT], "only leavers with open workflows");
    assert!(!scan.resynced);
    // Nothing changed since: nothing found again.
    let again = w.service.scan_for_leavers().await.unwrap();
    assert_eq!((again.changes, again.queued.len()), (0, 0), "{again:?}");

    // The worker carries the offboardings out: both requests end, the
    // tickets are closed, and the trail names who queued them.
    for ticket in ["RITM0000001", "RITM0000003"] {
        eventually("the leaver's request cancelled", async || {
            (w.phase(ticket).await == "cancelled").then_some(())
        })
        .await;
    }
    eventually("Ada's membership removed", async || {
        (w.phase("RITM0000002").await == "removed").then_some(())
    })
    .await;
    eventually("the queue drained", async || {
        w.service
            .store()
            .pending_offboardings()
            .unwrap()
            .is_empty()
            .then_some(())
    })
    .await;
    for n in [1, 2, 3] {
        let ritm = w.snow.ritm(&format!("RITM{n:07}")).unwrap();
        assert_ne!(ritm["state"], "1", "RITM {n} still open: {ritm:?}");
        assert!(
            w.work_notes(n)
                .iter()
                .any(|note| note.to_lowercase().contains("offboard")),
            "RITM {n} notes: {:?}",
            w.work_notes(n)
        );
    }
    assert!(!w.graph.is_direct_member(FIN, ADA));
    let trail = w.trail().await.join("\n");
    assert!(trail.contains(LEAVER_OPERATOR));

    // The delta link expires: everything is read again, and nobody whose
    // workflows are over is offboarded again.
    w.graph.expire_delta_tokens();
    let resync = w.service.scan_for_leavers().await.unwrap();
    assert!(resync.resynced);
    // Ada and Carl are still disabled (and the tenant had a disabled user
    // from the start).
    assert!(resync.leavers >= 2, "{resync:?}");
    assert!(resync.queued.is_empty(), "{resync:?}");
    let link = w
        .service
        .store()
        .worker_state("graph.users_delta_link")
        .unwrap()
        .unwrap();
    assert_ne!(link, first);
}
