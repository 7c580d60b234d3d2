//! Loading a workflow (rebuilt from its records, or from the cache when the
//! store's version matches) and committing a step: its records, index row
//! and timers in one store commit.

use crate::{Engine, EngineError};
use chrono::{DateTime, Utc};
use groupgate_core::WorkflowId;
use groupgate_core::audit::{Actor, AuditRecord, Entry, NewRecord};
use groupgate_core::ports::{Commit, ErrorClass, PortError, Timer, WorkflowSummary};
use groupgate_core::workflow::{ApprovalAnswer, Event, Workflow};

/// A workflow as loaded: its state, the store version it reflects, and what
/// the index row carries besides.
#[derive(Debug, Clone)]
pub(crate) struct Loaded {
    pub(crate) wf: Workflow,
    pub(crate) version: u64,
    pub(crate) started_at: DateTime<Utc>,
    pub(crate) last_error: Option<String>,
    /// Every answer fed so far (applied or refused), so each counts once.
    pub(crate) seen_answers: Vec<ApprovalAnswer>,
}

/// Applies `records` (in order) to `state`, starting a workflow at its
/// `Started` record.
pub(crate) fn replay_into(
    id: &WorkflowId,
    state: &mut Option<Loaded>,
    records: &[AuditRecord],
) -> Result<(), EngineError> {
    let corrupt = |reason: String| EngineError::Corrupt {
        workflow: id.clone(),
        reason,
    };
    for record in records {
        match (state.as_mut(), &record.entry) {
            (None, Entry::Started { request, settings }) => {
                let (wf, _) = Workflow::start(id.clone(), request.clone(), *settings, record.at);
                *state = Some(Loaded {
                    wf,
                    version: 0,
                    started_at: record.at,
                    last_error: None,
                    seen_answers: Vec::new(),
                });
            }
            (Some(current), Entry::Applied { event, .. }) => {
                let (next, _) = current
                    .wf
                    .handle(event, record.at)
                    .map_err(|e| corrupt(format!("seq {}: {e}", record.seq)))?;
                current.wf = next;
                note_event(current, event);
            }
            (Some(current), Entry::Refused { event, .. }) => {
                if let Event::Answered { answer } = &**event {
                    current.seen_answers.push(answer.clone());
                }
            }
            (None, _) => {
                return Err(corrupt(format!(
                    "seq {}: a record precedes the start",
                    record.seq
                )));
            }
            (Some(_), Entry::Started { .. }) => {
                return Err(corrupt(format!(
                    "seq {}: the workflow is started twice",
                    record.seq
                )));
            }
            _ => {}
        }
        if let Some(current) = state.as_mut() {
            current.version += 1;
        }
    }
    Ok(())
}

/// What an applied event changes in the loaded state beyond the workflow.
fn note_event(current: &mut Loaded, event: &Event) {
    match event {
        Event::Answered { answer } => current.seen_answers.push(answer.clone()),
        Event::EffectFailed { command, error, .. } => {
            current.last_error = Some(format!("{}: {error}", command.action.name()));
        }
        _ => {}
    }
}

/// The index row of `loaded` at `now`.
pub(crate) fn summary_of(loaded: &Loaded, now: DateTime<Utc>) -> WorkflowSummary {
    let wf = &loaded.wf;
    WorkflowSummary {
        id: wf.id.clone(),
        ticket: wf.request.ticket.clone(),
        target_name: wf.request.target.clone(),
        target: wf.target.clone(),
        group: wf.group().cloned(),
        phase: wf.phase.name().to_owned(),
        open: !wf.phase.is_terminal() || !wf.outbox.is_empty(),
        pending: u32::try_from(wf.outbox.len()).unwrap_or(u32::MAX),
        in_flight: wf.in_flight().next().is_some(),
        next_wake: wf.next_wake(),
        last_error: loaded.last_error.clone(),
        version: loaded.version,
        started_at: loaded.started_at,
        updated_at: now,
    }
}

pub(crate) fn timers_of(wf: &Workflow) -> Vec<Timer> {
    wf.timers
        .iter()
        .map(|t| Timer {
            workflow: wf.id.clone(),
            key: t.key.clone(),
            at: t.at,
            purpose: t.purpose,
        })
        .collect()
}

fn is_conflict(error: &PortError) -> bool {
    error.class == ErrorClass::Conflict
}

impl Engine {
    /// Loads a workflow: from the cache when it is current, else its new
    /// records applied to the cached state, else rebuilt from all records.
    pub(crate) async fn load(&self, id: &WorkflowId) -> Result<Option<Loaded>, EngineError> {
        let store = &self.ports.store;
        let Some(summary) = store.summary(id).await.map_err(EngineError::store)? else {
            return Ok(None);
        };
        let cached = self.cache.get(id);
        let mut state = match cached {
            Some(c) if c.version == summary.version => return Ok(Some(c)),
            Some(c) if c.version < summary.version => Some(c),
            _ => None,
        };
        let from = state.as_ref().map(|s| s.version).unwrap_or(0);
        let records = store.records(id, from).await.map_err(EngineError::store)?;
        replay_into(id, &mut state, &records)?;
        match state {
            Some(mut s) => {
                s.last_error = summary.last_error.clone().or(s.last_error);
                s.started_at = summary.started_at;
                self.cache.put(&s);
                Ok(Some(s))
            }
            None => Err(EngineError::UnknownWorkflow(id.clone())),
        }
    }

