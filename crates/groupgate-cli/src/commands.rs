//! One file per subcommand; this one dispatches.

mod audit;
mod check;
#[cfg(feature = "emulators")]
mod demo;
#[cfg(feature = "emulators")]
mod demo_live;
mod diff;
mod directory;
mod drift;
mod export;
mod lint;
#[cfg(feature = "emulators")]
mod sim;
mod store_copy;
mod test;
mod ticket;
mod worker;

#[cfg(feature = "emulators")]
use crate::cli::SimCommand;
use crate::cli::{
    AuditCommand, Cli, Command, DirectoryCommand, PolicyCommand, StoreCommand, TicketCommand,
    WorkflowsCommand,
};
use crate::error::{CliError, Exit};
use crate::files;
use chrono::{DateTime, Utc};
use std::path::Path;

pub(crate) fn run(cli: Cli) -> Result<Exit, CliError> {
    match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Policy(PolicyCommand::Lint { file, strict, json }) => {
            lint::run(&file, strict, json)
        }
        Command::Policy(PolicyCommand::Test { file, tests, json }) => {
            test::run(&file, tests.as_deref(), json)
        }
        Command::Policy(PolicyCommand::Diff {
            old,
            new,
            requests,
            directory,
            json,
        }) => diff::run(&old, &new, &requests, directory.as_deref(), json),
        #[cfg(feature = "emulators")]
        Command::Demo {
            json,
            audit_out,
            signing_key,
            simulated,
            keep,
        } => {
            if simulated || signing_key.is_some() {
                demo::run(json, audit_out.as_deref(), signing_key.as_deref())
            } else {
                demo_live::run(json, keep.as_deref(), audit_out.as_deref())
            }
        }
        Command::Audit(AuditCommand::Verify {
            file,
            expect_head,
            anchors,
            public_key,
            json,
        }) => audit::verify(
            &file,
            &audit::VerifyArgs {
                expect_head,
                anchors,
                public_key,
                json,
            },
        ),
        Command::Audit(AuditCommand::Keygen { out }) => audit::keygen(&out),
        Command::Audit(AuditCommand::Export {
            config,
            out,
            format,
            since,
        }) => export::export(&config, out.as_deref(), format, since.as_deref()),
        Command::Audit(AuditCommand::Replay { file, policy, json }) => {
            audit::replay(&file, &policy, json)
        }
        #[cfg(feature = "emulators")]
        Command::Sim(SimCommand::Graph {
            tenant,
            port,
            tenant_id,
            client_id,
            client_secret,
            fault_rate,
            seed,
            replication_lag_ms,
        }) => sim::graph(
            &tenant,
            port,
            sim::Credentials {
                tenant_id,
                client_id,
                client_secret,
            },
            fault_rate,
            seed,
            replication_lag_ms,
        ),
        #[cfg(feature = "emulators")]
        Command::Sim(SimCommand::Teams {
            tenant,
            port,
            app_secret,
        }) => sim::teams(&tenant, port, app_secret),
        #[cfg(feature = "emulators")]
        Command::Sim(SimCommand::Servicenow {
            data,
            port,
            password,
            strict_queries,
            fault_rate,
        }) => sim::servicenow(&data, port, password, strict_queries, fault_rate),
        Command::Directory(DirectoryCommand::User { key, graph_config }) => {
            directory::user(&key, graph_config.as_deref())
        }
        Command::Directory(DirectoryCommand::Group { id, graph_config }) => {
            directory::group(&id, graph_config.as_deref())
        }
        Command::Worker {
            config,
            once,
            log_format,
        } => worker::worker(&config, once, log_format),
        Command::Workflows(WorkflowsCommand::List {
            config,
            open,
            phase,
            target,
            limit,
            json,
        }) => worker::list(worker::ListArgs {
            config: &config,
            open,
            phase,
            target,
            limit,
            json,
        }),
        Command::Workflows(WorkflowsCommand::Show {
            ticket,
            config,
            json,
        }) => worker::show(&ticket, &config, json),
        Command::Store(StoreCommand::Backup { config, to }) => worker::backup(&config, &to),
        Command::Store(StoreCommand::Check { config }) => worker::check_store(&config),
        Command::Store(StoreCommand::Migrate { to }) => store_copy::migrate(&to),
        Command::Store(StoreCommand::Copy { from, to }) => store_copy::copy(&from, &to),
        Command::Drift { config, json } => drift::drift(&config, json),
        Command::Offboard {
            user,
            config,
            now,
            operator,
            json,
        } => worker::offboard(&user, &config, now, &operator, json),
        Command::Ticket(TicketCommand::Show {
            number,
            servicenow_config,
        }) => ticket::show(&number, servicenow_config.as_deref()),
        Command::Policy(PolicyCommand::Schema) => {
            print!("{}", groupgate_core::policy_json_schema());
            Ok(Exit::Success)
        }
    }
}

/// `--now`, or the present.
pub(crate) fn parse_now(now: Option<&str>) -> Result<DateTime<Utc>, CliError> {
    match now {
        None => Ok(Utc::now()),
        Some(text) => DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| {
                CliError::Argument(format!(
                    "--now `{text}` is not an RFC 3339 time ({e}); write e.g. 2026-11-25T10:00:00Z"
                ))
            }),
    }
}

/// A single-threaded async runtime for the commands that talk to services.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Argument(format!("cannot start the async runtime: {e}")))
}

/// Reads an optional settings file for a service client.
pub(crate) fn settings_text(path: Option<&Path>) -> Result<Option<String>, CliError> {
    path.map(|p| files::read_text(p, files::Input::Small))
        .transpose()
}

/// Runs one look-up against a service and prints what it found as JSON:
/// exit 0 found, 1 not found (with the service's words), 2 on other errors.
pub(crate) fn print_lookup<T: serde::Serialize>(
    service: &str,
    lookup: impl std::future::Future<Output = Result<Option<T>, groupgate_core::ports::PortError>>,
) -> Result<Exit, CliError> {
    match runtime()?.block_on(lookup) {
        Ok(Some(found)) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&found).unwrap_or_default()
            );
            Ok(Exit::Success)
        }
        Ok(None) => {
            println!("not found");
            Ok(Exit::Findings)
        }
        Err(e) if e.class == groupgate_core::ports::ErrorClass::NotFound => {
            println!("not found: {e}");
            Ok(Exit::Findings)
        }
        Err(e) => Err(CliError::Argument(format!("{service}: {e}"))),
    }
}

/// Checks a `--fault-rate` value.
#[cfg(feature = "emulators")]
pub(crate) fn fault_rate(rate: f64) -> Result<f64, CliError> {
    if (0.0..=1.0).contains(&rate) {
        Ok(rate)
    } else {
        Err(CliError::Argument(format!(
            "--fault-rate `{rate}` must be between 0 and 1"
        )))
    }
}
