//! Prometheus metrics on `GET /metrics`: what the engine and the adapters
//! report through the `metrics` facade (see `groupgate_engine::metrics`),
//! and, read from the store at each scrape, workflows by phase, the oldest
//! overdue timer and the offboarding queue. Counters are process-local:
//! they start at zero with the process (Prometheus' `rate()` and
//! `increase()` handle restarts).

use crate::Service;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};
use tracing::warn;

/// Workflows in the store, by phase and whether open (a gauge).
pub const WORKFLOWS: &str = "groupgate_workflows";
/// Seconds the earliest pending timer is overdue (0 when none is).
pub const TIMER_OVERDUE: &str = "groupgate_timer_overdue_seconds";
/// Offboardings queued and not yet carried out.
pub const OFFBOARDINGS_QUEUED: &str = "groupgate_offboardings_queued";
/// Seconds since the last pass ended.
pub const LAST_PASS_AGE: &str = "groupgate_last_pass_age_seconds";
/// Policy reloads refused since the process started.
pub const POLICY_RELOAD_FAILURES: &str = "groupgate_policy_reload_failures_total";
/// Requests the listener refused, by endpoint kind (`chat`, `webhook`).
pub const REFUSED_REQUESTS: &str = "groupgate_refused_requests_total";
/// Chat answers fed to the engine, by channel and whether they counted.
pub const CHAT_ANSWERS: &str = "groupgate_chat_answers_total";

/// Buckets for request and pass durations (seconds).
const FAST: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];
/// Buckets for approval latency and timer lag (seconds: a minute to a week).
const SLOW: &[f64] = &[
    1.0, 10.0, 60.0, 300.0, 900.0, 3600.0, 14_400.0, 86_400.0, 259_200.0, 604_800.0,
];

/// The process's Prometheus recorder, installed on first use; `None` when
/// the embedding program installed a recorder of its own (its metrics
/// then go there).
fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let built = PrometheusBuilder::new()
                .set_buckets(FAST)
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full(groupgate_engine::metrics::APPROVAL_LATENCY.to_owned()),
                        SLOW,
                    )
                })
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full(groupgate_engine::metrics::TIMER_LAG.to_owned()),
                        SLOW,
                    )
                })
                .and_then(PrometheusBuilder::install_recorder);
            match built {
                Ok(h) => Some(h),
                Err(e) => {
                    warn!(error = %e, "Prometheus metrics are off: another metrics recorder is installed");
                    None
                }
            }
        })
        .as_ref()
}

/// Installs the Prometheus recorder now (so counts from the first pass on
/// are kept); `false` when another recorder is installed.
pub fn install_prometheus() -> bool {
    handle().is_some()
}

/// Label sets of the store gauges already reported, so one that empties
/// goes to 0 rather than keeping its last value.
#[derive(Debug, Default)]
pub(crate) struct SeenPhases(Mutex<HashSet<(String, bool)>>);

impl Service {
    /// Sets the gauges read from the store.
    fn refresh_gauges(&self) {
        let stats = match self.store.stats() {
            Ok(s) => s,
            Err(e) => {
                warn!(error = %e, "the store's counts could not be read for /metrics");
                return;
            }
        };
        let Ok(mut seen) = self.seen_phases.0.lock() else {
            return;
        };
        let now_present: HashSet<(String, bool)> = stats
            .by_phase
            .iter()
            .map(|(p, open, _)| (p.clone(), *open))
            .collect();
        for (phase, open) in seen.difference(&now_present) {
            metrics::gauge!(WORKFLOWS, "phase" => phase.clone(), "open" => open.to_string())
                .set(0.0);
        }
        for (phase, open, n) in &stats.by_phase {
            metrics::gauge!(WORKFLOWS, "phase" => phase.clone(), "open" => open.to_string())
                .set(*n as f64);
        }
        seen.extend(now_present);
        let now = self.engine.now();
        let overdue = stats
            .earliest_timer
            .map(|at| (now - at).num_milliseconds().max(0) as f64 / 1000.0)
            .unwrap_or(0.0);
        metrics::gauge!(TIMER_OVERDUE).set(overdue);
        metrics::gauge!(OFFBOARDINGS_QUEUED).set(stats.queued_offboardings as f64);
        if let Some(age) = self
            .last_pass
            .lock()
            .ok()
            .and_then(|l| *l)
            .map(|t| t.elapsed().as_secs_f64())
        {
            metrics::gauge!(LAST_PASS_AGE).set(age);
        }
        metrics::counter!(POLICY_RELOAD_FAILURES).absolute(self.policy_reload_failures());
    }
}

/// `GET /metrics`, in Prometheus' text format.
pub(crate) async fn scrape(State(service): State<Arc<Service>>) -> Response {
    let Some(handle) = handle() else {
        return (
            StatusCode::NOT_FOUND,
            "metrics go to the embedding program's own recorder",
        )
            .into_response();
    };
    service.refresh_gauges();
    handle.run_upkeep();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle.render(),
    )
        .into_response()
}
