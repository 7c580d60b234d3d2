//! The `Store` port over the SQLite file.

use crate::SqliteStore;
use crate::error::port_error;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use groupgate_core::WorkflowId;
use groupgate_core::audit::{AuditRecord, ChainHead};
use groupgate_core::ports::{
    Commit, Committed, PortError, PortResult, Store, Timer, WorkflowFilter, WorkflowSummary,
};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Instants are stored as microseconds since the epoch, so they sort.
fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

fn to_json<T: Serialize>(value: &T, what: &str) -> PortResult<String> {
    serde_json::to_string(value)
        .map_err(|e| PortError::permanent(format!("the store could not write {what}: {e}")))
}

fn from_json<T: DeserializeOwned>(text: &str, what: &str) -> PortResult<T> {
    serde_json::from_str(text).map_err(|e| {
        PortError::permanent(format!(
            "the store holds {what} it cannot read ({e}); was the file edited by hand?"
        ))
    })
}

fn lowered(id: Option<&str>) -> Option<String> {
    id.map(str::to_ascii_lowercase)
}

impl SqliteStore {
    fn with_conn<T>(&self, f: impl FnOnce(&mut Connection) -> PortResult<T>) -> PortResult<T> {
        let mut conn = self
            .conn
            .lock()
            .map_err(|_| PortError::permanent("the store's connection was poisoned by a panic"))?;
        f(&mut conn)
    }
}

/// The workflow's record count.
fn version_of(tx: &Transaction<'_>, workflow: &WorkflowId) -> PortResult<u64> {
    let next: i64 = tx
        .prepare_cached("SELECT COALESCE(MAX(position) + 1, 0) FROM records WHERE workflow = ?1")
        .and_then(|mut s| s.query_row([workflow.as_str()], |r| r.get(0)))
        .map_err(|e| port_error("reading a workflow's version", &e))?;
    Ok(u64::try_from(next).unwrap_or(0))
}

fn head_of(conn: &Connection) -> PortResult<Option<ChainHead>> {
    conn.prepare_cached("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1")
        .and_then(|mut s| {
            s.query_row([], |r| {
                Ok(ChainHead {
                    seq: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                    hash: r.get(1)?,
                })
            })
            .optional()
        })
        .map_err(|e| port_error("reading the trail's head", &e))
}

/// When the trail's last record was recorded.
fn last_time(conn: &Connection) -> PortResult<Option<chrono::DateTime<chrono::Utc>>> {
    let text: Option<String> = conn
        .prepare_cached("SELECT record FROM records ORDER BY seq DESC LIMIT 1")
        .and_then(|mut s| s.query_row([], |r| r.get(0)).optional())
        .map_err(|e| port_error("reading the trail's head", &e))?;
    Ok(text.and_then(|t| {
        serde_json::from_str::<serde_json::Value>(&t)
            .ok()?
            .get("at")?
            .as_str()?
            .parse()
            .ok()
    }))
}

fn write_summary(tx: &Transaction<'_>, row: &WorkflowSummary) -> PortResult<()> {
    let json = to_json(row, "a workflow's index row")?;
    tx.prepare_cached(
        "INSERT INTO workflows (id, target, grp, phase, open, summary) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (id) DO UPDATE SET target = excluded.target, grp = excluded.grp,
           phase = excluded.phase, open = excluded.open, summary = excluded.summary",
    )
    .and_then(|mut s| {
        s.execute(params![
            row.id.as_str(),
            lowered(row.target.as_ref().map(|t| t.as_str())),
            lowered(row.group.as_ref().map(|g| g.as_str())),
            row.phase,
            row.open,
            json
        ])
    })
    .map(|_| ())
    .map_err(|e| port_error("writing a workflow's index row", &e))
}

fn read_summary(conn: &Connection, workflow: &WorkflowId) -> PortResult<Option<WorkflowSummary>> {
    let text: Option<String> = conn
        .prepare_cached("SELECT summary FROM workflows WHERE id = ?1")
        .and_then(|mut s| s.query_row([workflow.as_str()], |r| r.get(0)).optional())
        .map_err(|e| port_error("reading a workflow's index row", &e))?;
    text.map(|t| from_json(&t, "an index row")).transpose()
}

fn write_timers(tx: &Transaction<'_>, workflow: &WorkflowId, timers: &[Timer]) -> PortResult<()> {
    tx.prepare_cached("DELETE FROM timers WHERE workflow = ?1")
        .and_then(|mut s| s.execute([workflow.as_str()]))
        .map_err(|e| port_error("replacing timers", &e))?;
    for timer in timers {
        let json = to_json(timer, "a timer")?;
        tx.prepare_cached(
            "INSERT INTO timers (workflow, key, at, timer) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (workflow, key) DO UPDATE SET at = excluded.at, timer = excluded.timer",
        )
        .and_then(|mut s| {
            s.execute(params![
                workflow.as_str(),
                timer.key,
                micros(timer.at),
                json
            ])
        })
        .map_err(|e| port_error("writing a timer", &e))?;
    }
    Ok(())
}

