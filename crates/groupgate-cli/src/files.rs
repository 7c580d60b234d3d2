//! Reading input files (see `groupgate::files`), with the CLI's errors.

use crate::error::CliError;
use groupgate::files::{self, FileError};
use groupgate_core::{CompiledPolicy, suite::FactsSource};
use serde::de::DeserializeOwned;
use std::path::Path;

pub(crate) use groupgate::files::Input;

impl From<FileError> for CliError {
    fn from(e: FileError) -> Self {
        match e {
            FileError::Read { path, source } => CliError::Read { path, source },
            FileError::Input { path, error } => CliError::Input { path, error },
            FileError::Parse {
                path,
                location,
                field,
                message,
                expected,
            } => CliError::Parse {
                path,
                location: location
                    .map(|(l, c)| format!(":{l}:{c}"))
                    .unwrap_or_default(),
                field,
                message,
                expected,
            },
            FileError::Policy(e) => CliError::Policy(e),
        }
    }
}

pub(crate) fn read_text(path: &Path, kind: Input) -> Result<String, CliError> {
    Ok(files::read_text(path, kind)?)
}

pub(crate) fn load_policy(path: &Path) -> Result<CompiledPolicy, CliError> {
    Ok(files::load_policy(path)?)
}

pub(crate) fn load_as<T: DeserializeOwned>(
    path: &Path,
    expected: &'static str,
    kind: Input,
) -> Result<T, CliError> {
    Ok(files::load_as(path, expected, kind)?)
}

pub(crate) fn load_facts_source(path: &Path) -> Result<FactsSource, CliError> {
    Ok(files::load_facts_source(path)?)
}
