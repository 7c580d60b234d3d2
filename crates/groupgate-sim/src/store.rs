//! An in-memory store: the audit trail, the workflow index and timers,
//! indexed like a database would be, so its cost per call stays
//! proportional to the workflows concerned.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use groupgate_core::WorkflowId;
use groupgate_core::audit::{AuditRecord, ChainHead};
use groupgate_core::ports::{
    Commit, Committed, PortError, PortResult, Store, Timer, WorkflowFilter, WorkflowSummary,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::Mutex;

type CommitFault = Box<dyn Fn(&Commit) -> Option<PortError> + Send + Sync>;

#[derive(Default)]
struct State {
    records: Vec<AuditRecord>,
    /// Positions in `records`, per workflow.
    by_workflow: HashMap<WorkflowId, Vec<usize>>,
    summaries: BTreeMap<WorkflowId, WorkflowSummary>,
    by_target: HashMap<String, BTreeSet<WorkflowId>>,
    by_group: HashMap<String, BTreeSet<WorkflowId>>,
    by_phase: HashMap<String, BTreeSet<WorkflowId>>,
    open: BTreeSet<WorkflowId>,
    /// Timers by due time.
    timers: BTreeMap<(DateTime<Utc>, WorkflowId, String), Timer>,
    timers_of: HashMap<WorkflowId, Vec<(DateTime<Utc>, String)>>,
    commits: u64,
}

impl State {
    fn unindex(&mut self, row: &WorkflowSummary) {
        let remove = |map: &mut HashMap<String, BTreeSet<WorkflowId>>, key: String| {
            if let Some(set) = map.get_mut(&key) {
                set.remove(&row.id);
                if set.is_empty() {
                    map.remove(&key);
                }
            }
        };
        if let Some(t) = &row.target {
            remove(&mut self.by_target, t.to_ascii_lowercase());
        }
        if let Some(g) = &row.group {
            remove(&mut self.by_group, g.to_ascii_lowercase());
        }
        remove(&mut self.by_phase, row.phase.clone());
        self.open.remove(&row.id);
    }

    fn index(&mut self, row: &WorkflowSummary) {
        if let Some(t) = &row.target {
            self.by_target
                .entry(t.to_ascii_lowercase())
                .or_default()
                .insert(row.id.clone());
        }
        if let Some(g) = &row.group {
            self.by_group
                .entry(g.to_ascii_lowercase())
                .or_default()
                .insert(row.id.clone());
        }
        self.by_phase
            .entry(row.phase.clone())
            .or_default()
            .insert(row.id.clone());
        if row.open {
            self.open.insert(row.id.clone());
        }
    }

    fn set_timers(&mut self, workflow: &WorkflowId, timers: &[Timer]) {
        for (at, key) in self.timers_of.remove(workflow).unwrap_or_default() {
            self.timers.remove(&(at, workflow.clone(), key));
        }
        let mut keys = Vec::with_capacity(timers.len());
        for t in timers {
            self.timers
                .insert((t.at, workflow.clone(), t.key.clone()), t.clone());
            keys.push((t.at, t.key.clone()));
        }
        if !keys.is_empty() {
            self.timers_of.insert(workflow.clone(), keys);
        }
    }

    fn version(&self, workflow: &WorkflowId) -> u64 {
        self.by_workflow
            .get(workflow)
            .map(|v| v.len() as u64)
            .unwrap_or(0)
    }
}

/// The audit trail, workflow index and timers in memory (lost when dropped;
/// the SQLite store is the durable one).
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
    fault: Mutex<Option<CommitFault>>,
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let records = self.state.lock().map(|s| s.records.len()).unwrap_or(0);
        f.debug_struct("MemoryStore")
            .field("records", &records)
            .finish()
    }
}

fn poisoned() -> PortError {
    PortError::permanent("memory store poisoned")
}

impl MemoryStore {
    /// Makes the next commit for which `fault` returns an error fail with it
    /// (once): how tests crash the engine at a chosen moment, for example
    /// right after the directory accepted an add and before its outcome is
    /// stored.
    pub fn fail_commit_when(
        &self,
        fault: impl Fn(&Commit) -> Option<PortError> + Send + Sync + 'static,
    ) {
        if let Ok(mut f) = self.fault.lock() {
            *f = Some(Box::new(fault));
        }
    }

    /// How many commits succeeded.
    pub fn commits(&self) -> u64 {
        self.state.lock().map(|s| s.commits).unwrap_or(0)
    }

    /// The trail's records, for tests that tamper with a copy.
    pub fn records(&self) -> Vec<AuditRecord> {
        self.state
            .lock()
            .map(|s| s.records.clone())
            .unwrap_or_default()
    }

