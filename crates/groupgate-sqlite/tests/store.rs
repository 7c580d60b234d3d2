//! The SQLite store: the shared Store conformance suite, persistence across
//! reopening, and clear errors for files it must not use.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use groupgate_core::ports::Store;
use groupgate_sqlite::{Durability, SqliteError, SqliteOptions, SqliteStore};
use std::path::PathBuf;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("groupgate-sqlite-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn it_passes_the_store_conformance_suite_at_both_durabilities() {
    for (name, durability) in [("full", Durability::Full), ("normal", Durability::Normal)] {
        let dir = scratch(name);
        let store = SqliteStore::open(
            dir.join("g.db"),
            SqliteOptions {
                durability,
                ..Default::default()
            },
        )
        .unwrap();
        groupgate_sim::conformance::check_store(&store).await;
    }
}

#[tokio::test]
async fn the_memory_store_passes_the_same_suite() {
    groupgate_sim::conformance::check_store(&groupgate_sim::MemoryStore::default()).await;
}

#[tokio::test]
async fn everything_survives_reopening_and_the_chain_goes_on() {
    let dir = scratch("reopen");
    let path = dir.join("g.db");
    {
        let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
        groupgate_sim::conformance::check_store(&store).await;
    }
    let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    let head = store.head().await.unwrap().expect("records kept");
    let trail = store.trail(0, usize::MAX).await.unwrap();
    assert_eq!(trail.last().unwrap().head(), head);
    let text: String = trail.iter().map(|r| r.to_json_line() + "\n").collect();
    groupgate_core::audit::verify_jsonl(&text).unwrap();
    assert!(store.next_timer().await.unwrap().is_some(), "timers kept");
    let rows = store.find(&Default::default()).await.unwrap();
    assert_eq!(rows.len(), 3, "index rows kept");
    store.check_integrity().unwrap();
    // A backup is a store too.
    let copy = dir.join("backup.db");
    store.backup_to(&copy).unwrap();
    let restored = SqliteStore::open(&copy, SqliteOptions::default()).unwrap();
    assert_eq!(restored.head().await.unwrap(), Some(head));
}

#[test]
fn files_it_must_not_use_are_refused_by_name_and_left_alone() {
    let dir = scratch("refuse");
    // Not a database.
    let text = dir.join("notes.txt");
    std::fs::write(
        &text,
        "this is not a database, just text that is long enough to have a header page ".repeat(20),
    )
    .unwrap();
    let err = SqliteStore::open(&text, SqliteOptions::default()).unwrap_err();
    assert!(matches!(err, SqliteError::NotADatabase { .. }), "{err}");
    assert!(err.to_string().contains("notes.txt"), "{err}");
    assert!(
        std::fs::read_to_string(&text)
            .unwrap()
            .starts_with("this is not"),
        "untouched"
    );
    // Another application's database.
    let other = dir.join("other.db");
    {
        let conn = rusqlite_conn(&other);
        conn.execute_batch("CREATE TABLE invoices (id INTEGER PRIMARY KEY);")
            .unwrap();
    }
    let err = SqliteStore::open(&other, SqliteOptions::default()).unwrap_err();
    assert!(matches!(err, SqliteError::Foreign { .. }), "{err}");
    // A newer schema.
    let newer = dir.join("newer.db");
    drop(SqliteStore::open(&newer, SqliteOptions::default()).unwrap());
    rusqlite_conn(&newer)
        .execute_batch("PRAGMA user_version = 99;")
        .unwrap();
    let err = SqliteStore::open(&newer, SqliteOptions::default()).unwrap_err();
    assert!(
        matches!(err, SqliteError::Newer { found: 99, .. }) && err.to_string().contains("newer"),
        "{err}"
    );
    // A folder that does not exist.
    let err =
        SqliteStore::open(dir.join("missing/sub/g.db"), SqliteOptions::default()).unwrap_err();
    assert!(err.to_string().contains("folder"), "{err}");
}

#[test]
fn processes_opening_a_new_file_at_once_migrate_it_once() {
    // Found by the worker tests: a worker and `groupgate workflows list`
    // starting together both read version 0, and the second migration
    // failed with "table records already exists".
    for round in 0..20 {
        let dir = scratch(&format!("race-{round}"));
        let path = dir.join("g.db");
        let opened: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|_| scope.spawn(|| SqliteStore::open(&path, SqliteOptions::default())))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for store in opened {
            let store = store.unwrap_or_else(|e| panic!("round {round}: {e}"));
            store.check_integrity().unwrap();
        }
    }
}

#[test]
fn a_damaged_file_is_reported_not_reinitialised() {
    let dir = scratch("damaged");
    let path = dir.join("g.db");
    drop(SqliteStore::open(&path, SqliteOptions::default()).unwrap());
    // Overwrite the middle of the file (the schema's pages).
    let mut bytes = std::fs::read(&path).unwrap();
    let len = bytes.len();
    for b in &mut bytes[100..len.min(4096 * 2)] {
        *b = 0xA5;
    }
    std::fs::write(&path, &bytes).unwrap();
    let err = SqliteStore::open(&path, SqliteOptions::default()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("g.db"), "{text}");
    assert!(
        matches!(
            err,
            SqliteError::Corrupt { .. } | SqliteError::NotADatabase { .. }
        ),
        "{text}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "left as it was");
}

fn rusqlite_conn(path: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

#[test]
fn a_file_of_the_previous_version_is_migrated_in_place() {
    let dir = scratch("migrate");
    let path = dir.join("g.db");
    drop(SqliteStore::open(&path, SqliteOptions::default()).unwrap());
    // Make it a version-1 file: no chat tables, no worker state.
    rusqlite_conn(&path)
        .execute_batch(
            "DROP TABLE chat_cards; DROP TABLE chat_tokens; DROP TABLE worker_state; PRAGMA user_version = 1;",
        )
        .unwrap();
    let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    let now = "2026-11-25T10:00:00Z".parse().unwrap();
    assert!(store.use_chat_token("t1", now, now).unwrap());
    assert!(
        !store.use_chat_token("t1", now, now).unwrap(),
        "a token is used once"
    );
    assert!(store.chat_token_used("t1").unwrap());
    let version: i64 = rusqlite_conn(&path)
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 3);
    assert_eq!(store.worker_state("k").unwrap(), None);
    store.set_worker_state("k", "v1").unwrap();
    store.set_worker_state("k", "v2").unwrap();
    assert_eq!(store.worker_state("k").unwrap().as_deref(), Some("v2"));
    store.clear_worker_state("k").unwrap();
    assert_eq!(store.worker_state("k").unwrap(), None);
}
