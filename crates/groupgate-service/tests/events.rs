//! Signed events on the worker's listener, against the emulators: a
//! ServiceNow "RITM created" notification starts exactly one workflow (also
//! when delivered twice at once, and beside the poller), an unsigned,
//! forged, stale or malformed one is refused and recorded, a RITM of a
//! catalog item the worker does not handle is ignored, an offboarding
//! request is queued and carried out, and `/readyz` tells when the worker
//! is ready.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod chat_world;

use chat_world::*;
use groupgate_core::Secret;
use groupgate_core::ports::Store;
use groupgate_service::{SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookKey};
use serde_json::{Value, json};

fn key() -> WebhookKey {
    WebhookKey::new(Secret::new(WEBHOOK_SECRET)).unwrap()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn notification(n: u32) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "event": "sc_req_item.inserted",
        "sys_id": ritm_sys_id(n),
        "number": format!("RITM{n:07}"),
        "sys_updated_on": "2026-12-04 10:00:00",
    }))
    .unwrap()
}

/// Posts `body` to `path` signed at `at` with `key` (no signature when
/// `None`).
async fn post(
    w: &World,
    path: &str,
    body: &[u8],
    key: Option<&WebhookKey>,
    at: i64,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(w.endpoint(path))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(k) = key {
        request = request
            .header(TIMESTAMP_HEADER, at.to_string())
            .header(SIGNATURE_HEADER, k.sign(&at.to_string(), body));
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    (status, body)
}

/// Only signed events start workflows: no polling.
const WEBHOOK_ONLY: &str = "{catalog_items: [], webhook: true}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_notification_starts_one_workflow_and_everything_else_is_refused() {
    let w = World::start_with(
        "events-intake",
        &[
            (1, "ada.lovelace@contoso.com"),
            (2, "ada.lovelace@contoso.com"),
        ],
        WEBHOOK_ONLY,
    )
    .await;

    // Refusals first: nothing may start from them.
    let body = notification(1);
    let (status, answer) = post(&w, "/servicenow/ritm", &body, None, now()).await;
    assert_eq!(status, 401, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("X-Groupgate-Timestamp")
    );
    let forged = WebhookKey::new(Secret::new("not-the-secret-but-long-enough-0123456789")).unwrap();
    let (status, answer) = post(&w, "/servicenow/ritm", &body, Some(&forged), now()).await;
    assert_eq!(status, 401);
    assert!(answer["error"].as_str().unwrap().contains("signature"));
    let (status, answer) = post(&w, "/servicenow/ritm", &body, Some(&key()), now() - 3600).await;
    assert_eq!(status, 401);
    assert!(answer["error"].as_str().unwrap().contains("replay"));
    // Signed, but the body altered after signing.
    let at = now().to_string();
    let status = reqwest::Client::new()
        .post(w.endpoint("/servicenow/ritm"))
        .header(TIMESTAMP_HEADER, &at)
        .header(SIGNATURE_HEADER, key().sign(&at, &body))
        .body(notification(2))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);
    // Signed but not a notification.
    let (status, answer) = post(
        &w,
        "/servicenow/ritm",
        b"{\"event\":\"x\"}",
        Some(&key()),
        now(),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("RITM notification")
    );
    let huge = vec![b' '; 100 * 1024];
    let (status, _) = post(&w, "/servicenow/ritm", &huge, Some(&key()), now()).await;
    assert_eq!(status, 413);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(w.phase("RITM0000001").await, "-");
    assert_eq!(w.phase("RITM0000002").await, "-");

    // The genuine notification, delivered twice at once (ServiceNow
    // retries): one workflow, one set of approval records.
    let k = key();
    let (a, b) = tokio::join!(
        post(&w, "/servicenow/ritm", &body, Some(&k), now()),
        post(&w, "/servicenow/ritm", &body, Some(&k), now()),
    );
    for (status, answer) in [&a, &b] {
        assert!(*status == 202 || *status == 200, "{status} {answer}");
        assert_eq!(answer["ticket"], "RITM0000001");
    }
    eventually("the notified RITM awaits its manager", async || {
        (w.phase("RITM0000001").await == "awaiting_approval").then_some(())
    })
    .await;
    // A later delivery is answered from the store.
    let (status, answer) = post(&w, "/servicenow/ritm", &body, Some(&key()), now()).await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("known")));
    let approvals = eventually("the manager asked in ServiceNow", async || {
        let a = w.snow.approvals("RITM0000001");
        (!a.is_empty()).then_some(a)
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(w.snow.approvals("RITM0000001").len(), approvals.len());
    assert_eq!(
        approvals
            .iter()
            .filter(|r| r.get("state").and_then(Value::as_str) == Some("requested"))
            .count(),
        1,
        "{approvals:?}"
    );
    // The ticket got its notes once; nobody notified RITM 2, and no poller
    // runs, so it has no workflow.
    let notes = w.work_notes(1);
    assert!(!notes.is_empty());
    let mut unique = notes.clone();
    unique.dedup();
    assert_eq!(unique, notes, "a note written twice");
    assert_eq!(w.phase("RITM0000002").await, "-");
    assert!(w.work_notes(2).is_empty());

    // Every refusal is in the trail, under `webhook`; the secret is not.
    let trail = w.trail().await.join("\n");
    for expected in [
        "\"workflow\":\"webhook\"",
        "X-Groupgate-Timestamp",
        "GROUPGATE_WEBHOOK_SECRET, or the body was changed",
        "a replay",
    ] {
        assert!(trail.contains(expected), "`{expected}` not in the trail");
    }
    assert!(!trail.contains(WEBHOOK_SECRET));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_catalog_items_are_ignored_and_the_poller_converges_with_notifications() {
    // The poller (every second) and notifications both run.
    let w = World::start_with(
        "events-filter",
        &[
            (1, "ada.lovelace@contoso.com"),
            (900, "ada.lovelace@contoso.com"),
        ],
        "{catalog_items: [c0000000000000000000000000000001], poll_seconds: 1, webhook: true}",
    )
    .await;
    // RITM 1 is notified while the poller also finds it.
    for _ in 0..3 {
        let (status, _) = post(
            &w,
            "/servicenow/ritm",
            &notification(1),
            Some(&key()),
            now(),
        )
        .await;
        assert!(status == 202 || status == 200);
    }
    // RITM 900 is of another catalog item: accepted, then ignored.
    let (status, _) = post(
        &w,
        "/servicenow/ritm",
        &notification(900),
        Some(&key()),
        now(),
    )
    .await;
    assert_eq!(status, 202);
    eventually("RITM 1 awaits approval", async || {
        (w.phase("RITM0000001").await == "awaiting_approval").then_some(())
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(w.phase("RITM0000900").await, "-");
    assert!(w.snow.approvals("RITM0000900").is_empty());
    assert!(w.work_notes(900).is_empty());
    let requested = w
        .snow
        .approvals("RITM0000001")
        .iter()
        .filter(|r| r.get("state").and_then(Value::as_str) == Some("requested"))
        .count();
    assert_eq!(requested, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offboarding_request_is_queued_and_carried_out_and_readyz_tells_readiness() {
    let w = World::start_with(
        "events-offboard",
        &[(1, "ada.lovelace@contoso.com")],
        "{catalog_items: [c0000000000000000000000000000001], poll_seconds: 1, webhook: true}",
    )
    .await;
    eventually("RITM 1 awaits approval", async || {
        (w.phase("RITM0000001").await == "awaiting_approval").then_some(())
    })
    .await;
    // Ready: a pass has ended, the store answers, the policy is loaded.
    let ready = eventually("ready", async || {
        let r = reqwest::get(w.endpoint("/readyz")).await.unwrap();
        (r.status() == 200).then_some(())?;
        r.json::<Value>().await.ok()
    })
    .await;
    assert_eq!(ready["ready"], true);
    assert!(
        ready["policy_digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert_eq!(
        reqwest::get(w.endpoint("/healthz")).await.unwrap().status(),
        200
    );

    // Refused: unsigned, unknown fields, an empty or control-laden user.
    let bad = [
        (
            json!({"user": "ada.lovelace@contoso.com", "operator": "hr"}),
            None,
            401,
        ),
        (
            json!({"user": "ada.lovelace@contoso.com"}),
            Some(key()),
            400,
        ),
        (
            json!({"user": "ada", "operator": "hr", "now": true}),
            Some(key()),
            400,
        ),
        (json!({"user": " ", "operator": "hr"}), Some(key()), 400),
        (
            json!({"user": "ada\u{0}x", "operator": "hr"}),
            Some(key()),
            400,
        ),
    ];
    for (body, k, expected) in bad {
        let bytes = serde_json::to_vec(&body).unwrap();
        let (status, answer) = post(&w, "/offboard", &bytes, k.as_ref(), now()).await;
        assert_eq!(status, expected, "{body} → {answer}");
    }
    assert!(w.service.store().pending_offboardings().unwrap().is_empty());
    let before = reqwest::get(w.endpoint("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        before.contains("groupgate_workflows{phase=\"awaiting_approval\",open=\"true\"} 1"),
        "{before}"
    );

    let body =
        serde_json::to_vec(&json!({"user": "ada.lovelace@contoso.com", "operator": "hr-system"}))
            .unwrap();
    let (status, answer) = post(&w, "/offboard", &body, Some(&key()), now()).await;
    assert_eq!(status, 202, "{answer}");
    assert!(answer["queued"].as_i64().unwrap() > 0);
    // The next pass carries it out: Ada's open request is cancelled and the
    // queue is empty.
    eventually("the offboarding carried out", async || {
        (w.service.store().pending_offboardings().unwrap().is_empty()
            && w.phase("RITM0000001").await != "awaiting_approval")
            .then_some(())
    })
    .await;
    let trail = w.trail().await.join("\n");
    assert!(trail.contains("hr-system"), "the operator is in the trail");

    // Prometheus metrics: the store's gauges, and what the engine and the
    // adapters counted (counters are shared by the tests of this process,
    // so only their presence is asserted).
    let response = reqwest::get(w.endpoint("/metrics")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = response.text().await.unwrap();
    for expected in [
        "groupgate_workflows{phase=\"awaiting_approval\",open=\"true\"} 0",
        "groupgate_offboardings_queued 0",
        "groupgate_decisions_total{kind=\"evaluated\",outcome=\"needs_approval\"}",
        "groupgate_decision_reasons_total{code=",
        "groupgate_http_requests_total{service=\"graph\",method=\"POST\",status=\"200\"}",
        "groupgate_http_requests_total{service=\"servicenow\",method=\"GET\",status=\"200\"}",
        "groupgate_pass_duration_seconds_bucket{le=\"0.005\"}",
        "groupgate_refused_requests_total{kind=\"webhook\"",
        "groupgate_workflow_events_total{event=\"offboard\",applied=\"true\"}",
        "groupgate_last_pass_age_seconds",
    ] {
        assert!(text.contains(expected), "`{expected}` not in\n{text}");
    }
    // The phase that emptied reads 0, and the one the request went to is there.
    let closed: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("groupgate_workflows{") && l.contains("open=\"false\""))
        .collect();
    assert!(!closed.is_empty(), "{text}");
    let ritm = w.snow.ritm("RITM0000001").unwrap();
    assert_ne!(ritm["state"], "1", "the ticket was closed: {ritm:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_sink_holds_the_trail_line_for_line_and_resumes_after_a_cut_line() {
    let w = World::start_full(
        "events-sink",
        &[(1, "ada.lovelace@contoso.com")],
        POLLING,
        "audit: {sink: siem/audit.jsonl}\n",
    )
    .await;
    let sink = w.dir.join("siem/audit.jsonl");
    eventually("RITM 1 awaits approval", async || {
        (w.phase("RITM0000001").await == "awaiting_approval").then_some(())
    })
    .await;
    // The folder did not exist: the sink says so each pass, and the trail
    // is complete regardless.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(!sink.exists());
    std::fs::create_dir_all(sink.parent().unwrap()).unwrap();
    let same = |expected: Vec<String>| {
        let text = std::fs::read_to_string(&sink).unwrap_or_default();
        let lines: Vec<String> = text.lines().map(str::to_owned).collect();
        (lines == expected).then_some(text)
    };
    let text = eventually("the sink caught up", async || same(w.trail().await)).await;
    groupgate_core::audit::verify_jsonl(&text).unwrap();

    // A crash cut the last line: a new service over the same store and
    // sink removes the cut and writes the record again, once.
    w.service.engine().stop_signal().stop();
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let mut cut = std::fs::read_to_string(&sink).unwrap();
    let last = cut.trim_end().rfind('\n').unwrap() + 1;
    cut.truncate(last + 20);
    std::fs::write(&sink, &cut).unwrap();
    let settings = groupgate_service::ServiceSettings::load(&w.dir.join("groupgate.yaml")).unwrap();
    let vars = [
        (
            "GROUPGATE_GRAPH_CLIENT_SECRET",
            w.graph.options().client_secret.clone(),
        ),
        ("GROUPGATE_SNOW_PASSWORD", w.snow.options().password.clone()),
        ("GROUPGATE_CHAT_TOKEN_KEY", TOKEN_KEY.to_owned()),
        (
            "GROUPGATE_TEAMS_APP_SECRET",
            w.teams.options().app_secret.clone(),
        ),
        (
            "GROUPGATE_SLACK_BOT_TOKEN",
            w.slack.options().bot_token.clone(),
        ),
        (
            "GROUPGATE_SLACK_SIGNING_SECRET",
            w.slack.options().signing_secret.clone(),
        ),
    ];
    let var = |k: &str| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone());
    let again =
        groupgate_service::Service::build(settings, &w.dir.join("groupgate.yaml"), var).unwrap();
    again.pass(false).await.unwrap();
    let text = std::fs::read_to_string(&sink).unwrap();
    let records: Vec<String> = again
        .store()
        .trail(0, 100_000)
        .await
        .unwrap()
        .iter()
        .map(|r| r.to_json_line())
        .collect();
    assert_eq!(text.lines().collect::<Vec<_>>(), records);
    groupgate_core::audit::verify_jsonl(&text).unwrap();
}
