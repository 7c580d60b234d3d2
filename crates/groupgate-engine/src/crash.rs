//! Named points where a test can make the process die, to prove that a
//! crash at the worst moment loses nothing. Inert unless the environment
//! variable `GROUPGATE_TEST_CRASH_AT` is set, as `POINT` or `POINT@N` (die
//! at the N-th time, from 1, the process reaches that point); the process
//! then aborts at once — a real death, no unwinding, no destructors, no
//! flushing — exactly as a kill would leave it.
//!
//! With `GROUPGATE_TEST_CRASH_TRACE` set, every point reached is printed to
//! stderr as `groupgate-crash-point NAME`, so a harness can list the points
//! a scenario passes through before choosing where to kill it.
//!
//! Points (`<action>` is a command's action name, e.g. `add_member`):
//! - `effect:<action>:before` — the intent is committed, the call not made;
//! - `effect:<action>:after` — the call returned, its outcome not committed;
//! - `commit:after` — any step was committed;
//! - `offboard:removed` — a bulk removal returned, nothing recorded yet;
//! - `timer:fire` — a due timer's workflow is loaded, the timer not applied;
//! - `answers:collected` — answers were read, none applied yet.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

struct Plan {
    point: String,
    at: u64,
    seen: AtomicU64,
}

fn tracing_points() -> bool {
    static TRACE: OnceLock<bool> = OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("GROUPGATE_TEST_CRASH_TRACE").is_some())
}

fn plan() -> Option<&'static Plan> {
    static PLAN: OnceLock<Option<Plan>> = OnceLock::new();
    PLAN.get_or_init(|| {
        let spec = std::env::var("GROUPGATE_TEST_CRASH_AT").ok()?;
        let (point, at) = match spec.rsplit_once('@') {
            Some((p, n)) => (p.to_owned(), n.parse().ok()?),
            None => (spec, 1),
        };
        Some(Plan {
            point,
            at,
            seen: AtomicU64::new(0),
        })
    })
    .as_ref()
}

/// Dies here when this is the planned point and occurrence.
pub(crate) fn point(name: &str) {
    if tracing_points() {
        eprintln!("groupgate-crash-point {name}");
    }
    if let Some(plan) = plan()
        && plan.point == name
        && plan.seen.fetch_add(1, Ordering::SeqCst) + 1 == plan.at
    {
        eprintln!("groupgate: test crash at {name}@{}", plan.at);
        std::process::abort();
    }
}

/// [`point`] for an effect, named after its action.
pub(crate) fn effect(action: &str, when: &str) {
    if plan().is_some() || tracing_points() {
        point(&format!("effect:{action}:{when}"));
    }
}
