//! A decision and its parts as JavaScript values: `Decision` is a class
//! whose getters build typed objects on access (nothing is converted that
//! is not read); `toJSON()` gives the decision's JSON form, the same as
//! `groupgate check --json` prints and the conformance vectors hold.

use groupgate_core as core;
use napi_derive::napi;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// `value` as a JSON value (for `toJSON()` and plain-object answers).
pub(crate) fn json_of<T: serde::Serialize + ?Sized>(value: &T) -> napi::Result<Value> {
    serde_json::to_value(value).map_err(|e| {
        crate::errors::error(
            "GroupgateError",
            &format!("cannot convert to JavaScript: {e}"),
            serde_json::json!({}),
        )
    })
}

/// The serde name of a unit enum value (`deny`, `high`, …).
fn name_of<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The verdict.
#[napi(string_enum = "snake_case")]
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Refused; the reasons say why.
    Deny,
    /// The target already has the access; nothing to do.
    AlreadyMember,
    /// Allowed once the approval stages are answered.
    NeedsApproval,
    /// Allowed without approvals (a standard change).
    PreApproved,
}

impl From<core::Outcome> for Outcome {
    fn from(o: core::Outcome) -> Self {
        match o {
            core::Outcome::Deny => Outcome::Deny,
            core::Outcome::AlreadyMember => Outcome::AlreadyMember,
            core::Outcome::NeedsApproval => Outcome::NeedsApproval,
            core::Outcome::PreApproved => Outcome::PreApproved,
        }
    }
}

/// The evaluator's verdict with everything that led to it.
#[napi]
#[derive(Debug, Clone)]
pub struct Decision {
    pub(crate) inner: Arc<core::Decision>,
}

impl Decision {
    pub(crate) fn new(d: core::Decision) -> Self {
        Self { inner: Arc::new(d) }
    }
}

#[napi]
impl Decision {
    /// The verdict.
    #[napi(getter)]
    pub fn outcome(&self) -> Outcome {
        self.inner.outcome.into()
    }

    /// Whether the change may go ahead (after approvals, if any).
    #[napi(getter)]
    pub fn is_allowed(&self) -> bool {
        self.inner.is_allowed()
    }

    /// The group the request resolved to, if any.
    #[napi(getter)]
    pub fn group(&self) -> Option<ResolvedGroup> {
        self.inner.group.as_ref().map(ResolvedGroup::from)
    }

    /// The approval stages, in order.
    #[napi(getter)]
    pub fn stages(&self) -> Vec<ApprovalStage> {
        self.inner.stages.iter().map(ApprovalStage::from).collect()
    }

    /// When access ends, if it is time-bound.
    #[napi(getter)]
    pub fn expiry(&self) -> Option<Expiry> {
        self.inner.expiry.as_ref().map(Expiry::from)
    }

    /// The earliest time the change may execute.
    #[napi(getter)]
    pub fn earliest_execution(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.inner.earliest_execution
    }

    /// When unanswered approvals expire.
    #[napi(getter)]
    pub fn approval_deadline(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.inner.approval_deadline
    }

    /// Every reason, in evaluation order.
    #[napi(getter)]
    pub fn reasons(&self) -> Vec<Reason> {
        self.inner.reasons.iter().map(Reason::from).collect()
    }

    /// The reason codes, in order.
    #[napi(getter)]
    pub fn codes(&self) -> Vec<String> {
        self.inner
            .reasons
            .iter()
            .map(|r| r.code.to_string())
            .collect()
    }

    /// Whether a reason with `code` (e.g. `GROUP_ROLE_ASSIGNABLE`) is present.
    #[napi(catch_unwind)]
    pub fn has_reason(&self, code: String) -> bool {
        self.inner.reasons.iter().any(|r| r.code.as_str() == code)
    }

    /// Close catalog entries for an unresolved request.
    #[napi(getter)]
    pub fn suggestions(&self) -> Vec<CatalogSuggestion> {
        self.inner
            .suggestions
            .iter()
            .map(|s| CatalogSuggestion {
                entry: s.entry.to_string(),
                group: s.group.to_string(),
                matched: s.matched.to_string(),
                score: s.score,
            })
            .collect()
    }

    /// The digest of the policy that decided.
    #[napi(getter)]
    pub fn policy_digest(&self) -> String {
        self.inner.policy_digest.to_string()
    }

    /// The time the decision was made at.
    #[napi(getter)]
    pub fn evaluated_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.inner.evaluated_at
    }

    /// The decision's JSON form (snake_case keys; what `groupgate check
    /// --json` prints). `JSON.stringify(decision)` uses it.
    #[napi(js_name = "toJSON", ts_return_type = "Record<string, unknown>")]
    pub fn to_json(&self) -> napi::Result<Value> {
        json_of(&*self.inner)
    }

    /// The decision as JSON text, in the field order of `groupgate check
    /// --json` (byte for byte with `indent` 2); compact without `indent`.
    #[napi(catch_unwind)]
    pub fn stringify(&self, indent: Option<u32>) -> napi::Result<String> {
        let failed = |e: serde_json::Error| {
            crate::errors::error(
                "GroupgateError",
                &format!("cannot write the decision as JSON: {e}"),
                serde_json::json!({}),
            )
        };
        match indent {
            None => serde_json::to_string(&*self.inner).map_err(failed),
            Some(n) => {
                let pad = " ".repeat(n.min(10) as usize);
                let mut out = Vec::new();
                let formatter = serde_json::ser::PrettyFormatter::with_indent(pad.as_bytes());
                let mut writer = serde_json::Serializer::with_formatter(&mut out, formatter);
                serde::Serialize::serialize(&*self.inner, &mut writer).map_err(failed)?;
                String::from_utf8(out).map_err(|e| {
                    crate::errors::error("GroupgateError", &e.to_string(), serde_json::json!({}))
                })
            }
        }
    }

    /// Whether `other` is the same decision.
    #[napi(catch_unwind)]
    pub fn equals(&self, other: &Decision) -> bool {
        self.inner == other.inner
    }
}