    /// Commits the start of a workflow; `None` when another writer started
    /// it first.
    pub(crate) async fn commit_start(
        &self,
        wf: Workflow,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<Option<Loaded>, EngineError> {
        let mut loaded = Loaded {
            wf,
            version: 0,
            started_at: now,
            last_error: None,
            seen_answers: Vec::new(),
        };
        let record = NewRecord {
            at: now,
            actor,
            entry: Entry::Started {
                request: loaded.wf.request.clone(),
                settings: loaded.wf.settings,
            },
        };
        loaded.version = 1;
        let commit = Commit {
            workflow: loaded.wf.id.clone(),
            expected_version: Some(0),
            records: vec![record],
            summary: Some(summary_of(&loaded, now)),
            timers: Some(timers_of(&loaded.wf)),
        };
        match self.ports.store.commit(&commit).await {
            Ok(done) => {
                loaded.version = done.version;
                self.cache.put(&loaded);
                self.after_commit(done.records.last()).await?;
                Ok(Some(loaded))
            }
            Err(e) if is_conflict(&e) => Ok(None),
            Err(e) => Err(EngineError::Store(e)),
        }
    }

    /// Applies `event` and commits the step. Returns whether it applied (a
    /// refused event is recorded as refused and changes nothing else).
    pub(crate) async fn step(
        &self,
        loaded: &mut Loaded,
        event: Event,
        actor: Actor,
    ) -> Result<bool, EngineError> {
        let now = self.now();
        let (next, record, applied) = match loaded.wf.handle(&event, now) {
            Ok((next, _)) => {
                let phase = next.phase.name().to_owned();
                let record = NewRecord {
                    at: now,
                    actor,
                    entry: Entry::Applied {
                        event: Box::new(event.clone()),
                        phase,
                    },
                };
                (next, record, true)
            }
            Err(e) => {
                let record = NewRecord {
                    at: now,
                    actor,
                    entry: Entry::Refused {
                        event: Box::new(event.clone()),
                        reason: e.to_string(),
                    },
                };
                (loaded.wf.clone(), record, false)
            }
        };
        let mut after = Loaded {
            wf: next,
            version: loaded.version,
            started_at: loaded.started_at,
            last_error: loaded.last_error.clone(),
            seen_answers: loaded.seen_answers.clone(),
        };
        if applied {
            note_event(&mut after, &event);
        } else if let Event::Answered { answer } = &event {
            after.seen_answers.push(answer.clone());
        }
        after.version = loaded.version + 1;
        let commit = Commit {
            workflow: after.wf.id.clone(),
            expected_version: Some(loaded.version),
            records: vec![record],
            summary: Some(summary_of(&after, now)),
            // Timers are written only when the step changed them (they are
            // replaced as a whole), so most steps touch fewer pages.
            timers: (applied && after.wf.timers != loaded.wf.timers).then(|| timers_of(&after.wf)),
        };
        match self.ports.store.commit(&commit).await {
            Ok(done) => {
                crate::metrics::observe_step(&loaded.wf, &event, applied, now);
                after.version = done.version;
                *loaded = after;
                self.cache.put(loaded);
                self.after_commit(done.records.last()).await?;
                Ok(applied)
            }
            Err(e) if is_conflict(&e) => {
                self.cache.forget(&loaded.wf.id);
                Err(EngineError::Conflict(loaded.wf.id.clone()))
            }
            Err(e) => {
                self.cache.forget(&loaded.wf.id);
                Err(EngineError::Store(e))
            }
        }
    }

    /// Records an incident outside any workflow's own steps — a refused
    /// chat click, an intake that failed — under `scope` (a ticket, or a
    /// pseudo-workflow such as `chat`), so every refusal is in the trail.
    pub async fn record_incident(
        &self,
        scope: &str,
        operation: &str,
        error: &str,
    ) -> Result<(), EngineError> {
        self.note_held(
            &WorkflowId::new(scope),
            Entry::Incident {
                operation: operation.to_owned(),
                error: error.to_owned(),
            },
        )
        .await
    }

    /// Records that `workflow`'s access ending at `ends_at` was reminded
    /// to `told`.
    pub async fn record_reminder(
        &self,
        workflow: &WorkflowId,
        ends_at: DateTime<Utc>,
        told: Vec<String>,
    ) -> Result<(), EngineError> {
        self.note_held(workflow, Entry::Reminded { ends_at, told })
            .await
    }

    /// Records that the policy `from` was replaced by `to` (a reload),
    /// under the pseudo-workflow `policy`.
    pub async fn record_policy_change(&self, from: &str, to: &str) -> Result<(), EngineError> {
        self.note_held(
            &WorkflowId::new("policy"),
            Entry::PolicyChanged {
                from: from.to_owned(),
                to: to.to_owned(),
            },
        )
        .await
    }

    /// [`Engine::note`] by the system under the workflow's lock, its cached
    /// copy dropped after, so the record never makes a step in hand stale.
    pub(crate) async fn note_held(&self, id: &WorkflowId, entry: Entry) -> Result<(), EngineError> {
        let _held = self.locks.hold(id).await;
        let noted = self.note(id, Actor::System, entry).await;
        self.cache.forget(id);
        noted
    }

    /// Appends records outside a workflow's own steps (incidents, drift,
    /// checkpoints) under the pseudo-workflow `scope`.
    pub(crate) async fn note(
        &self,
        scope: &WorkflowId,
        actor: Actor,
        entry: Entry,
    ) -> Result<(), EngineError> {
        let commit = Commit {
            workflow: scope.clone(),
            expected_version: None,
            records: vec![NewRecord {
                at: self.now(),
                actor,
                entry,
            }],
            summary: None,
            timers: None,
        };
        let done = self
            .ports
            .store
            .commit(&commit)
            .await
            .map_err(EngineError::Store)?;
        self.after_commit(done.records.last()).await
    }
}
