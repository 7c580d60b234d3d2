//! Expiry reminders in a running worker, against the emulators: time-bound
//! access ending within the configured time is reminded once — a work note
//! on the ticket, a chat notice to the requester and the target's manager,
//! a `reminded` record — and the access still expires on its own timer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod chat_world;

use chat_world::*;
use groupgate_core::ports::Store;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_ending_soon_is_reminded_once_and_still_expires_on_its_own_timer() {
    // Every part on one simulated clock, started now, so the expiry can be
    // reached without waiting three days.
    let clock = groupgate_sim::SimClock::at(chrono::Utc::now());
    let w = World::start_on(
        "reminders",
        &[
            (501, "ada.lovelace@contoso.com"),
            (1, "ada.lovelace@contoso.com"),
        ],
        POLLING,
        "reminders: {before_seconds: 604800}\n",
        std::sync::Arc::new(clock.clone()),
    )
    .await;
    for ticket in ["RITM0000501", "RITM0000001"] {
        eventually("the requests await the manager", async || {
            (w.phase(ticket).await == "awaiting_approval").then_some(())
        })
        .await;
    }
    // RITM 501 ends in three days; the manager and the data owner approve
    // it in ServiceNow.
    let sim_now = || groupgate_core::ports::Clock::now(&clock);
    let now = chrono::Utc::now;
    w.snow.act_at(
        "RITM0000501",
        "grace.hopper@contoso.com",
        "approved",
        sim_now(),
    );
    eventually("the data owner asked", async || {
        (w.snow.approvals("RITM0000501").len() == 2).then_some(())
    })
    .await;
    w.snow.act_at(
        "RITM0000501",
        "dora.data@contoso.com",
        "approved",
        sim_now(),
    );
    eventually("RITM 501 active", async || {
        (w.phase("RITM0000501").await == "active").then_some(())
    })
    .await;
    assert!(w.graph.is_direct_member(FIN, ADA));

    // The next pass reminds: the ticket's note, once.
    let notes = eventually("the reminder noted", async || {
        let notes = w.work_notes(501);
        notes
            .iter()
            .any(|n| n.contains("To keep it, raise a new request"))
            .then_some(notes)
    })
    .await;
    let reminder = notes
        .iter()
        .find(|n| n.contains("To keep it, raise a new request"))
        .unwrap();
    assert!(reminder.contains("ends at"), "{reminder}");
    assert!(reminder.contains("Finance BI Readers"), "{reminder}");
    // More passes (and a direct call) send nothing again.
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert!(w.service.send_expiry_reminders().await.unwrap().is_empty());
    let count = |notes: &[String]| {
        notes
            .iter()
            .filter(|n| n.contains("To keep it, raise a new request"))
            .count()
    };
    assert_eq!(count(&w.work_notes(501)), 1);
    // The manager, in Slack, was told; the request without an end date
    // (still awaiting approval) was not reminded.
    let told = w
        .slack
        .messages()
        .into_iter()
        .filter(|m| m.text.contains("To keep it"))
        .count();
    assert!(told >= 1, "no chat notice: {:?}", w.slack.messages());
    assert_eq!(count(&w.work_notes(1)), 0);
    // The trail says who was told; the expiry timer is still there.
    let trail = w.trail().await.join("\n");
    assert!(
        trail.contains("\"entry\":\"reminded\""),
        "no reminded record"
    );
    assert_eq!(trail.matches("\"entry\":\"reminded\"").count(), 1);
    let row = w
        .service
        .store()
        .summary(&groupgate_core::WorkflowId::new("RITM0000501"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.phase, "active");
    let wake = row.next_wake.unwrap();
    assert!(wake > now() + chrono::TimeDelta::days(2), "{wake}");

    // Four days later the access expires on its own timer: removed,
    // verified, the ticket noted, and no second reminder.
    clock.advance(chrono::TimeDelta::days(4));
    eventually("the access expired", async || {
        (w.phase("RITM0000501").await == "removed").then_some(())
    })
    .await;
    assert!(!w.graph.is_direct_member(FIN, ADA));
    let notes = w.work_notes(501);
    assert!(
        notes
            .iter()
            .any(|n| n.contains("removed at") && n.contains("expired")),
        "{notes:?}"
    );
    assert_eq!(count(&notes), 1);
    let trail = w.trail().await.join("\n");
    assert_eq!(trail.matches("\"entry\":\"reminded\"").count(), 1);
}