    /// Appends an already sealed record as it is (no checks): for tests that
    /// forge or corrupt a trail.
    pub fn force_append(&self, record: AuditRecord) {
        if let Ok(mut s) = self.state.lock() {
            let at = s.records.len();
            s.by_workflow
                .entry(record.workflow.clone())
                .or_default()
                .push(at);
            s.records.push(record);
        }
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn commit(&self, commit: &Commit) -> PortResult<Committed> {
        let injected = self.fault.lock().ok().and_then(|mut f| {
            match f.as_ref().and_then(|check| check(commit)) {
                Some(error) => {
                    *f = None;
                    Some(error)
                }
                None => None,
            }
        });
        if let Some(error) = injected {
            return Err(error);
        }
        let mut s = self.state.lock().map_err(|_| poisoned())?;
        commit.check_version(s.version(&commit.workflow))?;
        let sealed = AuditRecord::seal_all(
            s.records.last().map(AuditRecord::head),
            s.records.last().map(|r| r.at),
            &commit.workflow,
            &commit.records,
        );
        for record in &sealed {
            let at = s.records.len();
            s.by_workflow
                .entry(commit.workflow.clone())
                .or_default()
                .push(at);
            s.records.push(record.clone());
        }
        let version = s.version(&commit.workflow);
        if let Some(row) = &commit.summary {
            let mut row = row.clone();
            row.version = version;
            // The indexes change only when what they index does.
            let same_keys = |old: &WorkflowSummary| {
                old.target == row.target
                    && old.group == row.group
                    && old.phase == row.phase
                    && old.open == row.open
            };
            match s.summaries.get_mut(&commit.workflow) {
                Some(old) if same_keys(old) => *old = row,
                _ => {
                    if let Some(old) = s.summaries.remove(&commit.workflow) {
                        s.unindex(&old);
                    }
                    s.index(&row);
                    s.summaries.insert(commit.workflow.clone(), row);
                }
            }
        } else if let Some(row) = s.summaries.get_mut(&commit.workflow) {
            row.version = version;
        }
        if let Some(timers) = &commit.timers {
            s.set_timers(&commit.workflow, timers);
        }
        s.commits += 1;
        Ok(Committed {
            records: sealed,
            version,
        })
    }

    async fn head(&self) -> PortResult<Option<ChainHead>> {
        let s = self.state.lock().map_err(|_| poisoned())?;
        Ok(s.records.last().map(AuditRecord::head))
    }

    async fn records(&self, workflow: &WorkflowId, from: u64) -> PortResult<Vec<AuditRecord>> {
        let s = self.state.lock().map_err(|_| poisoned())?;
        let from = usize::try_from(from).unwrap_or(usize::MAX);
        Ok(s.by_workflow
            .get(workflow)
            .map(|positions| {
                positions
                    .iter()
                    .skip(from)
                    .filter_map(|&i| s.records.get(i).cloned())
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn summary(&self, workflow: &WorkflowId) -> PortResult<Option<WorkflowSummary>> {
        let s = self.state.lock().map_err(|_| poisoned())?;
        Ok(s.summaries.get(workflow).cloned())
    }

    async fn find(&self, filter: &WorkflowFilter) -> PortResult<Vec<WorkflowSummary>> {
        let s = self.state.lock().map_err(|_| poisoned())?;
        let empty = BTreeSet::new();
        let candidates: Box<dyn Iterator<Item = &WorkflowId>> = if let Some(t) = &filter.target {
            Box::new(
                s.by_target
                    .get(&t.to_ascii_lowercase())
                    .unwrap_or(&empty)
                    .iter(),
            )
        } else if let Some(g) = &filter.group {
            Box::new(
                s.by_group
                    .get(&g.to_ascii_lowercase())
                    .unwrap_or(&empty)
                    .iter(),
            )
        } else if let Some(p) = &filter.phase {
            Box::new(s.by_phase.get(p).unwrap_or(&empty).iter())
        } else if filter.open == Some(true) {
            Box::new(s.open.iter())
        } else {
            Box::new(s.summaries.keys())
        };
        let limit = if filter.limit == 0 {
            usize::MAX
        } else {
            filter.limit
        };
        Ok(candidates
            .filter(|id| filter.after.as_ref().is_none_or(|a| *id > a))
            .filter_map(|id| s.summaries.get(id))
            .filter(|row| filter.matches(row))
            .take(limit)
            .cloned()
            .collect())
    }

    async fn trail(&self, from_seq: u64, limit: usize) -> PortResult<Vec<AuditRecord>> {
        let s = self.state.lock().map_err(|_| poisoned())?;
        let from = usize::try_from(from_seq).unwrap_or(usize::MAX);
        Ok(s.records.iter().skip(from).take(limit).cloned().collect())
    }

    async fn due_timers(&self, now: DateTime<Utc>, limit: usize) -> PortResult<Vec<Timer>> {
        let s = self.state.lock().map_err(|_| poisoned())?;
        Ok(s.timers
            .values()
            .take_while(|t| t.at <= now)
            .take(limit)
            .cloned()
            .collect())
    }

    async fn next_timer(&self) -> PortResult<Option<Timer>> {
        let s = self.state.lock().map_err(|_| poisoned())?;
        Ok(s.timers.values().next().cloned())
    }
}
