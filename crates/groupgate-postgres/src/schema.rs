//! The schema and its versioned migrations, run at open under an advisory
//! lock (many workers starting at once migrate once). The version lives in
//! `groupgate_schema`; a database from a newer groupgate is refused, never
//! touched.

use crate::PostgresError;
use crate::error::message_of;

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = 2;

/// The advisory lock key of migrations (`'ggmi'`).
const MIGRATION_LOCK: i64 = 0x6767_6d69;

/// Migration `n` takes the schema from version `n` to `n + 1`.
const MIGRATIONS: &[&str] = &[
    "
    CREATE TABLE records (
        seq      BIGINT PRIMARY KEY,
        workflow TEXT   NOT NULL,
        position BIGINT NOT NULL,
        hash     TEXT   NOT NULL,
        record   TEXT   NOT NULL,
        UNIQUE (workflow, position)
    );

    CREATE TABLE workflows (
        id      TEXT    PRIMARY KEY,
        target  TEXT,
        grp     TEXT,
        phase   TEXT    NOT NULL,
        open    BOOLEAN NOT NULL,
        summary TEXT    NOT NULL
    );
    CREATE INDEX workflows_by_target ON workflows (target, id) WHERE target IS NOT NULL;
    CREATE INDEX workflows_by_group  ON workflows (grp, id)    WHERE grp IS NOT NULL;
    CREATE INDEX workflows_by_phase  ON workflows (phase, id);
    CREATE INDEX workflows_by_open   ON workflows (open, id);

    CREATE TABLE timers (
        workflow TEXT   NOT NULL,
        key      TEXT   NOT NULL,
        at       BIGINT NOT NULL,
        timer    TEXT   NOT NULL,
        PRIMARY KEY (workflow, key)
    );
    CREATE INDEX timers_by_due ON timers (at, workflow, key);
",
    "
    CREATE SEQUENCE lease_tokens;
    CREATE TABLE leases (
        workflow   TEXT   PRIMARY KEY,
        owner      TEXT   NOT NULL,
        token      BIGINT NOT NULL,
        expires_at BIGINT NOT NULL
    );
    CREATE INDEX leases_by_owner ON leases (owner);
",
];

/// Brings the database to [`SCHEMA_VERSION`] (or refuses a newer one).
pub(crate) async fn migrate(
    client: &mut tokio_postgres::Client,
    target: &str,
) -> Result<i64, PostgresError> {
    let failed = |to: i64, e: &tokio_postgres::Error| PostgresError::Migration {
        target: target.to_owned(),
        to,
        message: message_of(e),
    };
    let tx = client
        .transaction()
        .await
        .map_err(|e| crate::error::open_error(target, &e))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(|e| failed(0, &e))?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS groupgate_schema (
             singleton BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
             version   BIGINT  NOT NULL
         )",
    )
    .await
    .map_err(|e| failed(0, &e))?;
    let row = tx
        .query_opt("SELECT version FROM groupgate_schema", &[])
        .await
        .map_err(|e| failed(0, &e))?;
    let mut version: i64 = row.map(|r| r.get(0)).unwrap_or(0);
    if version > SCHEMA_VERSION {
        return Err(PostgresError::NewerSchema {
            target: target.to_owned(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    while version < SCHEMA_VERSION {
        let to = version + 1;
        let sql = usize::try_from(version)
            .ok()
            .and_then(|v| MIGRATIONS.get(v))
            .ok_or_else(|| PostgresError::Migration {
                target: target.to_owned(),
                to,
                message: "this build has no such migration".to_owned(),
            })?;
        tx.batch_execute(sql).await.map_err(|e| failed(to, &e))?;
        tx.execute(
            "INSERT INTO groupgate_schema (singleton, version) VALUES (TRUE, $1)
             ON CONFLICT (singleton) DO UPDATE SET version = excluded.version",
            &[&to],
        )
        .await
        .map_err(|e| failed(to, &e))?;
        version = to;
    }
    tx.commit().await.map_err(|e| failed(SCHEMA_VERSION, &e))?;
    Ok(version)
}
