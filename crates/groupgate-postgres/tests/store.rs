//! The PostgreSQL store against a real server (`scripts/postgres-test-server`,
//! started by `scripts/test-all`): the shared Store conformance suite, one
//! unbroken chain under many concurrent writers, a stale writer refused,
//! concurrent first opens migrating once, and clear errors for an
//! unreachable server, wrong credentials, a newer schema and unsafe
//! connection strings. Without a server the tests say loudly that they were
//! skipped; under CI (`GROUPGATE_CI`) a missing server fails them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use chrono::{DateTime, TimeDelta, Utc};
use groupgate_core::Secret;
use groupgate_core::WorkflowId;
use groupgate_core::audit::{Actor, Entry, NewRecord, VerifyOptions, verify_trail};
use groupgate_core::ports::{Commit, ErrorClass, Store};
use groupgate_postgres::{PostgresError, PostgresOptions, PostgresStore, SCHEMA_VERSION};
use std::sync::atomic::{AtomicU32, Ordering};

static DATABASES: AtomicU32 = AtomicU32::new(0);

/// The test server's URL and password, or `None` (said loudly) without one.
fn server() -> Option<(String, String)> {
    match std::env::var("GROUPGATE_TEST_POSTGRES_URL") {
        Ok(url) => Some((
            url,
            std::env::var("GROUPGATE_TEST_POSTGRES_PASSWORD").unwrap_or_default(),
        )),
        Err(_) => {
            assert!(
                std::env::var_os("GROUPGATE_CI").is_none(),
                "GROUPGATE_TEST_POSTGRES_URL is not set under CI: scripts/test-all starts the server"
            );
            eprintln!(
                "SKIPPED: no PostgreSQL test server (run scripts/test-all, or eval \"$(scripts/postgres-test-server start)\")"
            );
            None
        }
    }
}

/// A fresh database on the test server, and options for it.
async fn fresh() -> Option<PostgresOptions> {
    let (url, password) = server()?;
    let mut config: tokio_postgres::Config = url.parse().unwrap();
    config.password(password.as_str());
    let (client, connection) = config.connect(tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let name = format!(
        "groupgate_t{}_{}",
        std::process::id(),
        DATABASES.fetch_add(1, Ordering::SeqCst)
    );
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let base = url.rsplit_once('/').unwrap().0;
    Some(PostgresOptions::new(format!("{base}/{name}")).with_password(Secret::new(password)))
}

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_795_000_000, 0).unwrap()
}

fn record(n: u64) -> NewRecord {
    NewRecord {
        at: t0() + TimeDelta::seconds(n as i64),
        actor: Actor::System,
        entry: Entry::Incident {
            operation: format!("step {n}"),
            error: "none".into(),
        },
    }
}

fn commit(workflow: &str, expected: Option<u64>, n: u64) -> Commit {
    Commit {
        workflow: WorkflowId::new(workflow),
        expected_version: expected,
        records: vec![record(n)],
        summary: None,
        timers: None,
    }
}

async fn whole_trail(store: &PostgresStore) -> String {
    let mut text = String::new();
    let mut from = 0;
    loop {
        let page = store.trail(from, 500).await.unwrap();
        if page.is_empty() {
            return text;
        }
        for r in &page {
            text.push_str(&r.to_json_line());
            text.push('\n');
        }
        from = page.last().unwrap().seq + 1;
    }
}

