//! The `Store` port over PostgreSQL. Every commit is one transaction that
//! first takes the chain's advisory lock: the workflow's version is checked
//! and the records sealed onto the chain's head inside it, so concurrent
//! writers (many tasks, many processes) append one unbroken chain and a
//! stale writer gets a conflict, never a fork.

use crate::PostgresStore;
use crate::error::{pool_error, port_error};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use groupgate_core::WorkflowId;
use groupgate_core::audit::{AuditRecord, ChainHead};
use groupgate_core::ports::{
    Commit, Committed, PortError, PortResult, Store, Timer, WorkflowFilter, WorkflowSummary,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio_postgres::GenericClient;
use tokio_postgres::types::ToSql;

/// The advisory lock key of the chain's append (`'ggch'`).
const CHAIN_LOCK: i64 = 0x6767_6368;

fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_json<T: Serialize>(value: &T, what: &str) -> PortResult<String> {
    serde_json::to_string(value)
        .map_err(|e| PortError::permanent(format!("the store could not write {what}: {e}")))
}

fn from_json<T: DeserializeOwned>(text: &str, what: &str) -> PortResult<T> {
    serde_json::from_str(text).map_err(|e| {
        PortError::permanent(format!(
            "the store holds {what} it cannot read ({e}); was the database edited by hand?"
        ))
    })
}

fn lowered(id: Option<&str>) -> Option<String> {
    id.map(str::to_ascii_lowercase)
}

async fn head_of(client: &impl GenericClient) -> PortResult<Option<ChainHead>> {
    let row = client
        .query_opt(
            "SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1",
            &[],
        )
        .await
        .map_err(|e| port_error("reading the trail's head", &e))?;
    Ok(row.map(|r| ChainHead {
        seq: u64::try_from(r.get::<_, i64>(0)).unwrap_or(0),
        hash: r.get(1),
    }))
}

async fn last_time(client: &impl GenericClient) -> PortResult<Option<DateTime<Utc>>> {
    let row = client
        .query_opt("SELECT record FROM records ORDER BY seq DESC LIMIT 1", &[])
        .await
        .map_err(|e| port_error("reading the trail's head", &e))?;
    Ok(row.and_then(|r| {
        serde_json::from_str::<serde_json::Value>(&r.get::<_, String>(0))
            .ok()?
            .get("at")?
            .as_str()?
            .parse()
            .ok()
    }))
}

async fn read_summary(
    client: &impl GenericClient,
    workflow: &WorkflowId,
) -> PortResult<Option<WorkflowSummary>> {
    let row = client
        .query_opt(
            "SELECT summary FROM workflows WHERE id = $1",
            &[&workflow.as_str()],
        )
        .await
        .map_err(|e| port_error("reading a workflow's index row", &e))?;
    row.map(|r| from_json(&r.get::<_, String>(0), "an index row"))
        .transpose()
}

async fn write_summary(client: &impl GenericClient, row: &WorkflowSummary) -> PortResult<()> {
    let json = to_json(row, "a workflow's index row")?;
    client
        .execute(
            "INSERT INTO workflows (id, target, grp, phase, open, summary) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (id) DO UPDATE SET target = excluded.target, grp = excluded.grp,
               phase = excluded.phase, open = excluded.open, summary = excluded.summary",
            &[
                &row.id.as_str(),
                &lowered(row.target.as_ref().map(|t| t.as_str())),
                &lowered(row.group.as_ref().map(|g| g.as_str())),
                &row.phase,
                &row.open,
                &json,
            ],
        )
        .await
        .map(|_| ())
        .map_err(|e| port_error("writing a workflow's index row", &e))
}

async fn write_timers(
    client: &impl GenericClient,
    workflow: &WorkflowId,
    timers: &[Timer],
) -> PortResult<()> {
    client
        .execute(
            "DELETE FROM timers WHERE workflow = $1",
            &[&workflow.as_str()],
        )
        .await
        .map_err(|e| port_error("replacing timers", &e))?;
    for timer in timers {
        let json = to_json(timer, "a timer")?;
        client
            .execute(
                "INSERT INTO timers (workflow, key, at, timer) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (workflow, key) DO UPDATE SET at = excluded.at, timer = excluded.timer",
                &[&workflow.as_str(), &timer.key, &micros(timer.at), &json],
            )
            .await
            .map_err(|e| port_error("writing a timer", &e))?;
    }
    Ok(())
}

async fn commit_in(tx: &tokio_postgres::Transaction<'_>, commit: &Commit) -> PortResult<Committed> {
    let next: i64 = tx
        .query_one(
            "SELECT COALESCE(MAX(position) + 1, 0) FROM records WHERE workflow = $1",
            &[&commit.workflow.as_str()],
        )
        .await
        .map_err(|e| port_error("reading a workflow's version", &e))?
        .get(0);
    let version = u64::try_from(next).unwrap_or(0);
    commit.check_version(version)?;
    let sealed = AuditRecord::seal_all(
        head_of(tx).await?,
        last_time(tx).await?,
        &commit.workflow,
        &commit.records,
    );
    let mut position = version;
    for record in &sealed {
        let line = to_json(record, "an audit record")?;
        tx.execute(
            "INSERT INTO records (seq, workflow, position, hash, record) VALUES ($1, $2, $3, $4, $5)",
            &[
                &int(record.seq),
                &commit.workflow.as_str(),
                &int(position),
                &record.hash,
                &line,
            ],
        )
        .await
        .map_err(|e| port_error("appending an audit record", &e))?;
        position += 1;
    }
    let version = position;
    match &commit.summary {
        Some(row) => {
            let mut row = row.clone();
            row.version = version;
            write_summary(tx, &row).await?;
        }
        None => {
            if let Some(mut row) = read_summary(tx, &commit.workflow).await?
                && row.version != version
            {
                row.version = version;
                write_summary(tx, &row).await?;
            }
        }
    }
    if let Some(timers) = &commit.timers {
        write_timers(tx, &commit.workflow, timers).await?;
    }
    Ok(Committed {
        records: sealed,
        version,
    })
}

impl PostgresStore {
    /// Commits, refusing it first when `fence` is a lease no longer the
    /// workflow's newest (inside the same transaction, after the chain's
    /// lock, so no newer owner can slip in between).
    pub(crate) async fn commit_fenced(
        &self,
        commit: &Commit,
        fence: Option<&crate::lease::Lease>,
    ) -> PortResult<Committed> {
        let mut client = self.client("a commit").await?;
        let tx = client
            .transaction()
            .await
            .map_err(|e| port_error("starting a commit", &e))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&CHAIN_LOCK])
            .await
            .map_err(|e| port_error("locking the chain's head", &e))?;
        if let Some(lease) = fence {
            crate::lease::check_fence(&tx, lease).await?;
        }
        let committed = commit_in(&tx, commit).await?;
        tx.commit()
            .await
            .map_err(|e| port_error("committing", &e))?;
        Ok(committed)
    }

    pub(crate) async fn client(&self, what: &str) -> PortResult<deadpool_postgres::Object> {
        self.pool.get().await.map_err(|e| pool_error(what, &e))
    }

    async fn rows<T: DeserializeOwned>(
        &self,
        sql: &str,
        args: &[&(dyn ToSql + Sync)],
        what: &str,
    ) -> PortResult<Vec<T>> {
        let client = self.client(what).await?;
        let rows = client
            .query(sql, args)
            .await
            .map_err(|e| port_error(what, &e))?;
        rows.iter()
            .map(|r| from_json(&r.get::<_, String>(0), what))
            .collect()
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn commit(&self, commit: &Commit) -> PortResult<Committed> {
        self.commit_fenced(commit, None).await
    }

    async fn head(&self) -> PortResult<Option<ChainHead>> {
        let client = self.client("reading the trail's head").await?;
        head_of(&**client).await
    }

    async fn records(&self, workflow: &WorkflowId, from: u64) -> PortResult<Vec<AuditRecord>> {
        self.rows(
            "SELECT record FROM records WHERE workflow = $1 AND position >= $2 ORDER BY position",
            &[&workflow.as_str(), &int(from)],
            "a workflow's records",
        )
        .await
    }

    async fn summary(&self, workflow: &WorkflowId) -> PortResult<Option<WorkflowSummary>> {
        let client = self.client("reading a workflow's index row").await?;
        read_summary(&**client, workflow).await
    }

    async fn find(&self, filter: &WorkflowFilter) -> PortResult<Vec<WorkflowSummary>> {
        let mut sql = String::from("SELECT summary FROM workflows WHERE TRUE");
        let target = filter.target.as_ref().map(|t| t.to_ascii_lowercase());
        let group = filter.group.as_ref().map(|g| g.to_ascii_lowercase());
        let after = filter.after.as_ref().map(|a| a.to_string());
        let limit = if filter.limit == 0 {
            i64::MAX
        } else {
            int(filter.limit as u64)
        };
        let mut conditions: Vec<(&str, &(dyn ToSql + Sync))> = Vec::new();
        if let Some(t) = &target {
            conditions.push(("target =", t));
        }
        if let Some(g) = &group {
            conditions.push(("grp =", g));
        }
        if let Some(p) = &filter.phase {
            conditions.push(("phase =", p));
        }
        if let Some(o) = &filter.open {
            conditions.push(("open =", o));
        }
        if let Some(a) = &after {
            conditions.push(("id >", a));
        }
        let mut args: Vec<&(dyn ToSql + Sync)> = Vec::new();
        for (clause, value) in conditions {
            args.push(value);
            sql.push_str(&format!(" AND {clause} ${}", args.len()));
        }
        args.push(&limit);
        sql.push_str(&format!(" ORDER BY id LIMIT ${}", args.len()));
        let found: Vec<WorkflowSummary> = self.rows(&sql, &args, "workflow index rows").await?;
        Ok(found.into_iter().filter(|r| filter.matches(r)).collect())
    }

    async fn trail(&self, from_seq: u64, limit: usize) -> PortResult<Vec<AuditRecord>> {
        self.rows(
            "SELECT record FROM records WHERE seq >= $1 ORDER BY seq LIMIT $2",
            &[&int(from_seq), &int(limit as u64)],
            "the trail",
        )
        .await
    }

    async fn due_timers(&self, now: DateTime<Utc>, limit: usize) -> PortResult<Vec<Timer>> {
        self.rows(
            "SELECT timer FROM timers WHERE at <= $1 ORDER BY at, workflow, key LIMIT $2",
            &[&micros(now), &int(limit as u64)],
            "due timers",
        )
        .await
    }

    async fn next_timer(&self) -> PortResult<Option<Timer>> {
        self.rows::<Timer>(
            "SELECT timer FROM timers ORDER BY at, workflow, key LIMIT 1",
            &[],
            "the next timer",
        )
        .await
        .map(|mut t| t.pop())
    }
}
