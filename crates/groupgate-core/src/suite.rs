//! A policy's own tests and the effect of a policy change on past requests:
//! what `groupgate policy test` and `groupgate policy diff` do, as pure
//! functions over inputs already read (the callers read the files).

use crate::{CompiledPolicy, Decision, DirectorySnapshot, Expectation, Facts, Request};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where the facts of a case come from when it carries none: given facts
/// (the same for every request) or a directory snapshot (facts derived per
/// request, as the engine gathers them).
#[derive(Debug, Clone, PartialEq)]
pub enum FactsSource {
    /// The same facts for every request.
    Facts(Box<Facts>),
    /// A directory to derive each request's facts from.
    Directory(DirectorySnapshot),
}

impl FactsSource {
    /// The facts for `request` under `policy`'s resolution.
    pub fn facts_for(&self, policy: &CompiledPolicy, request: &Request) -> Facts {
        match self {
            Self::Facts(f) => (**f).clone(),
            Self::Directory(d) => d.facts_for(request, &policy.fact_needs(request)),
        }
    }

    /// Whether a document (already parsed into a JSON value) is a directory
    /// snapshot (it has `users` or `groups`) rather than facts.
    pub fn looks_like_snapshot(document: &serde_json::Value) -> bool {
        document
            .as_object()
            .is_some_and(|m| m.contains_key("users") || m.contains_key("groups"))
    }
}

/// A policy tests file: cases with their expectations.
///
/// ```yaml
/// directory: directory.yaml        # for cases without `facts` (relative to the file)
/// now: 2026-11-25T10:00:00Z        # for cases without `now`
/// cases:
///   - name: a contractor joins Team Alpha until the end date
///     request: {ticket: T1, requester: pat@contoso.com, target: carl@contoso.com, resource: Team Alpha, end_date: 2027-01-15}
///     expect: {outcome: needs_approval, group: GRP-TEAM-ALPHA}
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyTests {
    /// A directory snapshot (path relative to the tests file) for cases
    /// without `facts`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory: Option<String>,
    /// The evaluation time for cases without `now`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub now: Option<DateTime<Utc>>,
    /// The cases, run in order.
    pub cases: Vec<PolicyTestCase>,
}

/// One case of a tests file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyTestCase {
    /// What it shows, in words.
    pub name: String,
    /// The evaluation time (else the file's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub now: Option<DateTime<Utc>>,
    /// The request.
    pub request: Request,
    /// The facts (else derived from the file's directory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facts: Option<Facts>,
    /// What the decision must look like.
    pub expect: Expectation,
}

/// How one case went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyTestResult {
    /// The case's name.
    pub name: String,
    /// Whether the decision met every expectation.
    pub passed: bool,
    /// What did not match, one sentence each.
    pub mismatches: Vec<String>,
}

/// How a tests file went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyTestReport {
    /// Every case, in order.
    pub results: Vec<PolicyTestResult>,
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed.
    pub failed: usize,
}

/// Why a tests file or a history cannot be run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SuiteError {
    /// A case has no evaluation time.
    #[error("case {index} (`{name}`) has no `now`, and the file sets none")]
    NoNow {
        /// The case's position, from 0.
        index: usize,
        /// Its name.
        name: String,
    },
    /// A case has no facts and there is no directory to derive them from.
    #[error("case {index} (`{name}`) has no `facts`, and the file names no `directory`")]
    NoFacts {
        /// The case's position, from 0.
        index: usize,
        /// Its name.
        name: String,
    },
    /// A history line does not parse.
    #[error(
        "line {line}, column {column}: {message} (one JSON object per line: {{\"request\": …, \"now\": …, \"facts\": … (optional)}})"
    )]
    History {
        /// The line, from 1.
        line: usize,
        /// The column, from 1.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A history line has no facts and no directory was given.
    #[error("line {line}: the line has no `facts`; give a directory to derive them")]
    HistoryWithoutFacts {
        /// The line, from 1.
        line: usize,
    },
}

/// Runs every case of `tests` against `policy`; `directory` supplies the
/// facts of cases without their own.
///
/// ```
/// use groupgate_core::{CompiledPolicy, suite::{PolicyTests, run_policy_tests}};
/// let policy = CompiledPolicy::from_yaml_str("version: 1\ngroups: []\n", "p.yaml").unwrap();
/// let tests: PolicyTests = serde_json::from_str(r#"{"now": "2026-11-25T10:00:00Z", "cases": [
///   {"name": "unknown resources are denied", "facts": {},
///    "request": {"ticket": "T1", "requester": "a", "target": "b", "resource": "x"},
///    "expect": {"outcome": "deny"}}]}"#).unwrap();
/// let report = run_policy_tests(&policy, &tests, None).unwrap();
/// assert_eq!((report.passed, report.failed), (1, 0));
/// ```
pub fn run_policy_tests(
    policy: &CompiledPolicy,
    tests: &PolicyTests,
    directory: Option<&FactsSource>,
) -> Result<PolicyTestReport, SuiteError> {
    let mut results = Vec::with_capacity(tests.cases.len());
    for (index, case) in tests.cases.iter().enumerate() {
        let now = case.now.or(tests.now).ok_or_else(|| SuiteError::NoNow {
            index,
            name: case.name.clone(),
        })?;
        let facts = match (&case.facts, directory) {
            (Some(f), _) => f.clone(),
            (None, Some(source)) => source.facts_for(policy, &case.request),
            (None, None) => {
                return Err(SuiteError::NoFacts {
                    index,
                    name: case.name.clone(),
                });
            }
        };
        let decision = policy.evaluate(&case.request, &facts, now);
        let mismatches = case.expect.mismatches(&decision);
        results.push(PolicyTestResult {
            name: case.name.clone(),
            passed: mismatches.is_empty(),
            mismatches,
        });
    }
    let failed = results.iter().filter(|r| !r.passed).count();
    Ok(PolicyTestReport {
        passed: results.len() - failed,
        failed,
        results,
    })
}

