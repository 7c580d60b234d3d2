//! The drift report: for every group the policy governs, the direct
//! members no workflow accounts for (added by hand or by another tool),
//! and the workflows that hold a membership the directory no longer shows.
//! It records what it found in the audit trail. It changes nothing, except
//! in a group the policy marks `enforce: true` (and the ticket path may
//! change): there, unaccounted members are removed, each removal recorded.

use crate::{Engine, EngineError};
use groupgate_core::audit::{Actor, Entry};
use groupgate_core::ports::WorkflowFilter;
use groupgate_core::workflow::{accounts_for_membership, holds_membership};
use groupgate_core::{GroupId, UserId, WorkflowId};
use serde::Serialize;
use std::collections::BTreeSet;

/// A direct member no workflow accounts for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnaccountedMember {
    /// The user's object id.
    pub id: UserId,
    /// Their UPN, as the directory gives it.
    pub upn: String,
    /// What was done: `reported`, or in an enforced group `removed` or
    /// `failed`.
    pub action: String,
    /// The directory's request ids of a removal, or why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// What the report found for one governed group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupDrift {
    /// The group's key in the policy.
    pub key: String,
    /// Its object id.
    pub group: GroupId,
    /// Its display name, when the policy gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Direct members no workflow accounts for.
    pub unaccounted: Vec<UnaccountedMember>,
    /// Workflows whose membership the directory no longer shows.
    pub gone: Vec<WorkflowId>,
    /// Direct members read.
    pub members: usize,
    /// Whether every member was read (`false`: more than the limit, or the
    /// read failed — see `error`).
    pub complete: bool,
    /// Why the group could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The drift of every governed group.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct DriftReport {
    /// One entry per governed group, in policy order.
    pub groups: Vec<GroupDrift>,
}

impl DriftReport {
    /// Whether anything drifted (or could not be checked).
    pub fn has_findings(&self) -> bool {
        self.groups
            .iter()
            .any(|g| !g.unaccounted.is_empty() || !g.gone.is_empty() || !g.complete)
    }
}

impl Engine {
    /// Compares every governed group's direct members (at most
    /// `max_members` each) with the workflows, and records each finding
    /// under the pseudo-workflow `drift/<group object id>`.
    pub async fn drift_report(&self, max_members: u32) -> Result<DriftReport, EngineError> {
        let mut report = DriftReport::default();
        for info in self.policy().governed_groups() {
            let mut entry = GroupDrift {
                key: info.key.to_string(),
                group: info.object_id.clone(),
                name: info.display_name.as_ref().map(|n| n.to_string()),
                unaccounted: Vec::new(),
                gone: Vec::new(),
                members: 0,
                complete: false,
                error: None,
            };
            let read = self
                .ports
                .identity
                .group_members(&info.object_id, false, max_members)
                .await;
            let members = match read {
                Ok(Some(m)) => m,
                Ok(None) => {
                    entry.error = Some("the directory has no such group".to_owned());
                    report.groups.push(entry);
                    continue;
                }
                Err(e) => {
                    entry.error = Some(e.to_string());
                    report.groups.push(entry);
                    continue;
                }
            };
            entry.members = members.members.len();
            entry.complete = members.complete;
            let rows = self
                .summaries(&WorkflowFilter {
                    group: Some(info.object_id.clone()),
                    ..WorkflowFilter::default()
                })
                .await?;
            let accounted: BTreeSet<String> = rows
                .iter()
                .filter(|r| accounts_for_membership(&r.phase))
                .filter_map(|r| r.target.as_ref().map(|t| t.to_ascii_lowercase()))
                .collect();
            let present: BTreeSet<String> = members
                .members
                .iter()
                .map(|u| u.id.to_ascii_lowercase())
                .collect();
            let enforce =
                self.policy().enforces(&info.object_id) && self.changeable(&info.object_id).await;
            for user in &members.members {
                if accounted.contains(&user.id.to_ascii_lowercase()) {
                    continue;
                }
                let mut member = UnaccountedMember {
                    id: user.id.clone(),
                    upn: user.upn.to_string(),
                    action: "reported".to_owned(),
                    detail: None,
                };
                if enforce {
                    match self
                        .ports
                        .identity
                        .remove_member(&info.object_id, &user.id)
                        .await
                    {
                        Ok(receipt) => {
                            member.action = "removed".to_owned();
                            member.detail = Some(receipt.request_ids.join(", "));
                        }
                        Err(e) => {
                            member.action = "failed".to_owned();
                            member.detail = Some(e.to_string());
                        }
                    }
                }
                entry.unaccounted.push(member);
            }
            if members.complete {
                for row in rows.iter().filter(|r| holds_membership(&r.phase)) {
                    if let Some(t) = &row.target
                        && !present.contains(&t.to_ascii_lowercase())
                    {
                        entry.gone.push(row.id.clone());
                    }
                }
            }
            self.record_drift(&entry).await?;
            report.groups.push(entry);
        }
        Ok(report)
    }

    /// Whether the directory lets the ticket path change `group` (not
    /// role-assignable, dynamic, synced from on-premises, mail-enabled
    /// security or distribution),
    /// read now: an enforced group that turned into one is only reported.
    async fn changeable(&self, group: &GroupId) -> bool {
        match self.ports.identity.group(group).await {
            Ok(Some(g)) => {
                !g.role_assignable
                    && !g.dynamic_membership
                    && !g.on_premises_synced
                    && matches!(
                        g.kind(),
                        groupgate_core::GroupKind::Security
                            | groupgate_core::GroupKind::Microsoft365
                    )
            }
            _ => false,
        }
    }

    async fn record_drift(&self, entry: &GroupDrift) -> Result<(), EngineError> {
        let scope = WorkflowId::new(format!("drift/{}", entry.group));
        let _held = self.locks.hold(&scope).await;
        for member in &entry.unaccounted {
            self.note(
                &scope,
                Actor::System,
                Entry::Drift {
                    user: member.id.clone(),
                    group: entry.group.clone(),
                    action: member.action.clone(),
                    detail: Some(match &member.detail {
                        Some(d) => format!(
                            "{} is a direct member no workflow accounts for ({d})",
                            member.upn
                        ),
                        None => {
                            format!("{} is a direct member no workflow accounts for", member.upn)
                        }
                    }),
                    error: None,
                },
            )
            .await?;
        }
        for wf in &entry.gone {
            self.note(
                &scope,
                Actor::System,
                Entry::Incident {
                    operation: "drift report".to_owned(),
                    error: format!(
                        "{wf} holds a membership of {} that the directory no longer shows (removed outside groupgate)",
                        entry.key
                    ),
                },
            )
            .await?;
        }
        self.cache.forget(&scope);
        Ok(())
    }
}
