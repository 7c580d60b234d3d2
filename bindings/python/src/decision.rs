//! A decision and its parts as Python objects (read-only, typed, with
//! `to_dict()` and equality), built from the Rust decision on access.

use crate::convert::to_py;
use groupgate_core as core;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyType};
use std::sync::Arc;

/// `groupgate._types.<name>` (a Python enum), imported once.
fn python_enum<'py>(
    py: Python<'py>,
    cell: &'static PyOnceLock<Py<PyType>>,
    name: &str,
) -> PyResult<Bound<'py, PyType>> {
    cell.import(py, "groupgate._types", name).cloned()
}

static OUTCOME: PyOnceLock<Py<PyType>> = PyOnceLock::new();

fn outcome_name(o: core::Outcome) -> &'static str {
    match o {
        core::Outcome::Deny => "deny",
        core::Outcome::AlreadyMember => "already_member",
        core::Outcome::NeedsApproval => "needs_approval",
        core::Outcome::PreApproved => "pre_approved",
    }
}

/// The evaluator's verdict with everything that led to it.
#[pyclass(module = "groupgate", frozen, eq)]
#[derive(Debug, PartialEq)]
pub(crate) struct Decision {
    pub(crate) inner: Arc<core::Decision>,
}

impl Decision {
    pub(crate) fn new(d: core::Decision) -> Self {
        Self { inner: Arc::new(d) }
    }
}

#[pymethods]
impl Decision {
    /// The verdict, a `groupgate.Outcome`.
    #[getter]
    fn outcome<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        python_enum(py, &OUTCOME, "Outcome")?.call1((outcome_name(self.inner.outcome),))
    }

    /// Whether the change may go ahead (after approvals, if any).
    #[getter]
    fn is_allowed(&self) -> bool {
        self.inner.is_allowed()
    }

    /// The group the request resolved to, if any.
    #[getter]
    fn group(&self) -> Option<ResolvedGroup> {
        self.inner.group.as_ref().map(ResolvedGroup::from)
    }

    /// The approval stages, in order.
    #[getter]
    fn stages(&self) -> Vec<ApprovalStage> {
        self.inner.stages.iter().map(ApprovalStage::from).collect()
    }

    /// When access ends, if it is time-bound.
    #[getter]
    fn expiry(&self) -> Option<Expiry> {
        self.inner.expiry.as_ref().map(Expiry::from)
    }

    /// The earliest time the change may execute.
    #[getter]
    fn earliest_execution(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.inner.earliest_execution
    }

    /// When unanswered approvals expire.
    #[getter]
    fn approval_deadline(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.inner.approval_deadline
    }

    /// Every reason, in evaluation order.
    #[getter]
    fn reasons(&self) -> Vec<Reason> {
        self.inner.reasons.iter().map(Reason::from).collect()
    }

    /// Close catalog entries for an unresolved request.
    #[getter]
    fn suggestions(&self) -> Vec<CatalogSuggestion> {
        self.inner
            .suggestions
            .iter()
            .map(CatalogSuggestion::from)
            .collect()
    }

    /// The digest of the policy that decided.
    #[getter]
    fn policy_digest(&self) -> String {
        self.inner.policy_digest.to_string()
    }

    /// The time the decision was made at.
    #[getter]
    fn evaluated_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.inner.evaluated_at
    }

    /// The reason codes, in order.
    #[getter]
    fn codes(&self) -> Vec<String> {
        self.inner
            .reasons
            .iter()
            .map(|r| r.code.to_string())
            .collect()
    }

    /// Whether any reason carries `code` (e.g. `"GROUP_ROLE_ASSIGNABLE"`).
    fn has_reason(&self, code: &str) -> bool {
        self.inner
            .reasons
            .iter()
            .any(|r| r.code.to_string() == code)
    }

    /// The decision as plain dicts and lists (the JSON shape of
    /// `groupgate check --json`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &*self.inner)
    }

    /// The decision as JSON text: byte for byte what `groupgate check
    /// --json` prints (`indent=2`), or compact by default.
    #[pyo3(signature = (*, indent = None))]
    fn to_json(&self, indent: Option<usize>) -> PyResult<String> {
        let text = match indent {
            Some(2) => serde_json::to_string_pretty(&*self.inner),
            Some(_) | None => serde_json::to_string(&*self.inner),
        };
        text.map_err(|e| crate::errors::GroupgateError::new_err(e.to_string()))
    }

    fn __repr__(&self) -> String {
        format!(
            "Decision(outcome='{}', group={}, stages={}, reasons={})",
            outcome_name(self.inner.outcome),
            self.inner
                .group
                .as_ref()
                .map(|g| format!("'{}'", g.key))
                .unwrap_or_else(|| "None".to_owned()),
            self.inner.stages.len(),
            self.inner.reasons.len()
        )
    }
}

