//! `groupgate store migrate | copy`: a PostgreSQL store's schema brought up
//! to date, and a SQLite store copied into an empty PostgreSQL one — every
//! record re-sealed in order onto the new chain (each new hash must equal
//! the old one, or the copy stops), then the workflows' index rows and
//! timers, then the copy's whole trail verified.

use crate::error::{CliError, Exit};
use groupgate_core::Secret;
use groupgate_core::audit::{AuditRecord, NewRecord, VerifyOptions, verify_trail};
use groupgate_core::ports::{Commit, Store, Timer, WorkflowFilter};
use groupgate_postgres::{PostgresOptions, PostgresStore};
use groupgate_sqlite::{SqliteOptions, SqliteStore};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The environment variable the PostgreSQL password comes from.
const PASSWORD_VARIABLE: &str = "GROUPGATE_POSTGRES_PASSWORD";

const PAGE: usize = 1000;

fn postgres_options(url: &str) -> PostgresOptions {
    let mut options = PostgresOptions::new(url);
    if let Ok(p) = std::env::var(PASSWORD_VARIABLE) {
        options = options.with_password(Secret::new(p));
    }
    options
}

fn store_error(what: &str, e: impl std::fmt::Display) -> CliError {
    CliError::Argument(format!("{what}: {e}"))
}

/// `postgres:URL` or a bare URL.
fn postgres_url(text: &str) -> Result<&str, CliError> {
    let url = text.strip_prefix("postgres:").unwrap_or(text);
    if url.starts_with("postgres://") || url.starts_with("postgresql://") || url.contains("host=") {
        Ok(url)
    } else {
        Err(CliError::Argument(format!(
            "`{text}` is not a PostgreSQL store; give `postgres:postgres://USER@HOST:PORT/DB` (the password in {PASSWORD_VARIABLE})"
        )))
    }
}

/// `sqlite:PATH` or a bare path.
fn sqlite_path(text: &str) -> PathBuf {
    PathBuf::from(text.strip_prefix("sqlite:").unwrap_or(text))
}

/// `groupgate store migrate --to postgres:URL`.
pub(crate) fn migrate(to: &str) -> Result<Exit, CliError> {
    let url = postgres_url(to)?.to_owned();
    let runtime = super::runtime()?;
    runtime.block_on(async move {
        let store = PostgresStore::open(postgres_options(&url))
            .await
            .map_err(|e| store_error("cannot open the PostgreSQL store", e))?;
        println!(
            "{}: schema version {}",
            store.target(),
            groupgate_postgres::SCHEMA_VERSION
        );
        Ok(Exit::Success)
    })
}

async fn whole_trail(store: &dyn Store, what: &str) -> Result<Vec<AuditRecord>, CliError> {
    let mut all = Vec::new();
    let mut from = 0;
    loop {
        let page = store
            .trail(from, PAGE)
            .await
            .map_err(|e| store_error(&format!("cannot read the trail of {what}"), e))?;
        let Some(last) = page.last() else {
            return Ok(all);
        };
        from = last.seq + 1;
        all.extend(page);
    }
}

/// Copies the records in order, batching runs of one workflow into one commit.
async fn copy_records(records: &[AuditRecord], to: &PostgresStore) -> Result<(), CliError> {
    let mut start = 0;
    while start < records.len() {
        let workflow = &records[start].workflow;
        let mut end = start + 1;
        while end < records.len() && records[end].workflow == *workflow && end - start < 200 {
            end += 1;
        }
        let batch = &records[start..end];
        let committed = to
            .commit(&Commit {
                workflow: workflow.clone(),
                expected_version: None,
                records: batch
                    .iter()
                    .map(|r| NewRecord {
                        at: r.at,
                        actor: r.actor.clone(),
                        entry: r.entry.clone(),
                    })
                    .collect(),
                summary: None,
                timers: None,
            })
            .await
            .map_err(|e| store_error("cannot write to the PostgreSQL store", e))?;
        for (old, new) in batch.iter().zip(&committed.records) {
            if old.seq != new.seq || old.hash != new.hash {
                return Err(CliError::Argument(format!(
                    "the copy diverged at record {} (hash {} became {}); the PostgreSQL store holds a partial copy: drop and recreate the database before trying again",
                    old.seq, old.hash, new.hash
                )));
            }
        }
        start = end;
    }
    Ok(())
}

