//! Work distribution between worker processes: a worker claims workflows
//! (due ones with `FOR UPDATE SKIP LOCKED`, or one by name) under a
//! **lease** — owner, expiry, and a fencing token from a sequence that only
//! grows — keeps it with heartbeats, and drives a claimed workflow through
//! a [`FencedStore`], whose commits to that workflow are refused once the
//! lease has passed to another worker (a higher token). A worker paused
//! past its lease (a GC pause, a partition) thus cannot write over the new
//! owner's step: its write fails with a conflict and it drops the workflow.

use crate::PostgresStore;
use crate::error::port_error;
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use groupgate_core::WorkflowId;
use groupgate_core::audit::{AuditRecord, ChainHead};
use groupgate_core::ports::{
    Commit, Committed, ErrorClass, PortError, PortResult, Store, Timer, WorkflowFilter,
    WorkflowSummary,
};

/// A worker's hold on one workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The workflow.
    pub workflow: WorkflowId,
    /// The worker holding it.
    pub owner: String,
    /// The fencing token: greater than every earlier lease's on any workflow.
    pub token: i64,
    /// Until when it holds without a heartbeat.
    pub expires: DateTime<Utc>,
}

fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

fn from_micros(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or_default()
}

/// Takes (or renews) the lease of `workflow` for `owner` when no live
/// lease of another holds it.
async fn take(
    client: &impl tokio_postgres::GenericClient,
    workflow: &str,
    owner: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> PortResult<Option<Lease>> {
    let row = client
        .query_opt(
            "INSERT INTO leases (workflow, owner, token, expires_at)
             VALUES ($1, $2, nextval('lease_tokens'), $4)
             ON CONFLICT (workflow) DO UPDATE
               SET owner = excluded.owner, token = excluded.token, expires_at = excluded.expires_at
               WHERE leases.expires_at <= $3
             RETURNING token",
            &[&workflow, &owner, &micros(now), &micros(until)],
        )
        .await
        .map_err(|e| port_error("taking a lease", &e))?;
    Ok(row.map(|r| Lease {
        workflow: WorkflowId::new(workflow),
        owner: owner.to_owned(),
        token: r.get(0),
        expires: until,
    }))
}

impl PostgresStore {
    /// Claims up to `limit` workflows that have a due timer at `now` and no
    /// live lease, for `owner`, for `lease_for`. Workers claiming at once
    /// get disjoint workflows (the due timers are locked with `SKIP
    /// LOCKED`, the lease row decides).
    pub async fn claim_due(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_for: TimeDelta,
        limit: usize,
    ) -> PortResult<Vec<Lease>> {
        let mut client = self.client("claiming due workflows").await?;
        let tx = client
            .transaction()
            .await
            .map_err(|e| port_error("claiming due workflows", &e))?;
        let rows = tx
            .query(
                "SELECT t.workflow FROM timers t
                 LEFT JOIN leases l ON l.workflow = t.workflow
                 WHERE t.at <= $1 AND (l.workflow IS NULL OR l.expires_at <= $1)
                 ORDER BY t.at, t.workflow
                 LIMIT $2
                 FOR UPDATE OF t SKIP LOCKED",
                &[
                    &micros(now),
                    &i64::try_from(limit.saturating_mul(4)).unwrap_or(i64::MAX),
                ],
            )
            .await
            .map_err(|e| port_error("finding due workflows", &e))?;
        let mut claimed: Vec<Lease> = Vec::new();
        let until = now + lease_for;
        for row in rows {
            if claimed.len() >= limit {
                break;
            }
            let workflow: String = row.get(0);
            if claimed.iter().any(|l| l.workflow.as_str() == workflow) {
                continue;
            }
            if let Some(lease) = take(&*tx, &workflow, owner, now, until).await? {
                claimed.push(lease);
            }
        }
        tx.commit()
            .await
            .map_err(|e| port_error("claiming due workflows", &e))?;
        Ok(claimed)
    }

    /// Claims `workflow` (a new answer or intake for it) for `owner`, when
    /// no live lease of another worker holds it.
    pub async fn claim(
        &self,
        workflow: &WorkflowId,
        owner: &str,
        now: DateTime<Utc>,
        lease_for: TimeDelta,
    ) -> PortResult<Option<Lease>> {
        let client = self.client("claiming a workflow").await?;
        take(&**client, workflow.as_str(), owner, now, now + lease_for).await
    }

    /// Extends the leases still held (same owner and token) to `now +
    /// lease_for`; returns the renewed ones (a lease missing from the
    /// answer was lost: drop its workflow).
    pub async fn heartbeat(
        &self,
        leases: &[Lease],
        now: DateTime<Utc>,
        lease_for: TimeDelta,
    ) -> PortResult<Vec<Lease>> {
        let client = self.client("renewing leases").await?;
        let until = now + lease_for;
        let mut kept = Vec::new();
        for lease in leases {
            let renewed = client
                .execute(
                    "UPDATE leases SET expires_at = $4
                     WHERE workflow = $1 AND owner = $2 AND token = $3 AND expires_at > $5",
                    &[
                        &lease.workflow.as_str(),
                        &lease.owner,
                        &lease.token,
                        &micros(until),
                        &micros(now),
                    ],
                )
                .await
                .map_err(|e| port_error("renewing a lease", &e))?;
            if renewed == 1 {
                kept.push(Lease {
                    expires: until,
                    ..lease.clone()
                });
            }
        }
        Ok(kept)
    }

    /// Gives a lease up (when the workflow waits or ended).
    pub async fn release(&self, lease: &Lease) -> PortResult<()> {
        let client = self.client("releasing a lease").await?;
        client
            .execute(
                "DELETE FROM leases WHERE workflow = $1 AND token = $2",
                &[&lease.workflow.as_str(), &lease.token],
            )
            .await
            .map(|_| ())
            .map_err(|e| port_error("releasing a lease", &e))
    }

    /// The live lease of `workflow` at `now`, if any.
    pub async fn lease_of(
        &self,
        workflow: &WorkflowId,
        now: DateTime<Utc>,
    ) -> PortResult<Option<Lease>> {
        let client = self.client("reading a lease").await?;
        let row = client
            .query_opt(
                "SELECT owner, token, expires_at FROM leases WHERE workflow = $1 AND expires_at > $2",
                &[&workflow.as_str(), &micros(now)],
            )
            .await
            .map_err(|e| port_error("reading a lease", &e))?;
        Ok(row.map(|r| Lease {
            workflow: workflow.clone(),
            owner: r.get(0),
            token: r.get(1),
            expires: from_micros(r.get(2)),
        }))
    }

    /// The store as the holder of `lease` writes: commits to the leased
    /// workflow carry the lease's token and are refused once another
    /// worker holds a newer lease on it.
    pub fn fenced(&self, lease: Lease) -> FencedStore {
        FencedStore {
            store: self.clone(),
            lease,
        }
    }
}

/// A [`PostgresStore`] whose commits to one workflow are fenced by a lease.
#[derive(Debug, Clone)]
pub struct FencedStore {
    store: PostgresStore,
    lease: Lease,
}

impl FencedStore {
    /// The lease it writes under.
    pub fn lease(&self) -> &Lease {
        &self.lease
    }
}

/// Refuses the commit unless `lease` is still the workflow's newest.
pub(crate) async fn check_fence(
    tx: &tokio_postgres::Transaction<'_>,
    lease: &Lease,
) -> PortResult<()> {
    let row = tx
        .query_opt(
            "SELECT owner, token FROM leases WHERE workflow = $1 FOR SHARE",
            &[&lease.workflow.as_str()],
        )
        .await
        .map_err(|e| port_error("checking the lease", &e))?;
    match row {
        Some(r) if r.get::<_, i64>(1) == lease.token => Ok(()),
        Some(r) => Err(PortError::new(
            ErrorClass::Conflict,
            format!(
                "fenced: workflow `{}` is now leased to `{}` (token {}), not to `{}` (token {}); this worker drops it",
                lease.workflow,
                r.get::<_, String>(0),
                r.get::<_, i64>(1),
                lease.owner,
                lease.token
            ),
        )),
        None => Err(PortError::new(
            ErrorClass::Conflict,
            format!(
                "fenced: the lease of `{}` (token {}) was released or lost; this worker drops the workflow",
                lease.workflow, lease.token
            ),
        )),
    }
}

#[async_trait]
impl Store for FencedStore {
    async fn commit(&self, commit: &Commit) -> PortResult<Committed> {
        let fence = (commit.workflow == self.lease.workflow).then_some(&self.lease);
        self.store.commit_fenced(commit, fence).await
    }

    async fn head(&self) -> PortResult<Option<ChainHead>> {
        self.store.head().await
    }

    async fn records(&self, workflow: &WorkflowId, from: u64) -> PortResult<Vec<AuditRecord>> {
        self.store.records(workflow, from).await
    }

    async fn summary(&self, workflow: &WorkflowId) -> PortResult<Option<WorkflowSummary>> {
        self.store.summary(workflow).await
    }

    async fn find(&self, filter: &WorkflowFilter) -> PortResult<Vec<WorkflowSummary>> {
        self.store.find(filter).await
    }

    async fn trail(&self, from_seq: u64, limit: usize) -> PortResult<Vec<AuditRecord>> {
        self.store.trail(from_seq, limit).await
    }

    async fn due_timers(&self, now: DateTime<Utc>, limit: usize) -> PortResult<Vec<Timer>> {
        self.store.due_timers(now, limit).await
    }

    async fn next_timer(&self) -> PortResult<Option<Timer>> {
        self.store.next_timer().await
    }
}