fn commit_in(tx: &Transaction<'_>, commit: &Commit) -> PortResult<Committed> {
    let version = version_of(tx, &commit.workflow)?;
    commit.check_version(version)?;
    let sealed = AuditRecord::seal_all(
        head_of(tx)?,
        last_time(tx)?,
        &commit.workflow,
        &commit.records,
    );
    let mut position = version;
    for record in &sealed {
        let line = to_json(record, "an audit record")?;
        tx.prepare_cached(
            "INSERT INTO records (seq, workflow, position, hash, record) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .and_then(|mut s| {
            s.execute(params![
                i64::try_from(record.seq).unwrap_or(i64::MAX),
                commit.workflow.as_str(),
                i64::try_from(position).unwrap_or(i64::MAX),
                record.hash,
                line
            ])
        })
        .map_err(|e| port_error("appending an audit record", &e))?;
        position += 1;
    }
    let version = position;
    match &commit.summary {
        Some(row) => {
            let mut row = row.clone();
            row.version = version;
            write_summary(tx, &row)?;
        }
        None => {
            if let Some(mut row) = read_summary(tx, &commit.workflow)?
                && row.version != version
            {
                row.version = version;
                write_summary(tx, &row)?;
            }
        }
    }
    if let Some(timers) = &commit.timers {
        write_timers(tx, &commit.workflow, timers)?;
    }
    Ok(Committed {
        records: sealed,
        version,
    })
}

fn rows<T: DeserializeOwned>(
    conn: &Connection,
    sql: &str,
    args: &[SqlValue],
    what: &str,
) -> PortResult<Vec<T>> {
    let texts: Vec<String> = conn
        .prepare_cached(sql)
        .and_then(|mut s| {
            s.query_map(rusqlite::params_from_iter(args.iter()), |r| r.get(0))?
                .collect()
        })
        .map_err(|e| port_error(what, &e))?;
    texts.iter().map(|t| from_json(t, what)).collect()
}

/// A count of rows to return, as SQL takes it.
fn exactly(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// A filter's limit: 0 means none.
fn limit_of(limit: usize) -> i64 {
    if limit == 0 {
        -1
    } else {
        i64::try_from(limit).unwrap_or(i64::MAX)
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn commit(&self, commit: &Commit) -> PortResult<Committed> {
        self.with_conn(|conn| {
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(|e| port_error("starting a commit", &e))?;
            let committed = commit_in(&tx, commit)?;
            tx.commit().map_err(|e| port_error("committing", &e))?;
            Ok(committed)
        })
    }

    async fn head(&self) -> PortResult<Option<ChainHead>> {
        self.with_conn(|conn| head_of(conn))
    }

    async fn records(&self, workflow: &WorkflowId, from: u64) -> PortResult<Vec<AuditRecord>> {
        self.with_conn(|conn| {
            rows(
                conn,
                "SELECT record FROM records WHERE workflow = ?1 AND position >= ?2 ORDER BY position",
                &[
                    SqlValue::Text(workflow.to_string()),
                    SqlValue::Integer(i64::try_from(from).unwrap_or(i64::MAX)),
                ],
                "a workflow's records",
            )
        })
    }

    async fn summary(&self, workflow: &WorkflowId) -> PortResult<Option<WorkflowSummary>> {
        self.with_conn(|conn| read_summary(conn, workflow))
    }

    async fn find(&self, filter: &WorkflowFilter) -> PortResult<Vec<WorkflowSummary>> {
        let mut sql = String::from("SELECT summary FROM workflows WHERE 1 = 1");
        let mut args: Vec<SqlValue> = Vec::new();
        let mut bind = |clause: &str, value: SqlValue, sql: &mut String| {
            args.push(value);
            sql.push_str(&format!(" AND {clause} ?{}", args.len()));
        };
        if let Some(t) = &filter.target {
            bind("target =", SqlValue::Text(t.to_ascii_lowercase()), &mut sql);
        }
        if let Some(g) = &filter.group {
            bind("grp =", SqlValue::Text(g.to_ascii_lowercase()), &mut sql);
        }
        if let Some(p) = &filter.phase {
            bind("phase =", SqlValue::Text(p.clone()), &mut sql);
        }
        if let Some(o) = filter.open {
            bind("open =", SqlValue::Integer(i64::from(o)), &mut sql);
        }
        if let Some(a) = &filter.after {
            bind("id >", SqlValue::Text(a.to_string()), &mut sql);
        }
        args.push(SqlValue::Integer(limit_of(filter.limit)));
        sql.push_str(&format!(" ORDER BY id LIMIT ?{}", args.len()));
        let found: Vec<WorkflowSummary> =
            self.with_conn(|conn| rows(conn, &sql, &args, "workflow index rows"))?;
        Ok(found.into_iter().filter(|r| filter.matches(r)).collect())
    }

    async fn trail(&self, from_seq: u64, limit: usize) -> PortResult<Vec<AuditRecord>> {
        self.with_conn(|conn| {
            rows(
                conn,
                "SELECT record FROM records WHERE seq >= ?1 ORDER BY seq LIMIT ?2",
                &[
                    SqlValue::Integer(i64::try_from(from_seq).unwrap_or(i64::MAX)),
                    SqlValue::Integer(exactly(limit)),
                ],
                "the trail",
            )
        })
    }

    async fn due_timers(&self, now: DateTime<Utc>, limit: usize) -> PortResult<Vec<Timer>> {
        self.with_conn(|conn| {
            rows(
                conn,
                "SELECT timer FROM timers WHERE at <= ?1 ORDER BY at, workflow, key LIMIT ?2",
                &[
                    SqlValue::Integer(micros(now)),
                    SqlValue::Integer(exactly(limit)),
                ],
                "due timers",
            )
        })
    }

    async fn next_timer(&self) -> PortResult<Option<Timer>> {
        self.with_conn(|conn| {
            rows::<Timer>(
                conn,
                "SELECT timer FROM timers ORDER BY at, workflow, key LIMIT 1",
                &[],
                "the next timer",
            )
            .map(|mut t| t.pop())
        })
    }
}