/// One past request: what was asked, when, and (optionally) the facts then.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PastRequest {
    /// The request.
    pub request: Request,
    /// When it was decided.
    pub now: DateTime<Utc>,
    /// The facts then (else derived from a directory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facts: Option<Facts>,
}

/// Reads a request history: one JSON object per line (blank lines skipped),
/// each with its line number (from 1).
pub fn parse_history(text: &str) -> Result<Vec<(usize, PastRequest)>, SuiteError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let past: PastRequest = serde_json::from_str(line).map_err(|e| SuiteError::History {
            line: i + 1,
            column: e.column(),
            message: e
                .to_string()
                .split(" at line ")
                .next()
                .unwrap_or_default()
                .to_owned(),
        })?;
        out.push((i + 1, past));
    }
    Ok(out)
}

/// The parts of a decision a reviewer of a policy change cares about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionSummary {
    /// The outcome (`deny`, `needs_approval`, …).
    pub outcome: String,
    /// The resolved group's key.
    pub group: Option<String>,
    /// Each stage as `name (required of approvers…)`.
    pub approvers: Vec<String>,
    /// The end date and the cap, in words.
    pub expiry: Option<String>,
}

impl DecisionSummary {
    /// The summary of `decision`.
    pub fn of(decision: &Decision) -> Self {
        Self {
            outcome: serde_json::to_value(decision.outcome)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            group: decision.group.as_ref().map(|g| g.key.to_string()),
            approvers: decision
                .stages
                .iter()
                .map(|s| {
                    let ids: Vec<&str> = s.approvers.iter().map(|a| &*a.id).collect();
                    format!("{} ({} of {})", s.name, s.required, ids.join(", "))
                })
                .collect(),
            expiry: decision.expiry.as_ref().map(|e| {
                let cap = e
                    .max_duration_seconds
                    .map(|s| format!("max {}d", s / 86_400));
                let end = e.end_date.map(|t| format!("end {}", t.to_rfc3339()));
                [end, cap]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(", ")
            }),
        }
    }
}

/// A past request the new policy decides differently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionChange {
    /// Its line in the history.
    pub line: usize,
    /// Its ticket.
    pub ticket: String,
    /// What changed: `outcome`, `group`, `approvers`, `expiry`.
    pub changed: Vec<String>,
    /// The decision under the old policy.
    pub old: DecisionSummary,
    /// The decision under the new policy.
    pub new: DecisionSummary,
}

/// What a policy change would change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffReport {
    /// Requests compared.
    pub total: usize,
    /// Those decided differently.
    pub changes: Vec<DecisionChange>,
}

/// Decides every past request under `old` and `new` and lists those that
/// come out differently; `directory` supplies the facts of lines without.
pub fn diff_policies(
    old: &CompiledPolicy,
    new: &CompiledPolicy,
    history: &[(usize, PastRequest)],
    directory: Option<&FactsSource>,
) -> Result<DiffReport, SuiteError> {
    let mut changes = Vec::new();
    for (line, past) in history {
        let evaluate = |policy: &CompiledPolicy| -> Result<DecisionSummary, SuiteError> {
            let facts = match (&past.facts, directory) {
                (Some(f), _) => f.clone(),
                (None, Some(d)) => d.facts_for(policy, &past.request),
                (None, None) => return Err(SuiteError::HistoryWithoutFacts { line: *line }),
            };
            Ok(DecisionSummary::of(&policy.evaluate(
                &past.request,
                &facts,
                past.now,
            )))
        };
        let (a, b) = (evaluate(old)?, evaluate(new)?);
        let mut changed = Vec::new();
        if a.outcome != b.outcome {
            changed.push("outcome".to_owned());
        }
        if a.group != b.group {
            changed.push("group".to_owned());
        }
        if a.approvers != b.approvers {
            changed.push("approvers".to_owned());
        }
        if a.expiry != b.expiry {
            changed.push("expiry".to_owned());
        }
        if !changed.is_empty() {
            changes.push(DecisionChange {
                line: *line,
                ticket: past.request.ticket.to_string(),
                changed,
                old: a,
                new: b,
            });
        }
    }
    Ok(DiffReport {
        total: history.len(),
        changes,
    })
}
