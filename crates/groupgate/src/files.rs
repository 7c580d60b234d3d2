//! Reading input files into typed values: bounded in size while read, UTF-8
//! checked (with the byte offset of a bad byte), and parsed through
//! `groupgate_core::input` with its limits, so every error names the file,
//! the line and column, the field, and — for a limit — how to raise it.

use groupgate_core::input::{self, InputError, LimitKind, Limits};
use groupgate_core::suite::FactsSource;
use groupgate_core::{CompiledPolicy, PolicyError, PolicyFormat};
use serde::de::DeserializeOwned;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The kinds of input files, each with its default limits (raised with the
/// `GROUPGATE_LIMIT_*` variables).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// Policies, directory snapshots, tenants, trails, histories, test files.
    Large,
    /// Requests, facts, settings, keys.
    Small,
}

impl Input {
    /// The limits for this kind of file: the defaults, with any
    /// `GROUPGATE_LIMIT_*` variable of the environment applied.
    pub fn limits(self) -> Limits {
        let base = match self {
            Input::Large => Limits::default(),
            Input::Small => Limits::small(),
        };
        base.with_overrides(|k| std::env::var(k).ok())
    }
}

/// Why a file could not be read into what was expected.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file could not be opened or read.
    #[error("cannot read `{path}`: {source}")]
    Read {
        /// The file.
        path: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The file exceeds a limit, or is not UTF-8.
    #[error("{path}: {error}")]
    Input {
        /// The file.
        path: String,
        /// Which limit, and how to raise it.
        error: InputError,
    },
    /// The file does not parse as the expected document.
    #[error("{path}{}: `{field}`: {message}", location.map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default())]
    Parse {
        /// The file.
        path: String,
        /// Line and column, from 1, when known.
        location: Option<(usize, usize)>,
        /// The field at fault (`(document)` for the whole).
        field: String,
        /// What is wrong.
        message: String,
        /// What the file should hold.
        expected: &'static str,
    },
    /// The policy is invalid (every finding, located).
    #[error("{0}")]
    Policy(#[from] PolicyError),
}

impl FileError {
    /// A hint for a person: what the file should hold, or how to raise a
    /// limit.
    pub fn help(&self) -> Option<String> {
        match self {
            FileError::Read { .. } => Some("check the path and permissions".to_owned()),
            FileError::Input { error, .. } => Some(error.help()),
            FileError::Parse { expected, .. } => Some(format!("expected {expected}")),
            FileError::Policy(_) => None,
        }
    }
}

fn limit_error(path: &Path, error: InputError) -> FileError {
    FileError::Input {
        path: path.display().to_string(),
        error,
    }
}

/// Reads `path` as UTF-8 text, at most `limits.max_bytes` of it (a larger
/// file, or an endless one such as `/dev/zero`, is refused without reading
/// it all).
pub fn read_bounded(path: &Path, limits: &Limits) -> Result<String, FileError> {
    let io = |source| FileError::Read {
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
pub fn read_text(path: &Path, kind: Input) -> Result<String, FileError> {
    read_bounded(path, &kind.limits())
}

/// Reads, validates and compiles a policy file (YAML, or JSON by its
/// `.json` name).
pub fn load_policy(path: &Path) -> Result<CompiledPolicy, FileError> {
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

/// Parses `text` (YAML, or JSON when `path` ends in `.json`) as `T`; `path`
/// names it in errors and `expected` says what it should hold.
pub fn parse_as<T: DeserializeOwned>(
    text: &str,
    path: &Path,
    expected: &'static str,
    kind: Input,
) -> Result<T, FileError> {
    let name = path.display().to_string();
    let limits = kind.limits();
    if text.trim().is_empty() {
        return Err(FileError::Parse {
            path: name,
            location: None,
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
        FileError::Parse {
            path: name,
            location: e.location.map(|l| (l.line, l.column)),
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

/// Reads and parses a file of `kind` as `T`.
pub fn load_as<T: DeserializeOwned>(
    path: &Path,
    expected: &'static str,
    kind: Input,
) -> Result<T, FileError> {
    parse_as(&read_text(path, kind)?, path, expected, kind)
}

/// Reads directory facts or a directory snapshot (told apart by its
/// `users`/`groups` keys).
pub fn load_facts_source(path: &Path) -> Result<FactsSource, FileError> {
    let text = read_text(path, Input::Large)?;
    let value: serde_json::Value =
        parse_as(&text, path, "directory facts or a snapshot", Input::Large)?;
    if FactsSource::looks_like_snapshot(&value) {
        Ok(FactsSource::Directory(parse_as(
            &text,
            path,
            "a directory snapshot (users, groups)",
            Input::Large,
        )?))
    } else {
        Ok(FactsSource::Facts(Box::new(parse_as(
            &text,
            path,
            "directory facts (requester, target, group, …)",
            Input::Large,
        )?)))
    }
}

/// `relative` resolved against the folder holding `base_file`.
pub fn beside(base_file: &Path, relative: &str) -> PathBuf {
    let rel = Path::new(relative);
    if rel.is_absolute() {
        return rel.to_path_buf();
    }
    base_file
        .parent()
        .map(|p| p.join(rel))
        .unwrap_or_else(|| rel.to_path_buf())
}
