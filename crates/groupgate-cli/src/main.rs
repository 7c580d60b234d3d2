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

/// A reader that stops early (`groupgate … | head`) closes the pipe: the
/// next write to stdout fails with "Broken pipe", which `println!` turns
/// into a panic. That is not an error of groupgate's: exit quietly with the
/// status a process stopped by SIGPIPE has (128 + 13), as other tools do.
fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.contains("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}

fn main() -> ExitCode {
    quiet_on_broken_pipe();
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
