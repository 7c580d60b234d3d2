//! Conveniences that combine parsing, compiling, linting and evaluating.

use crate::policy::compile::locate;
use crate::policy::parse::parse_document;
use crate::{CompiledPolicy, Decision, Diagnostic, DirectorySnapshot, PolicyFormat, Request};
use chrono::{DateTime, Utc};

/// Every error and warning about policy text, each located by line and column.
///
/// ```
/// use groupgate_core::{lint_policy_text, PolicyFormat, Severity};
/// let text = "version: 1\ngroups:\n  - {id: G, object_id: o1, managed_via_itsm: true}\n";
/// let found = lint_policy_text(text, PolicyFormat::Yaml);
/// assert_eq!(found[0].code, "no-approval-path");
/// assert_eq!(found[0].severity, Severity::Warning);
/// assert_eq!(found[0].location.unwrap().line, 3);
/// ```
pub fn lint_policy_text(text: &str, format: PolicyFormat) -> Vec<Diagnostic> {
    let document = match parse_document(text, format, "", &crate::input::Limits::default()) {
        Ok(d) => d,
        Err(e) => return e.diagnostics,
    };
    let mut found = match CompiledPolicy::from_document(document) {
        Ok(policy) => policy.lint(),
        Err(e) => e.diagnostics,
    };
    locate(&mut found, Some(text));
    found
}

/// Resolves the request, derives the facts from `directory`, and evaluates:
/// what `groupgate check` and policy tests do.
pub fn evaluate_with_snapshot(
    policy: &CompiledPolicy,
    request: &Request,
    directory: &DirectorySnapshot,
    now: DateTime<Utc>,
) -> Decision {
    let facts = directory.facts_for(request, &policy.fact_needs(request));
    policy.evaluate(request, &facts, now)
}
