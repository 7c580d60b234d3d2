//! The trail's append rate on PostgreSQL with 1, 2, 4 and 8 concurrent
//! writers (each its own workflow, one record per commit, as a step
//! writes): where the chain's serial point is.
//!
//! ```sh
//! eval "$(scripts/postgres-test-server start)"
//! cargo run --release -p groupgate-postgres --example append_rate
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)] // a measurement: a failure should stop it

use chrono::{DateTime, TimeDelta, Utc};
use groupgate_core::audit::{Actor, Entry, NewRecord};
use groupgate_core::ports::{Commit, Store};
use groupgate_core::{Secret, WorkflowId};
use groupgate_postgres::{PostgresOptions, PostgresStore};
use std::time::Instant;

const COMMITS_PER_WRITER: u64 = 400;

fn record(n: u64) -> NewRecord {
    let t0 = DateTime::<Utc>::from_timestamp(1_795_000_000, 0).unwrap();
    NewRecord {
        at: t0 + TimeDelta::milliseconds(n as i64),
        actor: Actor::System,
        entry: Entry::Incident {
            operation: format!("step {n}"),
            error: "none".into(),
        },
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let url = std::env::var("GROUPGATE_TEST_POSTGRES_URL")
        .expect("set GROUPGATE_TEST_POSTGRES_URL (scripts/postgres-test-server start)");
    let password = std::env::var("GROUPGATE_TEST_POSTGRES_PASSWORD").unwrap_or_default();
    let store = PostgresStore::open(PostgresOptions {
        pool_size: 16,
        ..PostgresOptions::new(url).with_password(Secret::new(password))
    })
    .await
    .unwrap();
    println!("| writers | commits | commits/s |\n|---:|---:|---:|");
    for (run, writers) in [1u64, 2, 4, 8].into_iter().enumerate() {
        let started = Instant::now();
        let mut tasks = Vec::new();
        for w in 0..writers {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let workflow = WorkflowId::new(format!("bench-{run}-{w}-{}", std::process::id()));
                for step in 0..COMMITS_PER_WRITER {
                    store
                        .commit(&Commit {
                            workflow: workflow.clone(),
                            expected_version: Some(step),
                            records: vec![record(step)],
                            summary: None,
                            timers: None,
                        })
                        .await
                        .unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let total = writers * COMMITS_PER_WRITER;
        let rate = total as f64 / started.elapsed().as_secs_f64();
        println!("| {writers} | {total} | {rate:.0} |");
    }
}
