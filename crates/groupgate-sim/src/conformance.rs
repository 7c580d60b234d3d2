//! The behaviour every [`Store`] must have, as one suite any implementation
//! runs on itself: the in-memory store, the SQLite store, and a store you
//! write. Each check panics with what went wrong.
//!
//! ```
//! # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! # rt.block_on(async {
//! groupgate_sim::conformance::check_store(&groupgate_sim::MemoryStore::default()).await;
//! # });
//! ```

// A conformance suite reports a broken guarantee by panicking, like a test.
#![allow(clippy::panic)]

use chrono::{DateTime, TimeDelta, Utc};
use groupgate_core::audit::{Actor, Entry, NewRecord, verify_jsonl};
use groupgate_core::ports::{Commit, ErrorClass, Store, Timer, WorkflowFilter, WorkflowSummary};
use groupgate_core::workflow::Wake;
use groupgate_core::{GroupId, TicketRef, UserId, WorkflowId};

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_795_000_000, 0).unwrap_or_default()
}

fn record(n: u64) -> NewRecord {
    NewRecord {
        at: t0() + TimeDelta::seconds(n as i64),
        actor: Actor::System,
        entry: Entry::Incident {
            operation: format!("conformance step {n}"),
            error: "none".into(),
        },
    }
}

fn summary(id: &str, target: &str, group: &str, phase: &str, open: bool) -> WorkflowSummary {
    WorkflowSummary {
        id: WorkflowId::new(id),
        ticket: TicketRef::new(id),
        target_name: format!("{target}@contoso.com"),
        target: Some(UserId::new(target)),
        group: Some(GroupId::new(group)),
        phase: phase.into(),
        open,
        pending: 0,
        in_flight: false,
        next_wake: None,
        last_error: None,
        version: 999,
        started_at: t0(),
        updated_at: t0(),
    }
}

fn timer(workflow: &str, key: &str, seconds: i64) -> Timer {
    Timer {
        workflow: WorkflowId::new(workflow),
        key: key.into(),
        at: t0() + TimeDelta::seconds(seconds),
        purpose: Wake::Expiry,
    }
}

fn commit(
    workflow: &str,
    expected: Option<u64>,
    records: Vec<NewRecord>,
    summary: Option<WorkflowSummary>,
    timers: Option<Vec<Timer>>,
) -> Commit {
    Commit {
        workflow: WorkflowId::new(workflow),
        expected_version: expected,
        records,
        summary,
        timers,
    }
}

/// Runs every check on an empty `store`.
pub async fn check_store(store: &dyn Store) {
    check_empty(store).await;
    check_commits_and_chain(store).await;
    check_index(store).await;
    check_timers(store).await;
}

async fn check_empty(store: &dyn Store) {
    assert!(
        store
            .head()
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .is_none()
    );
    assert!(
        store
            .next_timer()
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .is_none()
    );
    let all = store.find(&WorkflowFilter::default()).await;
    assert!(all.unwrap_or_else(|e| panic!("{e}")).is_empty());
    let none = store.records(&WorkflowId::new("W-none"), 0).await;
    assert!(none.unwrap_or_else(|e| panic!("{e}")).is_empty());
}

async fn check_commits_and_chain(store: &dyn Store) {
    let ok = |r: groupgate_core::ports::PortResult<groupgate_core::ports::Committed>| {
        r.unwrap_or_else(|e| panic!("{e}"))
    };
    let a = ok(store
        .commit(&commit(
            "W-a",
            Some(0),
            vec![record(0), record(1)],
            None,
            None,
        ))
        .await);
    assert_eq!(a.version, 2);
    assert_eq!(
        a.records.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![0, 1]
    );
    let b = ok(store
        .commit(&commit("W-b", Some(0), vec![record(2)], None, None))
        .await);
    assert_eq!((b.version, b.records[0].seq), (1, 2), "one global chain");
    assert_eq!(b.records[0].prev_hash, a.records[1].hash);
    // A stale writer: nothing is written.
    let stale = store
        .commit(&commit("W-a", Some(1), vec![record(3)], None, None))
        .await;
    match stale {
        Err(e) => assert_eq!(e.class, ErrorClass::Conflict, "{e}"),
        Ok(_) => panic!("a stale version must conflict"),
    }
    let head = store.head().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(head.map(|h| h.seq), Some(2), "the conflict wrote nothing");
    // Unchecked appends (records outside a workflow).
    ok(store
        .commit(&commit("audit", None, vec![record(4)], None, None))
        .await);
    let c = ok(store
        .commit(&commit("W-a", Some(2), vec![record(5)], None, None))
        .await);
    assert_eq!((c.version, c.records[0].seq), (3, 4));
    let mine = store
        .records(&WorkflowId::new("W-a"), 0)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        mine.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![0, 1, 4],
        "a workflow's records, in order"
    );
    let tail = store
        .records(&WorkflowId::new("W-a"), 2)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(tail.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![4]);
    let trail = store
        .trail(0, usize::MAX)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(trail.len(), 5);
    let text: String = trail.iter().map(|r| r.to_json_line() + "\n").collect();
    assert_eq!(verify_jsonl(&text).unwrap_or_else(|e| panic!("{e}")), 5);
    let none = store.trail(0, 0).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(none.is_empty(), "a limit of 0 is 0 records");
    let page = store.trail(1, 2).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(page.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![1, 2]);
    // A step that read the clock before another committed comes out no
    // earlier than the record before it: the trail's time never runs
    // backwards, and the trail still verifies.
    let late = ok(store
        .commit(&commit("W-late", None, vec![record(1)], None, None))
        .await);
    assert_eq!(late.records[0].at, t0() + TimeDelta::seconds(5));
    let trail = store
        .trail(0, usize::MAX)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let text: String = trail.iter().map(|r| r.to_json_line() + "\n").collect();
    assert_eq!(verify_jsonl(&text).unwrap_or_else(|e| panic!("{e}")), 6);
}