/// The group a request resolved to, and how.
#[pyclass(module = "groupgate", frozen, get_all, eq)]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ResolvedGroup {
    /// The group's key in the policy.
    key: String,
    /// The group's directory object id.
    object_id: String,
    /// Its display name from the policy.
    display_name: Option<String>,
    /// Risk tier: `low`, `medium` or `high`.
    risk: String,
    /// Its tags.
    tags: Vec<String>,
    /// How the request text matched: `exact`, `alias`, `phrase`, `pattern`, `suggestion`.
    matched_by: String,
    /// What matched.
    matched: String,
    /// The catalog entry that matched, if any.
    catalog_entry: Option<String>,
}

fn name_of<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

impl From<&core::ResolvedGroup> for ResolvedGroup {
    fn from(g: &core::ResolvedGroup) -> Self {
        Self {
            key: g.key.to_string(),
            object_id: g.object_id.to_string(),
            display_name: g.display_name.as_deref().map(str::to_owned),
            risk: name_of(&g.risk),
            tags: g.tags.iter().map(|t| t.to_string()).collect(),
            matched_by: name_of(&g.matched_by),
            matched: g.matched.to_string(),
            catalog_entry: g.catalog_entry.as_deref().map(str::to_owned),
        }
    }
}

#[pymethods]
impl ResolvedGroup {
    fn __repr__(&self) -> String {
        format!(
            "ResolvedGroup(key='{}', object_id='{}')",
            self.key, self.object_id
        )
    }
}

/// Someone who may approve a stage, known by directory object id.
#[pyclass(module = "groupgate", frozen, get_all, eq)]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Approver {
    /// Their directory object id.
    id: String,
    /// Their user principal name.
    name: String,
    /// Why they may approve: `manager`, `app_owner`, `data_owner`, `group:<name>`, `user`.
    role: String,
}

impl From<&core::Approver> for Approver {
    fn from(a: &core::Approver) -> Self {
        Self {
            id: a.id.to_string(),
            name: a.name.to_string(),
            role: a.role.to_string(),
        }
    }
}

#[pymethods]
impl Approver {
    fn __repr__(&self) -> String {
        format!("Approver(name='{}', role='{}')", self.name, self.role)
    }
}

/// One approval stage with its eligible approvers.
#[pyclass(module = "groupgate", frozen, get_all, eq)]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApprovalStage {
    /// The stage's name.
    name: String,
    /// The rule that added it.
    source: String,
    /// How many distinct eligible approvers must approve.
    required: u32,
    /// The eligible approvers.
    approvers: Vec<Approver>,
    /// Who may answer after escalation.
    alternates: Vec<Approver>,
    /// When to escalate, in seconds after the stage is asked.
    escalate_after_seconds: Option<i64>,
}

impl From<&core::ApprovalStage> for ApprovalStage {
    fn from(s: &core::ApprovalStage) -> Self {
        Self {
            name: s.name.to_string(),
            source: s.source.to_string(),
            required: s.required,
            approvers: s.approvers.iter().map(Approver::from).collect(),
            alternates: s.alternates.iter().map(Approver::from).collect(),
            escalate_after_seconds: s.escalate_after_seconds,
        }
    }
}

#[pymethods]
impl ApprovalStage {
    fn __repr__(&self) -> String {
        format!(
            "ApprovalStage(name='{}', required={}, approvers={:?})",
            self.name,
            self.required,
            self.approvers.iter().map(|a| &a.name).collect::<Vec<_>>()
        )
    }
}

/// When granted access ends.
#[pyclass(module = "groupgate", frozen, get_all, eq)]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Expiry {
    /// The requested end date.
    end_date: Option<chrono::DateTime<chrono::Utc>>,
    /// The shortest maximum duration of the rules that apply, in seconds.
    max_duration_seconds: Option<i64>,
    /// The rule that set it.
    max_duration_rule: Option<String>,
    /// The expiry if access is granted at the earliest execution time.
    projected: chrono::DateTime<chrono::Utc>,
}

