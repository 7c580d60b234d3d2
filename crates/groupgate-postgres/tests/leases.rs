//! Leases and fencing between workers on one database: workers claiming at
//! once get disjoint workflows, a lease that expired is taken over with a
//! newer token, the old holder's write is refused (fenced) and never lands,
//! heartbeats keep a lease and report one lost. Needs the test server (see
//! tests/store.rs); skipped loudly without one, failed under CI.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use chrono::{DateTime, TimeDelta, Utc};
use groupgate_core::Secret;
use groupgate_core::WorkflowId;
use groupgate_core::audit::{Actor, Entry, NewRecord, VerifyOptions, verify_trail};
use groupgate_core::ports::{Commit, ErrorClass, Store, Timer};
use groupgate_core::workflow::Wake;
use groupgate_postgres::{PostgresOptions, PostgresStore};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU32, Ordering};

static DATABASES: AtomicU32 = AtomicU32::new(0);

async fn fresh() -> Option<PostgresStore> {
    let Ok(url) = std::env::var("GROUPGATE_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var_os("GROUPGATE_CI").is_none(),
            "GROUPGATE_TEST_POSTGRES_URL is not set under CI: scripts/test-all starts the server"
        );
        eprintln!("SKIPPED: no PostgreSQL test server (run scripts/test-all)");
        return None;
    };
    let password = std::env::var("GROUPGATE_TEST_POSTGRES_PASSWORD").unwrap_or_default();
    let mut config: tokio_postgres::Config = url.parse().unwrap();
    config.password(password.as_str());
    let (client, connection) = config.connect(tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let name = format!(
        "groupgate_l{}_{}",
        std::process::id(),
        DATABASES.fetch_add(1, Ordering::SeqCst)
    );
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let base = url.rsplit_once('/').unwrap().0;
    let options =
        PostgresOptions::new(format!("{base}/{name}")).with_password(Secret::new(password));
    Some(PostgresStore::open(options).await.unwrap())
}

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_795_000_000, 0).unwrap()
}

fn step(workflow: &str, expected: u64, n: i64, timers: Option<Vec<Timer>>) -> Commit {
    Commit {
        workflow: WorkflowId::new(workflow),
        expected_version: Some(expected),
        records: vec![NewRecord {
            at: t0() + TimeDelta::seconds(n),
            actor: Actor::System,
            entry: Entry::Incident {
                operation: format!("{workflow} step {n}"),
                error: "none".into(),
            },
        }],
        summary: None,
        timers,
    }
}

fn due(workflow: &str, key: &str) -> Timer {
    Timer {
        workflow: WorkflowId::new(workflow),
        key: key.into(),
        at: t0(),
        purpose: Wake::Expiry,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn workers_claiming_at_once_get_disjoint_workflows() {
    let Some(store) = fresh().await else { return };
    for i in 0..30 {
        let w = format!("W{i:02}");
        // Two due timers each: claiming must not hand one workflow out twice.
        store
            .commit(&step(&w, 0, i, Some(vec![due(&w, "a"), due(&w, "b")])))
            .await
            .unwrap();
    }
    let now = t0() + TimeDelta::minutes(1);
    let mut claims = Vec::new();
    for worker in 0..3 {
        let store = store.clone();
        claims.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = store
                    .claim_due(&format!("worker-{worker}"), now, TimeDelta::seconds(30), 4)
                    .await
                    .unwrap();
                if got.is_empty() {
                    return mine;
                }
                mine.extend(got);
            }
        }));
    }
    let mut all = Vec::new();
    for c in claims {
        all.extend(c.await.unwrap());
    }
    let workflows: BTreeSet<String> = all.iter().map(|l| l.workflow.to_string()).collect();
    assert_eq!(all.len(), 30, "each workflow claimed exactly once");
    assert_eq!(workflows.len(), 30);
    let tokens: BTreeSet<i64> = all.iter().map(|l| l.token).collect();
    assert_eq!(tokens.len(), 30, "every lease has its own token");
    // Nothing is left to claim while the leases live.
    assert!(
        store
            .claim_due("worker-9", now, TimeDelta::seconds(30), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_worker_paused_past_its_lease_is_fenced_out() {
    let Some(store) = fresh().await else { return };
    store
        .commit(&step("W", 0, 0, Some(vec![due("W", "expiry")])))
        .await
        .unwrap();
    let now = t0() + TimeDelta::minutes(1);
    let lease_for = TimeDelta::seconds(30);
    let old = store
        .claim_due("worker-a", now, lease_for, 10)
        .await
        .unwrap()
        .pop()
        .unwrap();
    // While it lives, nobody else gets it.
    assert!(
        store
            .claim(&WorkflowId::new("W"), "worker-b", now, lease_for)
            .await
            .unwrap()
            .is_none()
    );
    // Worker A writes a step under its lease.
    store
        .fenced(old.clone())
        .commit(&step("W", 1, 1, None))
        .await
        .unwrap();

    // A pauses past its lease; B takes the workflow over with a newer token.
    let later = now + TimeDelta::seconds(31);
    let new = store
        .claim(&WorkflowId::new("W"), "worker-b", later, lease_for)
        .await
        .unwrap()
        .unwrap();
    assert!(new.token > old.token);
    assert_eq!(
        store
            .lease_of(&WorkflowId::new("W"), later)
            .await
            .unwrap()
            .unwrap()
            .owner,
        "worker-b"
    );
    store
        .fenced(new.clone())
        .commit(&step("W", 2, 2, None))
        .await
        .unwrap();

    // A wakes up: its heartbeat says the lease is gone, and its write —
    // even at the right version — is refused and does not land.
    assert!(
        store
            .heartbeat(std::slice::from_ref(&old), later, lease_for)
            .await
            .unwrap()
            .is_empty()
    );
    let refused = store
        .fenced(old.clone())
        .commit(&step("W", 3, 3, None))
        .await
        .unwrap_err();
    assert_eq!(refused.class, ErrorClass::Conflict);
    assert!(refused.message.contains("fenced"), "{}", refused.message);
    let records = store.records(&WorkflowId::new("W"), 0).await.unwrap();
    assert_eq!(records.len(), 3);
    assert!(
        records
            .iter()
            .all(|r| !format!("{r:?}").contains("W step 3"))
    );
    // B goes on; its heartbeat keeps the lease; the trail verifies.
    store
        .fenced(new.clone())
        .commit(&step("W", 3, 4, None))
        .await
        .unwrap();
    assert_eq!(
        store
            .heartbeat(std::slice::from_ref(&new), later, lease_for)
            .await
            .unwrap()
            .len(),
        1
    );
    let mut text = String::new();
    for r in store.trail(0, 100).await.unwrap() {
        text.push_str(&r.to_json_line());
        text.push('\n');
    }
    assert_eq!(
        verify_trail(&text, &VerifyOptions::default())
            .unwrap()
            .records,
        4
    );
    // Released, it can be claimed at once; writes of other workflows are not fenced.
    store.release(&new).await.unwrap();
    assert!(
        store
            .claim(&WorkflowId::new("W"), "worker-c", later, lease_for)
            .await
            .unwrap()
            .is_some()
    );
    store
        .fenced(old)
        .commit(&step("other", 0, 9, None))
        .await
        .unwrap();
}
