//! `groupgate worker`, `groupgate workflows`, `groupgate offboard`.

use crate::cli::LogFormat;
use crate::error::{CliError, Exit};
use groupgate_core::ports::{Store, WorkflowFilter};
use groupgate_core::{UserId, WorkflowId};
use groupgate_service::{Service, ServiceSettings};
use groupgate_sqlite::{SqliteOptions, SqliteStore};
use std::path::Path;

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Listens for SIGTERM and Ctrl-C from now on (the handlers are installed
/// before anything else runs, so a signal during the first pass is not the
/// default "terminate at once") and gives the engine's stop signal when one
/// arrives.
fn stop_on_signals(stop: groupgate_engine::StopSignal) -> Result<(), CliError> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let cannot =
            |e: std::io::Error| CliError::Argument(format!("cannot listen for signals: {e}"));
        let mut term = signal(SignalKind::terminate()).map_err(cannot)?;
        let mut interrupt = signal(SignalKind::interrupt()).map_err(cannot)?;
        tokio::spawn(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = interrupt.recv() => {}
            }
            tracing::info!("stop requested; finishing the step in hand");
            stop.stop();
        });
    }
    #[cfg(not(unix))]
    {
        tokio::spawn(async move {
            let _ = tokio::signal::ctrl_c().await;
            stop.stop();
        });
    }
    Ok(())
}

/// Reloads the policy on every SIGHUP (the pass also reloads when it finds
/// the file changed; SIGHUP makes it happen now).
fn reload_on_hangup(service: std::sync::Arc<Service>) -> Result<(), CliError> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hangup = signal(SignalKind::hangup())
            .map_err(|e| CliError::Argument(format!("cannot listen for SIGHUP: {e}")))?;
        tokio::spawn(async move {
            while hangup.recv().await.is_some() {
                tracing::info!("SIGHUP: reloading the policy");
                let outcome = service.reload_policy().await;
                tracing::info!(?outcome, "policy reload");
            }
        });
    }
    #[cfg(not(unix))]
    let _ = service;
    Ok(())
}

pub(crate) fn worker(config: &Path, once: bool, format: LogFormat) -> Result<Exit, CliError> {
    init_logging(format);
    // Counted from the first pass on, served at `/metrics`.
    groupgate_service::install_prometheus();
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let service =
            std::sync::Arc::new(Service::from_settings_file(config).map_err(CliError::Service)?);
        stop_on_signals(service.engine().stop_signal())?;
        reload_on_hangup(service.clone())?;
        if !once {
            // Slack's and Teams' callbacks, when `listen` is set; the
            // address bound is logged.
            service.listen().await.map_err(CliError::Service)?;
        }
        if once {
            let recovered = service.recover().await.map_err(CliError::Stopped)?;
            let pass = service.pass(true).await.map_err(CliError::Stopped)?;
            tracing::info!(
                recovered = recovered.stepped,
                taken_in = pass.taken_in,
                stepped = pass.stepped,
                fired = pass.fired,
                offboarded = pass.offboarded,
                failures = pass.failures,
                "one pass"
            );
        } else {
            service.run().await.map_err(CliError::Stopped)?;
        }
        Ok(Exit::Success)
    })
}

/// The store the settings name, opened without building any adapter; it
/// must exist unless `create`.
pub(crate) fn store_of(config: &Path, create: bool) -> Result<SqliteStore, CliError> {
    let settings = ServiceSettings::load(config).map_err(CliError::Service)?;
    let options = SqliteOptions {
        durability: settings.store.durability.into(),
        ..SqliteOptions::default()
    };
    let opened = if create {
        SqliteStore::open(&settings.store.path, options)
    } else {
        SqliteStore::open_existing(&settings.store.path, options)
    };
    opened.map_err(|e| CliError::Service(e.into()))
}

/// `groupgate store backup`: a consistent copy of the store while the
/// worker runs.
pub(crate) fn backup(config: &Path, to: &Path) -> Result<Exit, CliError> {
    if to.exists() {
        return Err(CliError::Argument(format!(
            "`{}` exists; a backup is written to a new file",
            to.display()
        )));
    }
    let store = store_of(config, false)?;
    store
        .backup_to(to)
        .map_err(|e| CliError::Service(e.into()))?;
    // The copy is checked like any store before it is called a backup.
    let copy = SqliteStore::open_existing(to, SqliteOptions::default())
        .map_err(|e| CliError::Service(e.into()))?;
    copy.check_integrity()
        .map_err(|e| CliError::Service(e.into()))?;
    println!("backed up {} to {}", store.path().display(), to.display());
    Ok(Exit::Success)
}

