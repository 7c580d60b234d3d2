//! Approval answers and what binds them to exactly what was approved.

use crate::evaluate::Decision;
use crate::model::{TicketRef, UserId};
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
    /// Who answered, as the channel authenticated them (a UPN, an e-mail or an
    /// object id): for people to read.
    pub approver: Arc<str>,
    /// Who answered as a directory object id. Channels that authenticate by
    /// object id (Teams' `aadObjectId`) set it; otherwise the engine maps
    /// `approver` through the directory before the answer is fed. An answer
    /// without one never counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver_id: Option<UserId>,
    /// Approve or reject.
    pub verdict: Verdict,
    /// The approver's comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The channel it came through, e.g. `servicenow`, `teams`, `slack`.
    pub channel: String,
    /// When it was given.
    pub at: DateTime<Utc>,
    /// The binding digest the approver saw (see [`stage_binding`]).
    pub binding: String,
}

impl ApprovalAnswer {
    /// Whether `other`, read from ServiceNow, is the record of this answer
    /// given in chat: groupgate writes a chat answer to the ServiceNow
    /// approval record (ServiceNow stays the record), and reading
    /// ServiceNow brings it back — the same person's same answer to the
    /// same stage. Persons are compared by directory object id when both
    /// answers have one. (A person answering twice in two chat channels is
    /// not an echo: the second is refused as a repeat.)
    pub fn echoes(&self, other: &ApprovalAnswer) -> bool {
        let same_person = match (&self.approver_id, &other.approver_id) {
            (Some(a), Some(b)) => a.same(b),
            _ => self.approver.eq_ignore_ascii_case(&other.approver),
        };
        self.stage == other.stage
            && self.verdict == other.verdict
            && other.channel == "servicenow"
            && self.channel != "servicenow"
            && same_person
    }

    /// Whether `other` is the same answer as delivered by its channel (the
    /// engine's directory mapping aside), so an answer is fed once.
    pub fn same_delivery(&self, other: &ApprovalAnswer) -> bool {
        self.stage == other.stage
            && self.approver == other.approver
            && self.verdict == other.verdict
            && self.comment == other.comment
            && self.channel == other.channel
            && self.at == other.at
            && self.binding == other.binding
    }
}

/// The digest of exactly what an approval of stage `index` of `decision`
/// approves: the ticket, the target's directory object id, the group's
/// object id, the expiry plan, the policy digest, the names of every stage
/// in order, and this stage's rule, count and eligible approvers' (and
/// alternates') object ids. An answer counts only while the re-checked
/// decision gives the same binding: another ticket, a re-pointed UPN, a
/// changed manager, expiry or policy each give another digest.
///
/// ```
/// # use groupgate_core::workflow::stage_binding;
/// # let policy = groupgate_core::CompiledPolicy::from_yaml_str("version: 1\ngroups:\n  - {id: G, object_id: g1, managed_via_itsm: true, approval: [{name: m, approvers: [manager]}]}\ncatalog:\n  - {name: Team, group: G}\n", "p").unwrap();
/// # let request: groupgate_core::Request = serde_json::from_str(r#"{"ticket":"T","requester":"a","target":"b","resource":"Team"}"#).unwrap();
/// let decision = policy.evaluate(&request, &Default::default(), "2026-11-25T10:00:00Z".parse().unwrap());
/// let one = stage_binding(&"T1".into(), &"u-b".into(), &decision, 0);
/// let other = stage_binding(&"T2".into(), &"u-b".into(), &decision, 0);
/// assert!(one.starts_with("sha256:"));
/// assert_ne!(one, other); // an answer on one ticket never counts on another
/// ```
pub fn stage_binding(
    ticket: &TicketRef,
    target: &UserId,
    decision: &Decision,
    index: usize,
) -> String {
    let group = decision
        .group
        .as_ref()
        .map(|g| g.object_id.to_ascii_lowercase())
        .unwrap_or_default();
    let (end, cap) = decision
        .expiry
        .as_ref()
        .map(|e| (e.end_date.map(|d| d.to_rfc3339()), e.max_duration_seconds))
        .unwrap_or((None, None));
    let ids = |people: &[crate::evaluate::Approver]| {
        let mut ids: Vec<String> = people.iter().map(|a| a.id.to_ascii_lowercase()).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let stage = decision.stages.get(index).map(|s| {
        serde_json::json!({
            "name": &*s.name,
            "source": &*s.source,
            "required": s.required,
            "approvers": ids(&s.approvers),
            "alternates": ids(&s.alternates),
        })
    });
    let names: Vec<&str> = decision.stages.iter().map(|s| &*s.name).collect();
    let canonical = serde_json::json!({
        "ticket": ticket.as_str(),
        "target": target.to_ascii_lowercase(),
        "group": group,
        "end_date": end,
        "max_duration_seconds": cap,
        "policy_digest": &*decision.policy_digest,
        "stages": names,
        "stage": stage,
    });
    hex_digest(canonical.to_string().as_bytes())
}