#[tokio::test]
async fn it_passes_the_store_conformance_suite() {
    let Some(options) = fresh().await else { return };
    let store = PostgresStore::open(options).await.unwrap();
    groupgate_sim::conformance::check_store(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_writers_append_one_unbroken_chain() {
    let Some(options) = fresh().await else { return };
    let store = PostgresStore::open(options).await.unwrap();
    let mut tasks = Vec::new();
    for writer in 0..8u64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for step in 0..25u64 {
                let workflow = format!("W{writer}");
                store
                    .commit(&commit(&workflow, Some(step), writer * 100 + step))
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let text = whole_trail(&store).await;
    let report = verify_trail(&text, &VerifyOptions::default()).unwrap();
    assert_eq!(report.records, 200);
    for writer in 0..8 {
        let records = store
            .records(&WorkflowId::new(format!("W{writer}")), 0)
            .await
            .unwrap();
        assert_eq!(records.len(), 25);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_two_writers_at_the_same_version_one_wins_and_one_is_refused() {
    let Some(options) = fresh().await else { return };
    let store = PostgresStore::open(options).await.unwrap();
    store.commit(&commit("W", Some(0), 0)).await.unwrap();
    let (first, second) = (commit("W", Some(1), 1), commit("W", Some(1), 2));
    let (a, b) = tokio::join!(store.commit(&first), store.commit(&second));
    let outcomes = [a, b];
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1);
    let refused = outcomes.into_iter().find_map(Result::err).unwrap();
    assert_eq!(refused.class, ErrorClass::Conflict);
    assert_eq!(
        store.records(&WorkflowId::new("W"), 0).await.unwrap().len(),
        2
    );
    verify_trail(&whole_trail(&store).await, &VerifyOptions::default()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn processes_opening_a_new_database_at_once_migrate_it_once() {
    let Some(options) = fresh().await else { return };
    let mut opens = Vec::new();
    for _ in 0..6 {
        let options = options.clone();
        opens.push(tokio::spawn(
            async move { PostgresStore::open(options).await },
        ));
    }
    for o in opens {
        o.await.unwrap().unwrap();
    }
    let store = PostgresStore::open(options).await.unwrap();
    groupgate_sim::conformance::check_store(&store).await;
}

#[tokio::test]
async fn a_database_of_a_newer_groupgate_is_refused_and_left_alone() {
    let Some(options) = fresh().await else { return };
    PostgresStore::open(options.clone()).await.unwrap();
    let mut config: tokio_postgres::Config = options.url.parse().unwrap();
    config.password(options.password.as_ref().unwrap().expose());
    let (client, connection) = config.connect(tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client
        .execute(
            "UPDATE groupgate_schema SET version = $1",
            &[&(SCHEMA_VERSION + 5)],
        )
        .await
        .unwrap();
    let err = PostgresStore::open(options).await.unwrap_err();
    assert!(
        matches!(err, PostgresError::NewerSchema { found, .. } if found == SCHEMA_VERSION + 5),
        "{err}"
    );
    assert!(err.to_string().contains("never downgrade"), "{err}");
    let version: i64 = client
        .query_one("SELECT version FROM groupgate_schema", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(version, SCHEMA_VERSION + 5);
}

#[tokio::test]
async fn wrong_credentials_are_said_as_such() {
    let Some(options) = fresh().await else { return };
    let err = PostgresStore::open(options.with_password(Secret::new("not-the-password")))
        .await
        .unwrap_err();
    assert!(matches!(err, PostgresError::Credentials { .. }), "{err}");
    assert!(
        err.to_string().contains("GROUPGATE_POSTGRES_PASSWORD"),
        "{err}"
    );
    assert!(!err.to_string().contains("not-the-password"), "{err}");
}

#[tokio::test]
async fn an_unreachable_server_is_said_as_such() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = PostgresStore::open(PostgresOptions::new(format!(
        "postgres://groupgate@127.0.0.1:{port}/groupgate"
    )))
    .await
    .unwrap_err();
    assert!(matches!(err, PostgresError::Unreachable { .. }), "{err}");
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
}

#[tokio::test]
async fn unsafe_connection_strings_are_refused_before_connecting() {
    let err = PostgresStore::open(PostgresOptions::new(
        "postgres://groupgate:hunter2@127.0.0.1:5432/groupgate",
    ))
    .await
    .unwrap_err();
    assert!(matches!(err, PostgresError::Settings(_)), "{err}");
    assert!(!err.to_string().contains("hunter2"), "{err}");
    let err = PostgresStore::open(PostgresOptions::new(
        "postgres://groupgate@db.example.com:5432/groupgate",
    ))
    .await
    .unwrap_err();
    assert!(err.to_string().contains("not on this machine"), "{err}");
    assert!(
        !format!(
            "{:?}",
            PostgresOptions::new("x").with_password(Secret::new("s3cret"))
        )
        .contains("s3cret")
    );
}