/// `groupgate store check`: every page of the file.
pub(crate) fn check_store(config: &Path) -> Result<Exit, CliError> {
    let store = store_of(config, false)?;
    match store.check_integrity() {
        Ok(()) => {
            println!("{}: ok", store.path().display());
            Ok(Exit::Success)
        }
        Err(e) => {
            println!("{e}");
            Ok(Exit::Findings)
        }
    }
}

fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub(crate) struct ListArgs<'a> {
    pub(crate) config: &'a Path,
    pub(crate) open: bool,
    pub(crate) phase: Option<String>,
    pub(crate) target: Option<String>,
    pub(crate) limit: usize,
    pub(crate) json: bool,
}

pub(crate) fn list(args: ListArgs<'_>) -> Result<Exit, CliError> {
    let store = store_of(args.config, false)?;
    let filter = WorkflowFilter {
        open: args.open.then_some(true),
        phase: args.phase,
        target: args.target.map(UserId::new),
        limit: args.limit,
        ..WorkflowFilter::default()
    };
    let rows = super::runtime()?
        .block_on(store.find(&filter))
        .map_err(|e| CliError::Service(e.into()))?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        );
        return Ok(Exit::Success);
    }
    println!(
        "{:<14} {:<20} {:<5} {:<21} {:<36} last error",
        "workflow", "phase", "open", "next wake", "target"
    );
    for r in &rows {
        println!(
            "{:<14} {:<20} {:<5} {:<21} {:<36} {}",
            r.id.as_str(),
            r.phase,
            if r.open { "yes" } else { "no" },
            r.next_wake.map(when).unwrap_or_else(|| "-".into()),
            r.target
                .as_ref()
                .map(|t| t.to_string())
                .unwrap_or_else(|| r.target_name.clone()),
            r.last_error.as_deref().unwrap_or("-"),
        );
    }
    println!("{} workflow(s)", rows.len());
    Ok(Exit::Success)
}

pub(crate) fn show(ticket: &str, config: &Path, json: bool) -> Result<Exit, CliError> {
    let store = store_of(config, false)?;
    let id = WorkflowId::new(ticket);
    let runtime = super::runtime()?;
    let row = runtime
        .block_on(store.summary(&id))
        .map_err(|e| CliError::Service(e.into()))?;
    let Some(row) = row else {
        println!("no workflow for {ticket} in {}", store.path().display());
        return Ok(Exit::Findings);
    };
    let records = runtime
        .block_on(store.records(&id, 0))
        .map_err(|e| CliError::Service(e.into()))?;
    if json {
        let out = serde_json::json!({ "workflow": row, "records": records });
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        return Ok(Exit::Success);
    }
    println!("workflow   {}", row.id.as_str());
    println!("ticket     {}", row.ticket.as_str());
    println!(
        "target     {} ({})",
        row.target_name,
        row.target
            .as_ref()
            .map(|t| t.to_string())
            .unwrap_or_else(|| "not resolved".into())
    );
    println!(
        "group      {}",
        row.group
            .as_ref()
            .map(|g| g.to_string())
            .unwrap_or_else(|| "-".into())
    );
    println!(
        "phase      {}{}",
        row.phase,
        if row.open { " (open)" } else { "" }
    );
    println!(
        "next wake  {}",
        row.next_wake.map(when).unwrap_or_else(|| "-".into())
    );
    println!(
        "pending    {} command(s){}",
        row.pending,
        if row.in_flight { ", one in flight" } else { "" }
    );
    println!("last error {}", row.last_error.as_deref().unwrap_or("-"));
    println!("records    {}", row.version);
    println!();
    for line in crate::timeline::lines(&records) {
        println!("{line}");
    }
    Ok(Exit::Success)
}

pub(crate) fn offboard(
    user: &str,
    config: &Path,
    now: bool,
    operator: &str,
    json: bool,
) -> Result<Exit, CliError> {
    if !now {
        let store = store_of(config, true)?;
        let number = store
            .queue_offboarding(user, operator, chrono::Utc::now())
            .map_err(|e| CliError::Service(e.into()))?;
        println!(
            "offboarding of {user} queued as #{number}; the worker carries it out at its next pass"
        );
        return Ok(Exit::Success);
    }
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let service = Service::from_settings_file(config).map_err(CliError::Service)?;
        let report = service
            .engine()
            .offboard(user, operator)
            .await
            .map_err(|e| CliError::Stopped(e.into()))?;
        if json {
            println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
        } else {
            println!(
                "offboarded {user}: {} removed, {} drift removed, {} cancelled, {} in progress, {} failed",
                report.removed.len(),
                report.drift.len(),
                report.cancelled.len(),
                report.in_progress.len(),
                report.failed.len()
            );
            for line in &report.incomplete {
                println!("incomplete: {line}");
            }
        }
        Ok(if report.is_complete() { Exit::Success } else { Exit::Findings })
    })
}
