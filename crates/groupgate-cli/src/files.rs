//! Reading YAML or JSON input files into typed values, with located errors.

use crate::error::CliError;
use groupgate_core::{CompiledPolicy, PolicyFormat};
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};

pub(crate) fn read_text(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|source| CliError::Read {
        path: path.display().to_string(),
        source,
    })
}

pub(crate) fn load_policy(path: &Path) -> Result<CompiledPolicy, CliError> {
    let text = read_text(path)?;
    let name = path.display().to_string();
    Ok(CompiledPolicy::from_str_as(
        &text,
        PolicyFormat::from_file_name(&name),
        &name,
    )?)
}

/// Parses `text` (YAML, or JSON when `path` ends in `.json`) as `T`.
pub(crate) fn parse_as<T: DeserializeOwned>(
    text: &str,
    path: &Path,
    expected: &'static str,
) -> Result<T, CliError> {
    let name = path.display().to_string();
    let result = if PolicyFormat::from_file_name(&name) == PolicyFormat::Json {
        let mut de = serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let inner = e.inner();
            (
                e.path().to_string(),
                inner.to_string(),
                Some((inner.line(), inner.column())),
            )
        })
    } else {
        serde_path_to_error::deserialize(serde_yaml_ng::Deserializer::from_str(text)).map_err(|e| {
            let loc = e.inner().location().map(|l| (l.line(), l.column()));
            (e.path().to_string(), e.inner().to_string(), loc)
        })
    };
    result.map_err(|(field, message, loc)| CliError::Parse {
        path: name,
        location: loc.map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default(),
        field: if field == "." {
            "(document)".to_owned()
        } else {
            field
        },
        message: message
            .split(" at line ")
            .next()
            .unwrap_or_default()
            .to_owned(),
        expected,
    })
}

pub(crate) fn load_as<T: DeserializeOwned>(
    path: &Path,
    expected: &'static str,
) -> Result<T, CliError> {
    parse_as(&read_text(path)?, path, expected)
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