/// `groupgate store copy --from sqlite:PATH --to postgres:URL`.
pub(crate) fn copy(from: &str, to: &str) -> Result<Exit, CliError> {
    let source = sqlite_path(from);
    let url = postgres_url(to)?.to_owned();
    let runtime = super::runtime()?;
    runtime.block_on(async move {
        let sqlite = SqliteStore::open_existing(&source, SqliteOptions::default())
            .map_err(|e| CliError::Service(e.into()))?;
        let postgres = PostgresStore::open(postgres_options(&url))
            .await
            .map_err(|e| store_error("cannot open the PostgreSQL store", e))?;
        if postgres
            .head()
            .await
            .map_err(|e| store_error("cannot read the PostgreSQL store", e))?
            .is_some()
        {
            return Err(CliError::Argument(format!(
                "the PostgreSQL store at {} is not empty; copy into a new, empty database",
                postgres.target()
            )));
        }
        let records = whole_trail(&sqlite, &source.display().to_string()).await?;
        copy_records(&records, &postgres).await?;
        // The index rows and the timers, per workflow.
        let mut timers: BTreeMap<String, Vec<Timer>> = BTreeMap::new();
        let far = chrono::DateTime::<chrono::Utc>::MAX_UTC;
        for t in sqlite
            .due_timers(far, usize::MAX >> 1)
            .await
            .map_err(|e| store_error("cannot read the timers", e))?
        {
            timers.entry(t.workflow.to_string()).or_default().push(t);
        }
        let rows = sqlite
            .find(&WorkflowFilter::default())
            .await
            .map_err(|e| store_error("cannot read the workflows", e))?;
        for row in &rows {
            let own = timers.remove(row.id.as_str()).unwrap_or_default();
            postgres
                .commit(&Commit {
                    workflow: row.id.clone(),
                    expected_version: Some(row.version),
                    records: Vec::new(),
                    summary: Some(row.clone()),
                    timers: Some(own),
                })
                .await
                .map_err(|e| store_error("cannot write a workflow's index row", e))?;
        }
        for (workflow, left) in timers {
            postgres
                .commit(&Commit {
                    workflow: workflow.as_str().into(),
                    expected_version: None,
                    records: Vec::new(),
                    summary: None,
                    timers: Some(left),
                })
                .await
                .map_err(|e| store_error("cannot write timers", e))?;
        }
        // The copy is verified as a whole before it is called one.
        let copied = whole_trail(&postgres, postgres.target()).await?;
        let text: String = copied.iter().map(|r| r.to_json_line() + "\n").collect();
        let report = if copied.is_empty() {
            0
        } else {
            verify_trail(&text, &VerifyOptions::default())
                .map_err(|e| CliError::Argument(format!("the copy does not verify: {e}")))?
                .records
        };
        if copied.len() != records.len()
            || copied.last().map(|r| &r.hash) != records.last().map(|r| &r.hash)
        {
            return Err(CliError::Argument(
                "the copy's trail does not end where the source's does".to_owned(),
            ));
        }
        println!(
            "copied {} records and {} workflows from {} to {}; the copy's trail verifies ({} records, head {})",
            records.len(),
            rows.len(),
            source.display(),
            postgres.target(),
            report,
            records.last().map_or("-", |r| r.hash.as_str())
        );
        println!(
            "not copied: the chat ledger, the offboarding queue and the worker's state (they live in the SQLite file)"
        );
        Ok(Exit::Success)
    })
}
