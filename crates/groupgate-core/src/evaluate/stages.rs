//! Turning compiled stages into approval stages with eligible approvers.

use super::{ApprovalStage, Approver, Reason, ReasonCode};
use crate::model::{Facts, Request, User};
use crate::policy::Require;
use crate::policy::compile::{ApproverSource, CompiledGroup, CompiledStage, StageRef};
use std::sync::Arc;

/// Whether `id` names the requester or the target (by the request or the facts).
fn is_party(id: &str, request: &Request, facts: &Facts) -> bool {
    let named = |key: &str, user: &Option<User>| {
        key.eq_ignore_ascii_case(id) || user.as_ref().is_some_and(|u| u.is_named_by(id))
    };
    named(&request.requester, &facts.requester) || named(&request.target, &facts.target)
}

/// The context a stage's approvers are resolved in.
pub(crate) struct StageInputs<'a> {
    pub(crate) group: &'a CompiledGroup,
    pub(crate) request: &'a Request,
    pub(crate) facts: &'a Facts,
    /// The manager as an approver, built once per decision.
    pub(crate) manager: Option<Approver>,
}

/// Builds the decision's stages, merging stages of the same name (the first
/// keeps its place), and pushes a reason for each.
pub(crate) fn plan_stages<'a>(
    compiled: impl Iterator<Item = &'a StageRef>,
    inputs: &StageInputs<'_>,
    reasons: &mut Vec<Reason>,
) -> Vec<ApprovalStage> {
    let mut stages: Vec<ApprovalStage> = Vec::with_capacity(4);
    for StageRef { stage, source } in compiled {
        if let Some(existing) = stages.iter().find(|s| s.name == stage.name) {
            reasons.push(
                Reason::new(ReasonCode::StageRequired)
                    .rule(source)
                    .detail("stage", &stage.name)
                    .detail("merged_into", &existing.source),
            );
            continue;
        }
        let mut approvers = eligible(&stage.approvers, stage, source, inputs, Some(reasons));
        let mut alternates = eligible(&stage.alternates, stage, source, inputs, None);
        let needed = |count: usize| match stage.require {
            Require::One => 1,
            Require::All => u32::try_from(count).unwrap_or(u32::MAX).max(1),
            Require::AtLeast(n) => n,
        };
        // When exclusions (or a missing manager) leave too few approvers, the
        // stage's alternates are asked instead, as if it had escalated already.
        if (approvers.len() as u64) < u64::from(needed(approvers.len())) && !alternates.is_empty() {
            reasons.push(
                Reason::new(ReasonCode::ApproverExcluded)
                    .rule(source)
                    .detail("stage", &stage.name),
            );
            approvers = std::mem::take(&mut alternates);
        }
        let required = needed(approvers.len());
        if (approvers.len() as u64) < u64::from(required) {
            let manager_missing = stage.approvers.contains(&ApproverSource::Manager)
                && inputs.facts.target_manager.is_none();
            if manager_missing {
                reasons.push(
                    Reason::new(ReasonCode::ManagerUnknown)
                        .rule(source)
                        .detail("stage", &stage.name),
                );
            }
            reasons.push(
                Reason::new(ReasonCode::StageUnsatisfiable)
                    .rule(source)
                    .detail("stage", &stage.name)
                    .detail("required", i64::from(required))
                    .detail("eligible", approvers.len() as i64),
            );
        } else {
            reasons.push(
                Reason::new(ReasonCode::StageRequired)
                    .rule(source)
                    .detail("stage", &stage.name)
                    .detail("required", i64::from(required)),
            );
        }
        stages.push(ApprovalStage {
            name: Arc::clone(&stage.name),
            source: Arc::clone(source),
            required,
            approvers,
            alternates,
            escalate_after_seconds: stage.escalate_after,
        });
    }
    stages
}

/// The eligible approvers of `sources`: roles resolved for this group and
/// target, requester and target removed (each removal a reason when
/// `reasons` is given), duplicates dropped.
fn eligible(
    sources: &[ApproverSource],
    stage: &CompiledStage,
    source: &Arc<str>,
    inputs: &StageInputs<'_>,
    mut reasons: Option<&mut Vec<Reason>>,
) -> Vec<Approver> {
    let mut out: Vec<Approver> = Vec::with_capacity(2);
    for from in sources {
        let people: &[Approver] = match from {
            ApproverSource::Manager => inputs.manager.as_slice(),
            ApproverSource::AppOwners => &inputs.group.app_owners,
            ApproverSource::DataOwners => &inputs.group.data_owners,
            ApproverSource::Fixed(people) => people,
        };
        for person in people {
            if is_party(&person.id, inputs.request, inputs.facts) {
                if let Some(reasons) = reasons.as_deref_mut() {
                    reasons.push(
                        Reason::new(ReasonCode::ApproverExcluded)
                            .rule(source)
                            .detail("stage", &stage.name)
                            .detail("approver", &person.id),
                    );
                }
                continue;
            }
            if !out.iter().any(|a| a.id.eq_ignore_ascii_case(&person.id)) {
                out.push(person.clone());
            }
        }
    }
    out
}
