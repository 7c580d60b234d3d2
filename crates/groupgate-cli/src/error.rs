//! The CLI's errors and exit codes.

use std::process::ExitCode;

/// Typed exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// Done; for `check`, a decision was made (whatever it was).
    Success = 0,
    /// Findings: failed policy tests, changed decisions, lint errors.
    Findings = 1,
    /// Bad input: unreadable or malformed files, invalid arguments.
    BadInput = 2,
    /// The worker stopped on a failure it cannot go past (the store failed).
    Stopped = 3,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e as u8)
    }
}

/// Anything that stops a command before it can answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// A file could not be read.
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A file could not be parsed as the expected document.
    #[error("{path}{location}: `{field}`: {message}")]
    Parse {
        path: String,
        location: String,
        field: String,
        message: String,
        expected: &'static str,
    },
    /// A file exceeds a limit, or is not UTF-8.
    #[error("{path}: {error}")]
    Input {
        path: String,
        error: groupgate_core::input::InputError,
    },
    /// The policy is invalid.
    #[error("{0}")]
    Policy(#[from] groupgate_core::PolicyError),
    /// An argument has a bad value.
    #[error("{0}")]
    Argument(String),
    /// The service's settings, store or adapters are unusable.
    #[error("{0}")]
    Service(groupgate_service::ServiceError),
    /// The worker stopped while running.
    #[error("the worker stopped: {0}")]
    Stopped(groupgate_service::ServiceError),
}

impl CliError {
    /// The exit code this error ends the command with.
    pub(crate) fn exit(&self) -> Exit {
        match self {
            CliError::Stopped(_) => Exit::Stopped,
            _ => Exit::BadInput,
        }
    }
}

impl CliError {
    pub(crate) fn help(&self) -> Option<String> {
        match self {
            CliError::Read { .. } => Some("check the path and permissions".to_owned()),
            CliError::Parse { expected, .. } => {
                Some(format!("expected {expected}; see docs/cli.md"))
            }
            CliError::Policy(_) => {
                Some("run `groupgate policy lint FILE` for every finding".to_owned())
            }
            CliError::Input { error, .. } => Some(error.help()),
            CliError::Argument(_) => None,
            CliError::Service(_) => Some("see docs/operations.md for the settings".to_owned()),
            CliError::Stopped(_) => Some(
                "fix the cause and start the worker again: it resumes every workflow where it stopped"
                    .to_owned(),
            ),
        }
    }
}
