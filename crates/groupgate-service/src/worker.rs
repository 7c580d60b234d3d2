//! The worker loop: recovery at start, then passes — new requested items
//! taken in, approvers' answers, due timers, queued offboardings — one step
//! at a time per workflow, until asked to stop.

use crate::{Service, ServiceError};
use groupgate_core::WorkflowId;
use groupgate_engine::{EngineError, PassReport};
use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tracing::{info, info_span, warn};

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassSummary {
    /// Requested items started as workflows.
    pub taken_in: usize,
    /// Workflows stepped (recovered, woken or answered).
    pub stepped: usize,
    /// Timers fired.
    pub fired: usize,
    /// Offboardings carried out from the queue.
    pub offboarded: usize,
    /// Workflows that failed (each recorded in the audit trail).
    pub failures: usize,
}

impl PassSummary {
    fn add(&mut self, report: &PassReport) {
        self.stepped += report.stepped.len();
        self.fired += report.fired;
        self.failures += report.failures.len();
    }
}

/// Tickets whose intake failed in this process, so a RITM that cannot be
/// read is warned about once, not at every poll.
#[derive(Debug, Default)]
pub(crate) struct IntakeMemory(Mutex<HashSet<String>>);

impl Service {
    /// When the last pass ended, for `/readyz`.
    pub(crate) fn mark_pass(&self) {
        if let Ok(mut last) = self.last_pass.lock() {
            *last = Some(Instant::now());
        }
    }

    /// Takes up every workflow a previous process left with effects in
    /// flight (asking the world what happened) and drives it on.
    pub async fn recover(&self) -> Result<PassSummary, ServiceError> {
        let report = self.engine.recover().await?;
        let mut summary = PassSummary::default();
        summary.add(&report);
        Ok(summary)
    }

    /// One pass. With `intake`, new RITMs of the configured catalog items
    /// are taken in first.
    pub async fn pass(&self, intake: bool) -> Result<PassSummary, ServiceError> {
        let mut summary = PassSummary::default();
        self.reload_if_changed().await;
        if intake {
            summary.taken_in = self.take_in().await?;
        }
        summary.add(&self.engine.pass().await?);
        self.scan_for_leavers_when_due().await;
        self.drift_when_due().await;
        if let Err(e) = self.send_expiry_reminders().await {
            warn!(error = %e, "expiry reminders could not be sent; tried again next pass");
        }
        summary.offboarded = self.run_offboard_queue().await?;
        self.feed_audit_sink().await;
        self.mark_pass();
        Ok(summary)
    }

    /// Recovers, then runs passes until the engine's stop signal
    /// ([`groupgate_engine::Engine::stop_signal`]) is given: the workflow in
    /// hand finishes its step, nothing new is taken up, and `run` returns.
    /// New RITMs are polled every `intake.poll_seconds`, everything else
    /// runs every `worker.pass_seconds`.
    pub async fn run(&self) -> Result<(), ServiceError> {
        let stop = self.engine.stop_signal();
        let recovered = self.recover().await?;
        info!(stepped = recovered.stepped, "recovered");
        let pass_every = Duration::from_secs_f64(self.settings.worker.pass_seconds);
        let poll_every = Duration::from_secs(self.settings.intake.poll_seconds);
        let mut last_poll: Option<Instant> = None;
        while !stop.is_stopped() {
            let intake = last_poll.is_none_or(|t| t.elapsed() >= poll_every);
            if intake {
                last_poll = Some(Instant::now());
            }
            let summary = self.pass(intake).await?;
            if summary != PassSummary::default() {
                info!(
                    taken_in = summary.taken_in,
                    stepped = summary.stepped,
                    fired = summary.fired,
                    offboarded = summary.offboarded,
                    failures = summary.failures,
                    "pass"
                );
            }
            tokio::select! {
                () = stop.stopped() => {}
                () = tokio::time::sleep(pass_every) => {}
            }
        }
        if !self.in_flight.drain().await {
            warn!(
                "chat clicks were still in hand when the worker stopped; an answer counts only once it is in the store, and every card is redrawn when its stage ends"
            );
        }
        // What the last steps recorded reaches the sink before the exit.
        self.feed_audit_sink().await;
        info!("stopping");
        Ok(())
    }

    /// Starts a workflow for each open RITM of the configured catalog items
    /// that has none yet.
    async fn take_in(&self) -> Result<usize, ServiceError> {
        let items = &self.settings.intake.catalog_items;
        if items.is_empty() {
            return Ok(0);
        }
        let tickets = match self.servicenow.new_ritms(items).await {
            Ok(t) => t,
            Err(e) => {
                warn!(error = %e, "polling ServiceNow for new requested items failed");
                return Ok(0);
            }
        };
        let mut taken = 0;
        for ticket in tickets {
            if self.engine.stop_signal().is_stopped() {
                break;
            }
            let id = WorkflowId::new(ticket.as_str());
            if self.engine.summary(&id).await?.is_some() {
                continue;
            }
            let span = info_span!("workflow", ticket = %ticket);
            let _entered = span.enter();
            match self.engine.intake(&ticket).await {
                Ok(wf) => {
                    taken += 1;
                    info!(phase = wf.phase.name(), "taken in");
                }
                Err(EngineError::Store(e)) => return Err(EngineError::Store(e).into()),
                Err(e) => {
                    let first = self
                        .intake_memory
                        .0
                        .lock()
                        .map(|mut m| m.insert(ticket.to_string()))
                        .unwrap_or(true);
                    if first {
                        warn!(error = %e, "cannot take the ticket in; it is retried at every poll");
                    }
                }
            }
        }
        Ok(taken)
    }

    /// Carries out queued offboardings, oldest first.
    async fn run_offboard_queue(&self) -> Result<usize, ServiceError> {
        let mut done = 0;
        for queued in self.store.pending_offboardings()? {
            if self.engine.stop_signal().is_stopped() {
                break;
            }
            let span = info_span!("offboarding", user = %queued.user, queue = queued.id);
            let _entered = span.enter();
            let outcome = match self.engine.offboard(&queued.user, &queued.operator).await {
                Ok(report) if report.is_complete() => format!(
                    "done: {} removed, {} drift, {} cancelled",
                    report.removed.len(),
                    report.drift.len(),
                    report.cancelled.len()
                ),
                Ok(report) => {
                    // Not finished (a removal failed, the sweep could not
                    // run): left in the queue, tried again next pass.
                    warn!(?report.incomplete, failed = report.failed.len(), "offboarding incomplete; retried next pass");
                    continue;
                }
                Err(EngineError::Store(e)) => return Err(EngineError::Store(e).into()),
                // Only a user the directory does not know is refused for
                // good; anything else (the directory unreachable or
                // throttled, a concurrent writer) is tried again next pass,
                // so a queued offboarding is never dropped.
                Err(e @ EngineError::UnknownUser(_)) => format!("refused: {e}"),
                Err(e) => {
                    warn!(error = %e, "offboarding could not run; retried next pass");
                    continue;
                }
            };
            info!(%outcome, "offboarded");
            self.store
                .finish_offboarding(queued.id, &outcome, chrono::Utc::now())?;
            done += 1;
        }
        Ok(done)
    }

    /// Queues an offboarding of `user` for the worker; its queue number.
    pub fn queue_offboarding(&self, user: &str, operator: &str) -> Result<i64, ServiceError> {
        Ok(self
            .store
            .queue_offboarding(user, operator, chrono::Utc::now())?)
    }
}
