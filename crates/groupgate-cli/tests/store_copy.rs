//! `groupgate store migrate | copy` against the PostgreSQL test server
//! (`scripts/postgres-test-server`, started by `scripts/test-all`): the
//! demo's SQLite store copied into an empty database, every record with its
//! hash, the index rows and timers with it, the copy verified; a second
//! copy into the same database refused. Skipped loudly without a server,
//! failed under CI.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use std::process::{Command, Output};

fn groupgate(args: &[&str], password: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_groupgate"))
        .args(args)
        .env("GROUPGATE_POSTGRES_PASSWORD", password)
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn the_demo_store_copies_to_postgres_and_verifies() {
    let Ok(url) = std::env::var("GROUPGATE_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var_os("GROUPGATE_CI").is_none(),
            "GROUPGATE_TEST_POSTGRES_URL is not set under CI: scripts/test-all starts the server"
        );
        eprintln!("SKIPPED: no PostgreSQL test server (run scripts/test-all)");
        return;
    };
    let password = std::env::var("GROUPGATE_TEST_POSTGRES_PASSWORD").unwrap_or_default();
    let dir = std::env::temp_dir().join(format!("groupgate-copy-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = groupgate(&["demo", "--keep", dir.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let store = dir.join("groupgate.db");
    assert!(
        store.is_file(),
        "the demo kept no store at {}",
        store.display()
    );

    // A new database for the copy.
    let admin = Command::new("psql")
        .args([
            &url,
            "-c",
            &format!("CREATE DATABASE groupgate_copy_{}", std::process::id()),
        ])
        .env("PGPASSWORD", &password)
        .output();
    let base = url.rsplit_once('/').unwrap().0;
    let target = format!("postgres:{base}/groupgate_copy_{}", std::process::id());
    match admin {
        Ok(o) if o.status.success() => {}
        other => panic!("cannot create the copy's database with psql: {other:?}"),
    }

    let out = groupgate(&["store", "migrate", "--to", &target], &password);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("schema version"), "{}", text(&out));

    let from = format!("sqlite:{}", store.display());
    let out = groupgate(
        &["store", "copy", "--from", &from, "--to", &target],
        &password,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("the copy's trail verifies"), "{said}");
    assert!(said.contains("4 workflows"), "{said}");

    // The same copy again is refused: the database is no longer empty.
    let out = groupgate(
        &["store", "copy", "--from", &from, "--to", &target],
        &password,
    );
    assert_ne!(out.status.code(), Some(0));
    assert!(text(&out).contains("not empty"), "{}", text(&out));
    // A wrong password is said as such, and never echoed.
    let out = groupgate(&["store", "migrate", "--to", &target], "wrong-password-123");
    assert_ne!(out.status.code(), Some(0));
    assert!(text(&out).contains("credentials"), "{}", text(&out));
    assert!(!text(&out).contains("wrong-password-123"));
    let _ = std::fs::remove_dir_all(&dir);
}
