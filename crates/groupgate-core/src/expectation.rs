//! Expectations about a decision, as written in policy test files and
//! conformance vectors, and the pure check of a decision against them.

use crate::{Decision, Outcome, ReasonCode};
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a decision should look like. Every field is optional; only what is
/// given is checked.
///
/// ```
/// use groupgate_core::{Expectation, Outcome};
/// let expect: Expectation = serde_json::from_str(r#"{"outcome": "deny", "codes": ["GROUP_ROLE_ASSIGNABLE"]}"#).unwrap();
/// assert_eq!(expect.outcome, Some(Outcome::Deny));
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// The outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub outcome: Option<Outcome>,
    /// The resolved group's key; `""` expects no group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The stage names, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stages: Option<Vec<String>>,
    /// Per stage name, the eligible approvers' ids (order ignored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approvers: Option<BTreeMap<String, Vec<String>>>,
    /// Codes that must all be present.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(with = "Vec<String>")]
    pub codes: Vec<ReasonCode>,
    /// Codes that must be absent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(with = "Vec<String>")]
    pub not_codes: Vec<ReasonCode>,
    /// The projected expiry (access granted at the earliest execution time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// The earliest execution time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub earliest_execution: Option<DateTime<Utc>>,
    /// Catalog entries that must be among the suggestions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suggestions: Vec<String>,
}

impl Expectation {
    /// Every way `decision` differs from this expectation; empty when it matches.
    pub fn mismatches(&self, decision: &Decision) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(outcome) = self.outcome
            && decision.outcome != outcome
        {
            out.push(format!(
                "outcome: expected `{}`, got `{}`",
                name(outcome),
                name(decision.outcome)
            ));
        }
        if let Some(group) = &self.group {
            let got = decision.group.as_ref().map(|g| &*g.key).unwrap_or("");
            if got != group {
                out.push(format!("group: expected `{group}`, got `{got}`"));
            }
        }
        if let Some(stages) = &self.stages {
            let got: Vec<&str> = decision.stages.iter().map(|s| &*s.name).collect();
            if got != stages.iter().map(String::as_str).collect::<Vec<_>>() {
                out.push(format!(
                    "stages: expected [{}], got [{}]",
                    stages.join(", "),
                    got.join(", ")
                ));
            }
        }
        if let Some(approvers) = &self.approvers {
            for (stage, want) in approvers {
                let got: Vec<&str> = decision
                    .stages
                    .iter()
                    .find(|s| &*s.name == stage.as_str())
                    .map(|s| s.approvers.iter().map(|a| &*a.name).collect())
                    .unwrap_or_default();
                let mut got_sorted = got.clone();
                got_sorted.sort_unstable();
                let mut want_sorted: Vec<&str> = want.iter().map(String::as_str).collect();
                want_sorted.sort_unstable();
                if got_sorted != want_sorted {
                    out.push(format!(
                        "approvers of `{stage}`: expected [{}], got [{}]",
                        want.join(", "),
                        got.join(", ")
                    ));
                }
            }
        }
        for code in &self.codes {
            if !decision.has_reason(*code) {
                out.push(format!("missing reason `{code}`"));
            }
        }
        for code in &self.not_codes {
            if decision.has_reason(*code) {
                out.push(format!("unexpected reason `{code}`"));
            }
        }
        if let Some(at) = self.expires_at {
            let got = decision.expiry.as_ref().map(|e| e.projected);
            if got != Some(at) {
                out.push(format!(
                    "expires_at: expected {}, got {}",
                    at.to_rfc3339(),
                    show(got)
                ));
            }
        }
        if let Some(at) = self.earliest_execution
            && decision.earliest_execution != Some(at)
        {
            out.push(format!(
                "earliest_execution: expected {}, got {}",
                at.to_rfc3339(),
                show(decision.earliest_execution)
            ));
        }
        for entry in &self.suggestions {
            if !decision
                .suggestions
                .iter()
                .any(|s| &*s.entry == entry.as_str())
            {
                out.push(format!("suggestions: expected `{entry}` among them"));
            }
        }
        out
    }
}

fn name(outcome: Outcome) -> String {
    serde_json::to_value(outcome)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn show(at: Option<DateTime<Utc>>) -> String {
    at.map(|a| a.to_rfc3339())
        .unwrap_or_else(|| "none".to_owned())
}
