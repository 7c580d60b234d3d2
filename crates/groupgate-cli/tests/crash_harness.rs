//! The crash harness: the real `groupgate worker` binary, the Graph and
//! ServiceNow emulators and a SQLite file, with the process killed (aborted,
//! no unwinding) at every point a traced run passes through — after each
//! kind of intent is stored and before its call, after each call and before
//! its outcome is stored, after every commit, during a bulk removal, while
//! a timer fires, while answers are collected — then restarted until the
//! scenario ends. Every run checks the memberships (none missing, none left
//! behind, none added twice), every ticket note once and each ticket's
//! state, the expiry that happened and the one still scheduled, and that
//! the exported trail verifies. A second, shorter run adds the emulators'
//! seeded 20 % fault rate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod crash;

use crash::{KillPoint, Run, RunReport};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::Duration;

/// Every moment a traced run passed through: each worker process's points,
/// with how many times that process had reached each before.
fn kill_points(traces: &[Vec<String>]) -> Vec<KillPoint> {
    let mut all = BTreeSet::new();
    for (invocation, trace) in traces.iter().enumerate() {
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for point in trace {
            let n = seen.entry(point.as_str()).or_default();
            *n += 1;
            all.insert(KillPoint {
                invocation,
                point: format!("{point}@{n}"),
            });
        }
    }
    all.into_iter().collect()
}

/// A seeded, reproducible order (no randomness source needed).
fn shuffled(mut points: Vec<KillPoint>, seed: u64) -> Vec<KillPoint> {
    let mut state = seed;
    for i in (1..points.len()).rev() {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let j = (state >> 33) as usize % (i + 1);
        points.swap(i, j);
    }
    points
}

fn run_all(
    points: &[KillPoint],
    fault_rate: f64,
    label: &str,
    patience: Duration,
) -> Vec<(KillPoint, RunReport)> {
    let queue = Mutex::new(points.iter().cloned().enumerate().collect::<Vec<_>>());
    let results = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                loop {
                    let Some((i, point)) = queue.lock().unwrap().pop() else {
                        return;
                    };
                    let run = Run::start(&format!("{label}-{i}"), fault_rate, 7 + i as u64);
                    let report = run.play(Some(&point), false, patience);
                    results.lock().unwrap().push((point, report));
                }
            });
        }
    });
    results.into_inner().unwrap()
}

fn summarise(label: &str, results: &[(KillPoint, RunReport)]) -> usize {
    let crashed = results.iter().filter(|(_, r)| r.crashed).count();
    let mut checks: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, r) in results {
        for (k, v) in &r.checks {
            *checks.entry(k).or_default() += v;
        }
    }
    let invocations: usize = results.iter().map(|(_, r)| r.invocations).sum();
    eprintln!(
        "crash harness ({label}): {} runs, {crashed} killed at their planned point, {invocations} worker processes",
        results.len()
    );
    for (k, v) in &checks {
        eprintln!("  {k}: {v} checks held");
    }
    let problems: Vec<String> = results
        .iter()
        .flat_map(|(p, r)| {
            r.problems
                .iter()
                .map(move |x| format!("killed at {p}: {x}"))
        })
        .collect();
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
    crashed
}

#[test]
fn the_worker_killed_at_every_point_resumes_with_nothing_lost_or_doubled() {
    // A traced run lists every point the scenario passes through.
    let traced = Run::start("trace", 0.0, 1).play(None, true, Duration::from_secs(60));
    assert!(traced.problems.is_empty(), "{:?}", traced.problems);
    let points = kill_points(&traced.traces);
    eprintln!(
        "crash harness: {} kill points traced over {} worker processes",
        points.len(),
        traced.invocations
    );
    assert!(
        points.len() >= 200,
        "only {} kill points: {points:?}",
        points.len()
    );
    let kinds: BTreeSet<&str> = points
        .iter()
        .map(|k| k.point.split('@').next().unwrap_or(""))
        .collect();
    eprintln!("crash harness: {} kinds of point: {kinds:?}", kinds.len());
    // GROUPGATE_HARNESS_FAULTS_ONLY=N skips to N runs of the fault part
    // (for working on it).
    let faults_only: Option<usize> = std::env::var("GROUPGATE_HARNESS_FAULTS_ONLY")
        .ok()
        .and_then(|v| v.parse().ok());
    if faults_only.is_none() {
        let results = run_all(&points, 0.0, "kill", Duration::from_secs(60));
        let crashed = summarise("no faults", &results);
        assert!(
            crashed >= 200,
            "only {crashed} runs died at their planned point"
        );
    }

    // The same, shorter, with 20 % of Graph and ServiceNow calls failing.
    let some = shuffled(points, 20261201)
        .into_iter()
        .take(faults_only.unwrap_or(24))
        .collect::<Vec<_>>();
    let faulty = run_all(&some, 0.2, "faults", Duration::from_secs(180));
    summarise("20 % faults", &faulty);
}
