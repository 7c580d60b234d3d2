//! The decision the evaluator returns: a verdict with everything that led to it.

use super::{Effect, Reason, ReasonCode};
use crate::model::{GroupId, UserId};
use crate::policy::{MatchKind, RiskTier};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Refused; the reasons with effect `deny` say why.
    Deny,
    /// Nothing to do: the target already has the membership (idempotent no-op).
    AlreadyMember,
    /// Allowed once every approval stage is complete.
    NeedsApproval,
    /// Allowed without approvals by a standard change (policy checks still applied).
    PreApproved,
}

/// A group as the policy describes it. Shared between the compiled policy and
/// every decision about the group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupInfo {
    /// The group's key in the policy, e.g. `GRP-FINANCE-BI-READ`.
    pub key: Arc<str>,
    /// The group's object id.
    pub object_id: GroupId,
    /// Display name from the policy, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<Arc<str>>,
    /// Risk tier.
    pub risk: RiskTier,
    /// Tags.
    #[serde(default, skip_serializing_if = "<[_]>::is_empty")]
    pub tags: Arc<[Arc<str>]>,
}

/// The group a request resolved to, and how. Dereferences to its [`GroupInfo`]
/// (`resolved.key`, `resolved.object_id`, …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolvedGroup {
    /// What the policy says about the group.
    #[serde(flatten)]
    pub info: Arc<GroupInfo>,
    /// How the request text was matched.
    pub matched_by: MatchKind,
    /// What matched: the name, alias, phrase or pattern.
    pub matched: Arc<str>,
    /// The catalog entry that matched, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_entry: Option<Arc<str>>,
}

impl std::ops::Deref for ResolvedGroup {
    type Target = GroupInfo;

    fn deref(&self) -> &GroupInfo {
        &self.info
    }
}

/// Someone who may approve a stage, known by directory object id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approver {
    /// The approver's directory object id: what answers are matched on.
    pub id: UserId,
    /// Their user principal name, for people and channels to address them.
    pub name: Arc<str>,
    /// Why they may approve: `manager`, `app_owner`, `data_owner`,
    /// `group:<name>` or `user`.
    pub role: Arc<str>,
}

/// One approval stage with its eligible approvers: people the directory
/// knows, enabled, neither the requester nor the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalStage {
    /// The stage's name.
    pub name: Arc<str>,
    /// The rule that added it, e.g. `groups[GRP-X]` or `tag_rules[financial-data]`.
    pub source: Arc<str>,
    /// How many distinct eligible approvers must approve.
    pub required: u32,
    /// The eligible approvers.
    pub approvers: Vec<Approver>,
    /// Who to escalate to after `escalate_after_seconds` without an answer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alternates: Vec<Approver>,
    /// When to escalate, in seconds after the stage is requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalate_after_seconds: Option<i64>,
    /// Where it is asked (`servicenow`, `teams`, `slack`); empty: every
    /// channel the service is configured with.
    #[serde(default, skip_serializing_if = "<[_]>::is_empty")]
    pub channels: Arc<[Arc<str>]>,
}

/// When granted access ends.
///
/// The maximum duration counts from the moment access is granted, not from
/// the request: use [`Expiry::expires_at`] with the grant time.
///
/// ```
/// use groupgate_core::Expiry;
/// let expiry = Expiry {
///     end_date: Some("2027-06-30T00:00:00Z".parse().unwrap()),
///     max_duration_seconds: Some(90 * 86_400),
///     max_duration_rule: Some("people.contractors".into()),
///     projected: "2027-02-23T09:00:00Z".parse().unwrap(),
/// };
/// let granted = "2026-12-01T09:00:00Z".parse().unwrap();
/// assert_eq!(expiry.expires_at(granted).to_rfc3339(), "2027-03-01T09:00:00+00:00");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expiry {
    /// The requested end date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<DateTime<Utc>>,
    /// The shortest maximum duration of all rules that apply, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_duration_seconds: Option<i64>,
    /// The rule that set that maximum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_duration_rule: Option<Arc<str>>,
    /// The expiry if access is granted at the earliest execution time.
    pub projected: DateTime<Utc>,
}

impl Expiry {
    /// The expiry for access granted at `granted_at`: the end date, capped by
    /// the maximum duration counted from `granted_at`.
    pub fn expires_at(&self, granted_at: DateTime<Utc>) -> DateTime<Utc> {
        let capped = self.max_duration_seconds.map(|s| {
            granted_at
                .checked_add_signed(TimeDelta::try_seconds(s).unwrap_or(TimeDelta::MAX))
                .unwrap_or(DateTime::<Utc>::MAX_UTC)
        });
        match (self.end_date, capped) {
            (Some(end), Some(cap)) => end.min(cap),
            (Some(end), None) => end,
            (None, Some(cap)) => cap,
            (None, None) => DateTime::<Utc>::MAX_UTC,
        }
    }
}

/// A close catalog entry listed for the person triaging an unresolved request.
/// Never acted on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogSuggestion {
    /// The catalog entry's name.
    pub entry: Arc<str>,
    /// The group key it maps to.
    pub group: Arc<str>,
    /// The normalised name or alias that scored.
    pub matched: Arc<str>,
    /// Similarity in `[0, 1]` (Sørensen–Dice over character trigrams).
    pub score: f64,
}

/// The evaluator's verdict with everything that led to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// The verdict.
    pub outcome: Outcome,
    /// The resolved group, if the request resolved to one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<ResolvedGroup>,
    /// Approval stages in order (empty unless the outcome is `needs_approval`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<ApprovalStage>,
    /// When access ends, if it is time-bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry: Option<Expiry>,
    /// The earliest time the change may execute (the next change-window opening).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub earliest_execution: Option<DateTime<Utc>>,
    /// When unanswered approvals expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_deadline: Option<DateTime<Utc>>,
    /// Every reason, in evaluation order.
    pub reasons: Vec<Reason>,
    /// Close catalog entries for an unresolved or ambiguous request (always
    /// written, `[]` when there are none).
    #[serde(default)]
    pub suggestions: Vec<CatalogSuggestion>,
    /// The digest of the policy that decided.
    pub policy_digest: Arc<str>,
    /// The `now` the decision was made at.
    pub evaluated_at: DateTime<Utc>,
}

impl Decision {
    /// Whether the change may go ahead (after approvals, if any).
    pub fn is_allowed(&self) -> bool {
        matches!(self.outcome, Outcome::NeedsApproval | Outcome::PreApproved)
    }

    /// Whether any reason carries `code`.
    pub fn has_reason(&self, code: ReasonCode) -> bool {
        self.reasons.iter().any(|r| r.code == code)
    }

    /// The reasons that deny the request.
    pub fn deny_reasons(&self) -> impl Iterator<Item = &Reason> {
        self.reasons.iter().filter(|r| r.effect == Effect::Deny)
    }

    /// The reason codes in order.
    pub fn codes(&self) -> Vec<ReasonCode> {
        self.reasons.iter().map(|r| r.code).collect()
    }

    /// Canonical JSON: the same decision always gives the same bytes.
    pub fn to_canonical_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}
