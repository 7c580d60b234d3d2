//! Turning compiled stages into approval stages with eligible approvers.
//!
//! An approver is eligible only as a directory user: the policy's key (UPN or
//! object id) must be found in the facts, the account enabled, and the person
//! neither the requester nor the target (compared by object id as well as by
//! the names the request uses). Eligible approvers are de-duplicated by
//! object id, so one person named twice counts once.

use super::{ApprovalStage, Approver, Reason, ReasonCode};
use crate::model::{Facts, Request, User};
use crate::policy::Require;
use crate::policy::compile::{
    ApproverSource, CompiledGroup, CompiledStage, PolicyApprover, StageRef,
};
use std::sync::Arc;

/// Whether `user` is the requester or the target (by object id, or by the
/// names the request gives).
fn is_party(user: &User, request: &Request, facts: &Facts) -> bool {
    let same = |key: &str, known: &Option<User>| {
        user.is_named_by(key) || known.as_ref().is_some_and(|k| k.id.same(&user.id))
    };
    same(&request.requester, &facts.requester) || same(&request.target, &facts.target)
}

/// The context a stage's approvers are resolved in.
pub(crate) struct StageInputs<'a> {
    pub(crate) group: &'a CompiledGroup,
    pub(crate) request: &'a Request,
    pub(crate) facts: &'a Facts,
    /// The role name given to the target's manager.
    pub(crate) manager_role: &'a Arc<str>,
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
            channels: Arc::clone(&inputs.group.channels),
        });
    }
    stages
}

/// The eligible approvers of `sources`: roles resolved for this group and
/// target, each person found in the directory facts, disabled accounts,
/// requester and target removed (each a reason when `reasons` is given),
/// duplicates (by object id) dropped.
fn eligible(
    sources: &[ApproverSource],
    stage: &CompiledStage,
    source: &Arc<str>,
    inputs: &StageInputs<'_>,
    mut reasons: Option<&mut Vec<Reason>>,
) -> Vec<Approver> {
    let mut out: Vec<Approver> = Vec::with_capacity(2);
    for from in sources {
        let people: &[PolicyApprover] = match from {
            ApproverSource::Manager => {
                if let Some(manager) = &inputs.facts.target_manager {
                    let why = consider(manager, inputs.manager_role, inputs, &mut out);
                    note(reasons.as_deref_mut(), why, stage, source, &manager.upn);
                }
                continue;
            }
            ApproverSource::AppOwners => &inputs.group.app_owners,
            ApproverSource::DataOwners => &inputs.group.data_owners,
            ApproverSource::Fixed(people) => people,
            ApproverSource::Directory(d) => {
                match inputs.facts.group_members(&d.group, d.transitive) {
                    Some(read) => {
                        if !read.complete {
                            let partial = format!("group:{}", d.group);
                            note(
                                reasons.as_deref_mut(),
                                Some(ReasonCode::ApproverGroupPartial),
                                stage,
                                source,
                                &partial,
                            );
                        }
                        for user in &read.members {
                            let why = consider(user, &d.role, inputs, &mut out);
                            note(reasons.as_deref_mut(), why, stage, source, &user.upn);
                        }
                    }
                    None => {
                        let missing = format!("group:{}", d.group);
                        note(
                            reasons.as_deref_mut(),
                            Some(ReasonCode::ApproverNotInDirectory),
                            stage,
                            source,
                            &missing,
                        );
                    }
                }
                continue;
            }
        };
        for person in people {
            let why = match inputs.facts.approver(&person.key) {
                Some(user) => consider(user, &person.role, inputs, &mut out),
                None => Some(ReasonCode::ApproverNotInDirectory),
            };
            note(reasons.as_deref_mut(), why, stage, source, &person.key);
        }
    }
    out
}

/// Adds `user` to `out` if eligible; otherwise the reason they are not.
fn consider(
    user: &User,
    role: &Arc<str>,
    inputs: &StageInputs<'_>,
    out: &mut Vec<Approver>,
) -> Option<ReasonCode> {
    if is_party(user, inputs.request, inputs.facts) {
        return Some(ReasonCode::ApproverExcluded);
    }
    if !user.enabled {
        return Some(ReasonCode::ApproverDisabled);
    }
    if !out.iter().any(|a| a.id.same(&user.id)) {
        out.push(Approver {
            id: user.id.clone(),
            name: Arc::clone(&user.upn),
            role: Arc::clone(role),
        });
    }
    None
}

fn note(
    reasons: Option<&mut Vec<Reason>>,
    why: Option<ReasonCode>,
    stage: &CompiledStage,
    source: &Arc<str>,
    who: &str,
) {
    if let (Some(reasons), Some(code)) = (reasons, why) {
        reasons.push(
            Reason::new(code)
                .rule(source)
                .detail("stage", &stage.name)
                .detail("approver", who),
        );
    }
}
