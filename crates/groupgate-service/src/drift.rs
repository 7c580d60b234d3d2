//! The drift report as the worker runs it: `groupgate drift` on demand,
//! and every `drift.poll_seconds` when set.

use crate::{Service, ServiceError};
use groupgate_engine::DriftReport;
use serde::Deserialize;
use std::time::Instant;
use tracing::{info, warn};

/// Drift report settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriftSettings {
    /// Seconds between reports (3,600 to 604,800).
    #[serde(default = "one_day")]
    pub poll_seconds: u64,
    /// Direct members read per group at most.
    #[serde(default = "ten_thousand")]
    pub max_members: u32,
}

impl Default for DriftSettings {
    fn default() -> Self {
        Self {
            poll_seconds: one_day(),
            max_members: ten_thousand(),
        }
    }
}

fn one_day() -> u64 {
    86_400
}

fn ten_thousand() -> u32 {
    10_000
}

impl Service {
    /// Reports drift in every governed group (recorded in the audit trail;
    /// nothing is changed).
    pub async fn drift_report(&self) -> Result<DriftReport, ServiceError> {
        let max = self
            .settings
            .drift
            .as_ref()
            .map_or(ten_thousand(), |d| d.max_members);
        let report = self.engine.drift_report(max).await?;
        let unaccounted: usize = report.groups.iter().map(|g| g.unaccounted.len()).sum();
        let gone: usize = report.groups.iter().map(|g| g.gone.len()).sum();
        metrics::gauge!("groupgate_drift_unaccounted_members").set(unaccounted as f64);
        metrics::gauge!("groupgate_drift_gone_memberships").set(gone as f64);
        info!(
            unaccounted,
            gone,
            groups = report.groups.len(),
            "drift report"
        );
        Ok(report)
    }

    /// Reports when `drift.poll_seconds` have passed since the last report.
    pub(crate) async fn drift_when_due(&self) {
        let Some(every) = self.settings.drift.as_ref().map(|d| d.poll_seconds) else {
            return;
        };
        let due = self
            .last_drift
            .lock()
            .map(|l| l.is_none_or(|t| t.elapsed().as_secs() >= every))
            .unwrap_or(false);
        if !due {
            return;
        }
        if let Ok(mut l) = self.last_drift.lock() {
            *l = Some(Instant::now());
        }
        if let Err(e) = self.drift_report().await {
            warn!(error = %e, "the drift report failed; tried again at the next one");
        }
    }
}