impl From<&core::Expiry> for Expiry {
    fn from(e: &core::Expiry) -> Self {
        Self {
            end_date: e.end_date,
            max_duration_seconds: e.max_duration_seconds,
            max_duration_rule: e.max_duration_rule.as_deref().map(str::to_owned),
            projected: e.projected,
        }
    }
}

#[pymethods]
impl Expiry {
    fn __repr__(&self) -> String {
        format!("Expiry(projected='{}')", self.projected.to_rfc3339())
    }
}

/// Why the decision is what it is: a stable code, its effect, a sentence,
/// the rule and machine-readable details.
#[pyclass(module = "groupgate", frozen, eq)]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reason {
    inner: core::Reason,
}

impl From<&core::Reason> for Reason {
    fn from(r: &core::Reason) -> Self {
        Self { inner: r.clone() }
    }
}

#[pymethods]
impl Reason {
    /// The stable code, e.g. `GROUP_ROLE_ASSIGNABLE` (see docs/reason-codes.md).
    #[getter]
    fn code(&self) -> String {
        self.inner.code.to_string()
    }

    /// What it does to the decision: `info`, `require`, `deny`, …
    #[getter]
    fn effect(&self) -> String {
        name_of(&self.inner.effect)
    }

    /// The reason in words.
    #[getter]
    fn message(&self) -> String {
        self.inner.message()
    }

    /// The policy rule that contributed it.
    #[getter]
    fn rule(&self) -> Option<String> {
        self.inner.rule.as_deref().map(str::to_owned)
    }

    /// Machine-readable details (string values).
    #[getter]
    fn details<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        let value = serde_json::to_value(&self.inner.details).unwrap_or_default();
        if let Some(map) = value.as_object() {
            for (k, v) in map {
                match v.as_str() {
                    Some(s) => d.set_item(k, s)?,
                    None => d.set_item(k, v.to_string())?,
                }
            }
        }
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!("Reason(code='{}')", self.inner.code)
    }
}

/// A catalog entry close to what was asked for.
#[pyclass(module = "groupgate", frozen, get_all, eq)]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CatalogSuggestion {
    /// The entry's name.
    entry: String,
    /// The group key it maps to.
    group: String,
    /// The name or alias that scored.
    matched: String,
    /// Similarity from 0 to 1.
    score: f64,
}

impl From<&core::CatalogSuggestion> for CatalogSuggestion {
    fn from(s: &core::CatalogSuggestion) -> Self {
        Self {
            entry: s.entry.to_string(),
            group: s.group.to_string(),
            matched: s.matched.to_string(),
            score: s.score,
        }
    }
}

#[pymethods]
impl CatalogSuggestion {
    fn __repr__(&self) -> String {
        format!(
            "CatalogSuggestion(entry='{}', score={:.2})",
            self.entry, self.score
        )
    }
}

/// One finding about a policy file.
#[pyclass(module = "groupgate", frozen, get_all, eq)]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Diagnostic {
    /// `error` or `warning`.
    severity: String,
    /// A stable kebab-case code, e.g. `unknown-group`.
    code: String,
    /// The field it is about, e.g. `catalog[2].group`.
    field: String,
    /// What is wrong.
    message: String,
    /// What to do about it.
    help: Option<String>,
    /// The line, from 1, when known.
    line: Option<usize>,
    /// The column, from 1, when known.
    column: Option<usize>,
}

impl From<&core::Diagnostic> for Diagnostic {
    fn from(d: &core::Diagnostic) -> Self {
        Self {
            severity: name_of(&d.severity),
            code: d.code.clone(),
            field: d.field.clone(),
            message: d.message.clone(),
            help: d.help.clone(),
            line: d.location.map(|l| l.line),
            column: d.location.map(|l| l.column),
        }
    }
}

#[pymethods]
impl Diagnostic {
    fn __repr__(&self) -> String {
        let at = match (self.line, self.column) {
            (Some(l), Some(c)) => format!("{l}:{c}: "),
            _ => String::new(),
        };
        format!(
            "Diagnostic('{at}{}[{}]: `{}`: {}')",
            self.severity, self.code, self.field, self.message
        )
    }
}