async fn check_index(store: &dyn Store) {
    let ok = |r: groupgate_core::ports::PortResult<groupgate_core::ports::Committed>| {
        r.unwrap_or_else(|e| panic!("{e}"))
    };
    let rows = [
        ("W-i1", "AAAA-u1", "G-1", "active", true),
        ("W-i2", "aaaa-u1", "G-2", "completed", false),
        ("W-i3", "bbbb-u2", "g-1", "awaiting_approval", true),
    ];
    for (id, t, g, p, o) in rows {
        let c = ok(store
            .commit(&commit(
                id,
                Some(0),
                vec![record(9)],
                Some(summary(id, t, g, p, o)),
                None,
            ))
            .await);
        let row = store
            .summary(&WorkflowId::new(id))
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("{id} has a row"));
        assert_eq!(row.version, c.version, "the store sets the version");
    }
    let ids = |found: Vec<WorkflowSummary>| {
        found
            .into_iter()
            .map(|r| r.id.to_string())
            .collect::<Vec<_>>()
    };
    let find =
        |f: WorkflowFilter| async move { store.find(&f).await.unwrap_or_else(|e| panic!("{e}")) };
    let by_target = find(WorkflowFilter {
        target: Some(UserId::new("aaaa-U1")),
        ..Default::default()
    })
    .await;
    assert_eq!(
        ids(by_target),
        vec!["W-i1", "W-i2"],
        "ids compare ignoring case"
    );
    let by_group = find(WorkflowFilter {
        group: Some(GroupId::new("G-1")),
        open: Some(true),
        ..Default::default()
    })
    .await;
    assert_eq!(ids(by_group), vec!["W-i1", "W-i3"]);
    let by_phase = find(WorkflowFilter {
        phase: Some("completed".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(ids(by_phase), vec!["W-i2"]);
    let page = find(WorkflowFilter {
        after: Some(WorkflowId::new("W-i1")),
        limit: 1,
        ..Default::default()
    })
    .await;
    assert_eq!(ids(page), vec!["W-i2"]);
    // A commit without a row keeps the row, with the new version.
    let c = ok(store
        .commit(&commit("W-i1", Some(1), vec![record(10)], None, None))
        .await);
    let row = store
        .summary(&WorkflowId::new("W-i1"))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("the row stays"));
    assert_eq!((row.version, row.phase.as_str()), (c.version, "active"));
    // A changed row leaves the old index entries.
    ok(store
        .commit(&commit(
            "W-i1",
            Some(2),
            vec![record(11)],
            Some(summary("W-i1", "cccc-u3", "G-3", "removed", false)),
            None,
        ))
        .await);
    let gone = find(WorkflowFilter {
        target: Some(UserId::new("aaaa-u1")),
        open: Some(true),
        ..Default::default()
    })
    .await;
    assert!(gone.is_empty(), "{gone:?}");
}

async fn check_timers(store: &dyn Store) {
    let ok = |r: groupgate_core::ports::PortResult<groupgate_core::ports::Committed>| {
        r.unwrap_or_else(|e| panic!("{e}"))
    };
    ok(store
        .commit(&commit(
            "W-t1",
            Some(0),
            vec![record(20)],
            None,
            Some(vec![
                timer("W-t1", "expiry", 300),
                timer("W-t1", "watchdog", 60),
            ]),
        ))
        .await);
    ok(store
        .commit(&commit(
            "W-t2",
            Some(0),
            vec![record(21)],
            None,
            Some(vec![timer("W-t2", "retry:x", 120)]),
        ))
        .await);
    let next = store.next_timer().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(next.map(|t| t.key), Some("watchdog".to_owned()));
    let due = store
        .due_timers(t0() + TimeDelta::seconds(200), 10)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        due.iter().map(|t| t.key.as_str()).collect::<Vec<_>>(),
        vec!["watchdog", "retry:x"],
        "due ones, earliest first"
    );
    let one = store
        .due_timers(t0() + TimeDelta::seconds(200), 1)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(one.len(), 1);
    // `None` leaves them; `Some` replaces all of the workflow's timers.
    ok(store
        .commit(&commit("W-t1", Some(1), vec![record(22)], None, None))
        .await);
    let still = store
        .due_timers(t0() + TimeDelta::seconds(1000), 10)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(still.len(), 3);
    ok(store
        .commit(&commit(
            "W-t1",
            Some(2),
            vec![record(23)],
            None,
            Some(vec![timer("W-t1", "expiry", 900)]),
        ))
        .await);
    let after = store
        .due_timers(t0() + TimeDelta::seconds(1000), 10)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        after
            .iter()
            .map(|t| (t.workflow.to_string(), t.key.clone()))
            .collect::<Vec<_>>(),
        vec![
            ("W-t2".to_owned(), "retry:x".to_owned()),
            ("W-t1".to_owned(), "expiry".to_owned())
        ]
    );
    ok(store
        .commit(&commit(
            "W-t2",
            Some(1),
            vec![record(24)],
            None,
            Some(Vec::new()),
        ))
        .await);
    let left = store.next_timer().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        left.map(|t| t.workflow.to_string()),
        Some("W-t1".to_owned())
    );
}
