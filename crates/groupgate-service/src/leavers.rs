//! Leavers found in the directory: the worker follows Graph's users delta
//! query (the delta link kept in the store, so a restart resumes where it
//! stopped) and queues an offboarding of every user who is disabled or
//! deleted and still has a workflow that is not over — a request in flight
//! or access being held. The offboarding then ends every governed
//! membership at once, cancels the open workflows and notes the tickets,
//! exactly as `groupgate offboard` does.

use crate::{Service, ServiceError};
use groupgate_core::ports::WorkflowFilter;
use groupgate_graph::UsersDelta;
use serde::Deserialize;
use std::time::Instant;
use tracing::{info, warn};

/// The store key of the users delta link.
const DELTA_LINK: &str = "graph.users_delta_link";
/// Who queued an offboarding found this way.
pub const LEAVER_OPERATOR: &str = "leaver-detection";

/// Leaver detection settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaverSettings {
    /// Seconds between reads of the users delta (60 to 86,400).
    #[serde(default = "five_minutes")]
    pub poll_seconds: u64,
}

fn five_minutes() -> u64 {
    300
}

/// What one read of the delta found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeaverScan {
    /// Users whose changes were read.
    pub changes: usize,
    /// Of those, disabled or deleted.
    pub leavers: usize,
    /// Offboardings queued (leavers with a workflow that is not over).
    pub queued: Vec<String>,
    /// The delta link had expired: everything was read again.
    pub resynced: bool,
}

impl Service {
    /// Reads the users' changes since the last read and queues an
    /// offboarding for each leaver groupgate governs access for.
    pub async fn scan_for_leavers(&self) -> Result<LeaverScan, ServiceError> {
        let mut scan = LeaverScan::default();
        let mut link = self.store.worker_state(DELTA_LINK)?;
        let (changes, delta_link) = loop {
            match self.graph.users_delta(link.as_deref()).await {
                Ok(UsersDelta::Changes {
                    changes,
                    delta_link,
                }) => break (changes, delta_link),
                Ok(UsersDelta::Expired) if link.is_some() => {
                    warn!("the users delta link expired; reading every user again");
                    self.store.clear_worker_state(DELTA_LINK)?;
                    scan.resynced = true;
                    link = None;
                }
                Ok(UsersDelta::Expired) => {
                    return Err(ServiceError::Port(
                        groupgate_core::ports::PortError::permanent(
                            "Graph answered a first users delta read with 410",
                        ),
                    ));
                }
                Err(e) => return Err(ServiceError::Port(e)),
            }
        };
        scan.changes = changes.len();
        let pending: Vec<String> = self
            .store
            .pending_offboardings()?
            .into_iter()
            .map(|q| q.user.to_ascii_lowercase())
            .collect();
        for change in changes.iter().filter(|c| c.is_leaver()) {
            scan.leavers += 1;
            let id = change.id.to_string();
            if pending.contains(&id.to_ascii_lowercase()) || scan.queued.contains(&id) {
                continue;
            }
            let filter = WorkflowFilter {
                target: Some(change.id.clone()),
                open: Some(true),
                limit: 1,
                ..WorkflowFilter::default()
            };
            if self.engine.summaries(&filter).await?.is_empty() {
                continue;
            }
            let queued = self.queue_offboarding(&id, LEAVER_OPERATOR)?;
            info!(user = %id, queued, removed = ?change.removed, enabled = ?change.enabled, "leaver found; offboarding queued");
            scan.queued.push(id);
        }
        // Kept only once every leaver of this read is queued: a crash before
        // reads the same changes again.
        self.store.set_worker_state(DELTA_LINK, &delta_link)?;
        metrics::counter!("groupgate_leavers_found_total").increment(scan.leavers as u64);
        metrics::counter!("groupgate_leaver_offboardings_queued_total")
            .increment(scan.queued.len() as u64);
        Ok(scan)
    }

    /// Scans when `leavers.poll_seconds` have passed since the last scan.
    pub(crate) async fn scan_for_leavers_when_due(&self) -> Option<LeaverScan> {
        let every = self.settings.leavers.as_ref()?.poll_seconds;
        let due = self
            .last_leaver_scan
            .lock()
            .map(|l| l.is_none_or(|t| t.elapsed().as_secs() >= every))
            .unwrap_or(false);
        if !due {
            return None;
        }
        if let Ok(mut l) = self.last_leaver_scan.lock() {
            *l = Some(Instant::now());
        }
        match self.scan_for_leavers().await {
            Ok(scan) => Some(scan),
            Err(e) => {
                warn!(error = %e, "the directory's leavers could not be read; tried again at the next scan");
                None
            }
        }
    }
}