/// The group a request resolved to.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct ResolvedGroup {
    /// The group's key in the policy.
    pub key: String,
    /// The group's directory object id.
    pub object_id: String,
    /// Its display name from the policy.
    pub display_name: Option<String>,
    /// Risk tier: `low`, `medium` or `high`.
    pub risk: String,
    /// Its tags.
    pub tags: Vec<String>,
    /// How the text matched: `exact`, `alias`, `phrase`, `pattern`, `suggestion`.
    pub matched_by: String,
    /// What matched.
    pub matched: String,
    /// The catalog entry that matched, if any.
    pub catalog_entry: Option<String>,
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

/// Someone who may approve a stage, known by directory object id.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct Approver {
    /// Their directory object id.
    pub id: String,
    /// Their user principal name.
    pub name: String,
    /// Why they may approve: `manager`, `app_owner`, `data_owner`, `group:<name>`, `user`.
    pub role: String,
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

/// One approval stage with its eligible approvers.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct ApprovalStage {
    /// The stage's name.
    pub name: String,
    /// The rule that added it.
    pub source: String,
    /// How many distinct eligible approvers must approve.
    pub required: u32,
    /// The eligible approvers.
    pub approvers: Vec<Approver>,
    /// Who may answer after escalation.
    pub alternates: Vec<Approver>,
    /// When to escalate, in seconds after the stage is asked.
    pub escalate_after_seconds: Option<i64>,
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

/// When granted access ends.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct Expiry {
    /// The requested end date.
    pub end_date: Option<chrono::DateTime<chrono::Utc>>,
    /// The shortest maximum duration of the rules that apply, in seconds.
    pub max_duration_seconds: Option<i64>,
    /// The rule that set it.
    pub max_duration_rule: Option<String>,
    /// The expiry if access is granted at the earliest execution time.
    pub projected: chrono::DateTime<chrono::Utc>,
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

/// Why the decision is what it is.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct Reason {
    /// The stable code, e.g. `GROUP_ROLE_ASSIGNABLE` (docs/reason-codes.md).
    pub code: String,
    /// What it does to the decision: `info`, `require`, `deny`, …
    pub effect: String,
    /// The reason in words.
    pub message: String,
    /// The policy rule that contributed it.
    pub rule: Option<String>,
    /// Machine-readable details (text values).
    pub details: HashMap<String, String>,
}

impl From<&core::Reason> for Reason {
    fn from(r: &core::Reason) -> Self {
        let details = serde_json::to_value(&r.details)
            .ok()
            .and_then(|v| match v {
                Value::Object(map) => Some(map),
                _ => None,
            })
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| {
                let text = match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, text)
            })
            .collect();
        Self {
            code: r.code.to_string(),
            effect: name_of(&r.effect),
            message: r.message(),
            rule: r.rule.as_deref().map(str::to_owned),
            details,
        }
    }
}

/// A catalog entry close to what was asked for.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct CatalogSuggestion {
    /// The entry's name.
    pub entry: String,
    /// The group key it maps to.
    pub group: String,
    /// The name or alias that scored.
    pub matched: String,
    /// Similarity from 0 to 1.
    pub score: f64,
}

/// A finding about a policy: an error or a warning, located.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// `error` or `warning`.
    pub severity: String,
    /// A stable kebab-case code, e.g. `unknown-group`.
    pub code: String,
    /// The field it is about, e.g. `catalog[2].group`.
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
    /// The line, from 1, when known.
    pub line: Option<u32>,
    /// The column, from 1, when known.
    pub column: Option<u32>,
}

impl From<&core::Diagnostic> for Diagnostic {
    fn from(d: &core::Diagnostic) -> Self {
        Self {
            severity: name_of(&d.severity),
            code: d.code.clone(),
            field: d.field.clone(),
            message: d.message.clone(),
            help: d.help.clone(),
            line: d.location.and_then(|l| u32::try_from(l.line).ok()),
            column: d.location.and_then(|l| u32::try_from(l.column).ok()),
        }
    }
}

pub(crate) fn diagnostics(all: &[core::Diagnostic]) -> Vec<Diagnostic> {
    all.iter().map(Diagnostic::from).collect()
}

/// Diagnostics as they are attached to a `PolicyError` (camelCase, like
/// `Diagnostic`).
pub(crate) fn diagnostics_value(all: &[core::Diagnostic]) -> Value {
    Value::Array(
        all.iter()
            .map(|d| {
                let d = Diagnostic::from(d);
                serde_json::json!({
                    "severity": d.severity, "code": d.code, "field": d.field,
                    "message": d.message, "help": d.help, "line": d.line, "column": d.column,
                })
            })
            .collect(),
    )
}
