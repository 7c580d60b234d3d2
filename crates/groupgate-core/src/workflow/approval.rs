//! Approval answers and what binds them to exactly what was approved.

use crate::evaluate::Decision;
use crate::model::Request;
use crate::policy::digest::hex_digest;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Approve or reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Approve.
    Approve,
    /// Reject: one rejection ends the workflow.
    Reject,
}

/// One person's answer to an approval ask.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalAnswer {
    /// The stage answered.
    pub stage: Arc<str>,
    /// Who answered (UPN or object id), as authenticated by the channel.
    pub approver: Arc<str>,
    /// Approve or reject.
    pub verdict: Verdict,
    /// The approver's comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The channel it came through, e.g. `servicenow`, `teams`, `slack`.
    pub channel: String,
    /// When it was given.
    pub at: DateTime<Utc>,
    /// The binding digest the approver saw (see [`approval_binding`]).
    pub binding: String,
}

/// The digest of exactly what is being approved: the target user, the group,
/// the expiry plan and the policy digest. An approval counts only while the
/// re-checked decision still has the same binding.
///
/// ```
/// # use groupgate_core::workflow::approval_binding;
/// # let policy = groupgate_core::CompiledPolicy::from_yaml_str("version: 1\ngroups:\n  - {id: G, object_id: g1, managed_via_itsm: true, approval: [{name: m, approvers: [manager]}]}\ncatalog:\n  - {name: Team, group: G}\n", "p").unwrap();
/// # let request: groupgate_core::Request = serde_json::from_str(r#"{"ticket":"T","requester":"a","target":"b","resource":"Team"}"#).unwrap();
/// let decision = policy.evaluate(&request, &Default::default(), "2026-11-25T10:00:00Z".parse().unwrap());
/// assert!(approval_binding(&request, &decision).starts_with("sha256:"));
/// ```
pub fn approval_binding(request: &Request, decision: &Decision) -> String {
    let group = decision
        .group
        .as_ref()
        .map(|g| g.object_id.as_str())
        .unwrap_or("");
    let (end, cap) = decision
        .expiry
        .as_ref()
        .map(|e| (e.end_date.map(|d| d.to_rfc3339()), e.max_duration_seconds))
        .unwrap_or((None, None));
    let canonical = serde_json::json!({
        "target": request.target.to_ascii_lowercase(),
        "group": group.to_ascii_lowercase(),
        "end_date": end,
        "max_duration_seconds": cap,
        "policy_digest": &*decision.policy_digest,
    });
    hex_digest(canonical.to_string().as_bytes())
}
