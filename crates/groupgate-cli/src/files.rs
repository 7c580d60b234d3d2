//! Reading input files into typed values: bounded in size while read, UTF-8
//! checked (with the byte offset of a bad byte), and parsed through
//! `groupgate_core::input` with its limits, so every error names the file,
//! the line and column, the field, and — for a limit — how to raise it.

use crate::error::CliError;
use groupgate_core::input::{self, InputError, LimitKind, Limits};
use groupgate_core::{CompiledPolicy, PolicyFormat};
use serde::de::DeserializeOwned;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The kinds of input files, each with its default limits (raised with the
/// `GROUPGATE_LIMIT_*` variables).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Input {
    /// Policies, directory snapshots, tenants, trails, histories, test files.
    Large,
    /// Requests, settings, keys.
    Small,
}

impl Input {
    pub(crate) fn limits(self) -> Limits {
        let base = match self {
            Input::Large => Limits::default(),
            Input::Small => Limits::small(),
        };
        base.with_overrides(|k| std::env::var(k).ok())
    }
}

fn limit_error(path: &Path, e: InputError) -> CliError {
    CliError::Input {
        path: path.display().to_string(),
        error: e,
    }
}

/// Reads `path` as UTF-8 text, at most `limits.max_bytes` of it (a larger
/// file, or an endless one such as `/dev/zero`, is refused without reading
/// it all).
pub(crate) fn read_bounded(path: &Path, limits: &Limits) -> Result<String, CliError> {
    let io = |source| CliError::Read {
        path: path.display().to_string(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    let cap = u64::try_from(limits.max_bytes)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    file.take(cap).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() > limits.max_bytes {
        return Err(limit_error(
            path,
            InputError {
                field: String::new(),
                location: None,
                message: format!(
                    "the file is larger than {} bytes; raise the limit with {}=<n> if it is genuine",
                    limits.max_bytes,
                    LimitKind::Bytes.variable()
                ),
                limit: Some(LimitKind::Bytes),
            },
        ));
    }
    let text = input::utf8(&bytes).map_err(|e| limit_error(path, e))?;
    Ok(text.to_owned())
}

/// Reads a text file of `kind`.
pub(crate) fn read_text(path: &Path, kind: Input) -> Result<String, CliError> {
    read_bounded(path, &kind.limits())
}

pub(crate) fn load_policy(path: &Path) -> Result<CompiledPolicy, CliError> {
    let limits = Input::Large.limits();
    let text = read_bounded(path, &limits)?;
    let name = path.display().to_string();
    Ok(CompiledPolicy::from_str_with_limits(
        &text,
        PolicyFormat::from_file_name(&name),
        &name,
        &limits,
    )?)
}

/// Parses `text` (YAML, or JSON when `path` ends in `.json`) as `T`.
pub(crate) fn parse_as<T: DeserializeOwned>(
    text: &str,
    path: &Path,
    expected: &'static str,
    kind: Input,
) -> Result<T, CliError> {
    let name = path.display().to_string();
    let limits = kind.limits();
    if text.trim().is_empty() {
        return Err(CliError::Parse {
            path: name,
            location: String::new(),
            field: "(document)".to_owned(),
            message: "the file is empty".to_owned(),
            expected,
        });
    }
    let result = if PolicyFormat::from_file_name(&name) == PolicyFormat::Json {
        input::from_json(text, &limits)
    } else {
        input::from_yaml(text, &limits)
    };
    result.map_err(|e| {
        if e.limit.is_some() {
            return limit_error(path, e);
        }
        CliError::Parse {
            path: name,
            location: e
                .location
                .map(|l| format!(":{}:{}", l.line, l.column))
                .unwrap_or_default(),
            field: if e.field.is_empty() {
                "(document)".to_owned()
            } else {
                e.field
            },
            message: e.message,
            expected,
        }
    })
}

pub(crate) fn load_as<T: DeserializeOwned>(
    path: &Path,
    expected: &'static str,
    kind: Input,
) -> Result<T, CliError> {
    parse_as(&read_text(path, kind)?, path, expected, kind)
}

/// `relative` resolved against the folder holding `base_file`.
pub(crate) fn beside(base_file: &Path, relative: &str) -> PathBuf {
    let rel = Path::new(relative);
    if rel.is_absolute() {
        return rel.to_path_buf();
    }
    base_file
        .parent()
        .map(|p| p.join(rel))
        .unwrap_or_else(|| rel.to_path_buf())
}
