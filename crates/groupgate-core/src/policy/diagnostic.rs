//! Errors and warnings about a policy file, each pointing at a file, line, column and field.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The policy cannot be used.
    Error,
    /// The policy works, but probably not as intended.
    Warning,
}

/// A place in a policy file (1-based line and column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Location {
    /// Line, starting at 1.
    pub line: usize,
    /// Column, starting at 1.
    pub column: usize,
}

/// One finding about a policy file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// A stable kebab-case code, e.g. `unknown-group` or `ambiguous-name`.
    pub code: String,
    /// The field the finding is about, e.g. `catalog[2].group`; empty for the whole file.
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Where in the file, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

impl Diagnostic {
    pub(crate) fn error(code: &str, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            code: code.to_owned(),
            field: field.into(),
            message: message.into(),
            help: None,
            location: None,
        }
    }

    pub(crate) fn warning(
        code: &str,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(code, field, message)
        }
    }

    pub(crate) fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Renders the finding as `file:line:column: severity[code]: field: message`.
    pub fn render(&self, source_name: &str) -> String {
        let mut out = String::new();
        out.push_str(source_name);
        if let Some(loc) = self.location {
            out.push_str(&format!(":{}:{}", loc.line, loc.column));
        }
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        out.push_str(&format!(": {severity}[{}]: ", self.code));
        if !self.field.is_empty() {
            out.push_str(&format!("`{}`: ", self.field));
        }
        out.push_str(&self.message);
        if let Some(help) = &self.help {
            out.push_str(&format!("\n  help: {help}"));
        }
        out
    }
}

/// A policy that could not be loaded, with every error found.
///
/// ```
/// use groupgate_core::CompiledPolicy;
/// let err = CompiledPolicy::from_yaml_str("version: 2\ngroups: []\n", "p.yaml").unwrap_err();
/// let text = err.to_string();
/// assert!(text.starts_with("p.yaml:1:1: error[unsupported-version]"), "{text}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PolicyError {
    /// The file (or other source) the policy came from.
    pub source_name: String,
    /// The findings; at least one is an error.
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            f.write_str(&d.render(&self.source_name))?;
        }
        Ok(())
    }
}
