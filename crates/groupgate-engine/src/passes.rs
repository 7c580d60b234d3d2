//! Passes over many workflows: due timers, recovery at start-up, answers.
//! One workflow that fails is recorded (an audit incident and an entry in
//! the pass's report) and the pass goes on with the others.

use crate::{Engine, EngineError, PassFailure, PassReport};
use groupgate_core::WorkflowId;
use groupgate_core::audit::{Actor, Entry};
use groupgate_core::ports::{Timer, WorkflowFilter};
use groupgate_core::workflow::{Event, Wake};
use std::collections::BTreeMap;

/// Timers fired per pass at most (the rest fire in the next pass).
const TIMERS_PER_PASS: usize = 1000;

impl Engine {
    /// Fires every timer due now.
    pub async fn run_due_timers(&self) -> Result<PassReport, EngineError> {
        let now = self.now();
        let due = self
            .ports
            .store
            .due_timers(now, TIMERS_PER_PASS)
            .await
            .map_err(EngineError::Store)?;
        let mut by_workflow: BTreeMap<WorkflowId, Vec<Timer>> = BTreeMap::new();
        for timer in due {
            by_workflow
                .entry(timer.workflow.clone())
                .or_default()
                .push(timer);
        }
        let mut report = PassReport::default();
        for (id, timers) in by_workflow {
            if self.stop.is_stopped() {
                break;
            }
            if self.is_quarantined(&id) {
                continue;
            }
            match self.fire(&id, &timers).await {
                Ok(fired) => {
                    report.fired += fired;
                    if fired > 0 {
                        report.stepped.push(id);
                    }
                }
                Err(e) => self.isolate(&mut report, &id, "run_due_timers", e).await?,
            }
        }
        Ok(report)
    }

    /// Fires `timers` of one workflow (skipped while another task holds it).
    async fn fire(&self, id: &WorkflowId, timers: &[Timer]) -> Result<usize, EngineError> {
        let Some(_held) = self.locks.try_hold(id) else {
            return Ok(0);
        };
        let Some(mut loaded) = self.load(id).await? else {
            return Ok(0);
        };
        crate::crash::point("timer:fire");
        self.resolve_interrupted(&mut loaded).await?;
        let mut fired = 0;
        for timer in timers {
            let pending = loaded
                .wf
                .timers
                .iter()
                .find(|t| t.key == timer.key && t.at <= self.now())
                .cloned();
            let Some(pending) = pending else {
                continue;
            };
            let event = Event::Woke {
                key: pending.key.clone(),
                purpose: pending.purpose,
            };
            if self.step(&mut loaded, event, Actor::System).await? {
                fired += 1;
            }
            if pending.purpose == Wake::Watchdog {
                self.resolve_interrupted(&mut loaded).await?;
            }
            self.drive(&mut loaded).await?;
        }
        Ok(fired)
    }

    /// Takes up every open workflow with effects pending (at start-up, after
    /// a crash): effects left in flight are resolved by asking the world,
    /// then everything ready is driven. After recovery every active workflow
    /// has its expiry timer and every waiting one its watchdog (both are
    /// part of the state a step commits).
    pub async fn recover(&self) -> Result<PassReport, EngineError> {
        let filter = WorkflowFilter {
            open: Some(true),
            ..WorkflowFilter::default()
        };
        let mut report = PassReport::default();
        for row in self.summaries(&filter).await? {
            if self.stop.is_stopped() {
                break;
            }
            if row.pending == 0 && !row.in_flight {
                continue;
            }
            let Some(_held) = self.locks.try_hold(&row.id) else {
                continue;
            };
            let outcome = async {
                let Some(mut loaded) = self.load(&row.id).await? else {
                    return Ok(());
                };
                self.resume(&mut loaded).await
            }
            .await;
            match outcome {
                Ok(()) => report.stepped.push(row.id),
                Err(e) => self.isolate(&mut report, &row.id, "recover", e).await?,
            }
        }
        Ok(report)
    }

    /// One pass of everything a worker does: recovery, due timers, answers.
    pub async fn pass(&self) -> Result<PassReport, EngineError> {
        let began = std::time::Instant::now();
        let mut report = self.recover().await?;
        report.merge(self.run_due_timers().await?);
        report.merge(self.collect_all_answers().await?);
        metrics::histogram!(crate::metrics::PASS_DURATION).record(began.elapsed().as_secs_f64());
        Ok(report)
    }

    fn is_quarantined(&self, id: &WorkflowId) -> bool {
        self.quarantined
            .lock()
            .map(|q| q.contains(id))
            .unwrap_or(false)
    }

    /// Records a workflow's failure in a pass (once per workflow and process
    /// for one that cannot be rebuilt) and puts it in the report. A store
    /// failure is not isolated: nothing could be recorded.
    pub(crate) async fn isolate(
        &self,
        report: &mut PassReport,
        id: &WorkflowId,
        operation: &str,
        error: EngineError,
    ) -> Result<(), EngineError> {
        if let EngineError::Store(_) = error {
            return Err(error);
        }
        let first = match &error {
            EngineError::Corrupt { .. } => self
                .quarantined
                .lock()
                .map(|mut q| q.insert(id.clone()))
                .unwrap_or(true),
            _ => true,
        };
        if first {
            self.note(
                id,
                Actor::System,
                Entry::Incident {
                    operation: operation.to_owned(),
                    error: error.to_string(),
                },
            )
            .await?;
        }
        report.failures.push(PassFailure {
            workflow: id.clone(),
            error: error.to_string(),
        });
        Ok(())
    }
}
