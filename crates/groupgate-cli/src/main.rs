//! `groupgate`: check access requests against a policy; lint, test and
//! diff policies; run the worker; read workflows; offboard; run the demo;
//! verify and replay audit trails. Exit codes: 0 success, 1 findings
//! (failed tests, changed decisions, lint errors), 2 bad input, 3 the worker
//! stopped on a failure.

mod cli;
mod commands;
mod error;
mod files;
mod render;
mod timeline;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match commands::run(args) {
        Ok(code) => code.into(),
        Err(err) => {
            eprintln!("error: {err}");
            if let Some(help) = err.help() {
                eprintln!("  help: {help}");
            }
            err.exit().into()
        }
    }
}
