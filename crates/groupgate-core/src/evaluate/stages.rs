//! Turning compiled stages into approval stages with eligible approvers.

use super::{ApprovalStage, Approver, Reason, ReasonCode};
use crate::model::{Facts, Request, User};
use crate::policy::Require;
use crate::policy::compile::{ApproverSource, CompiledStage};

/// Whether `id` names the requester or the target (by the request or the facts).
fn is_party(id: &str, request: &Request, facts: &Facts) -> bool {
    let named = |key: &str, user: &Option<User>| {
        key.eq_ignore_ascii_case(id) || user.as_ref().is_some_and(|u| u.is_named_by(id))
    };
    named(&request.requester, &facts.requester) || named(&request.target, &facts.target)
}

/// Builds the decision's stages from `compiled`, merging stages of the same
/// name (the first keeps its place), and pushes reasons for each.
pub(crate) fn plan_stages<'a>(
    compiled: impl Iterator<Item = &'a CompiledStage>,
    request: &Request,
    facts: &Facts,
    reasons: &mut Vec<Reason>,
) -> Vec<ApprovalStage> {
    let mut stages: Vec<ApprovalStage> = Vec::new();
    for stage in compiled {
        if let Some(existing) = stages.iter().find(|s| s.name == stage.name) {
            reasons.push(
                Reason::new(
                    ReasonCode::StageRequired,
                    format!(
                        "stage `{}` is also required by `{}`; asked once",
                        stage.name, stage.source
                    ),
                )
                .rule(stage.source.clone())
                .detail("stage", stage.name.clone())
                .detail("merged_into", existing.source.clone()),
            );
            continue;
        }
        let mut approvers = eligible(&stage.approvers, stage, request, facts, reasons);
        let mut alternates = eligible(&stage.alternates, stage, request, facts, &mut Vec::new());
        let needed = |count: usize| match stage.require {
            Require::One => 1,
            Require::All => u32::try_from(count).unwrap_or(u32::MAX).max(1),
            Require::AtLeast(n) => n,
        };
        // When exclusions (or a missing manager) leave too few approvers, the
        // stage's alternates are asked instead, as if it had escalated already.
        if (approvers.len() as u64) < u64::from(needed(approvers.len())) && !alternates.is_empty() {
            reasons.push(
                Reason::new(
                    ReasonCode::ApproverExcluded,
                    format!(
                        "stage `{}` goes to its alternates: too few of its approvers are eligible",
                        stage.name
                    ),
                )
                .rule(stage.source.clone())
                .detail("stage", stage.name.clone()),
            );
            approvers = std::mem::take(&mut alternates);
        }
        let required = needed(approvers.len());
        if (approvers.len() as u64) < u64::from(required) {
            let manager_missing = stage.approvers.contains(&ApproverSource::Manager)
                && facts.target_manager.is_none();
            if manager_missing {
                reasons.push(
                    Reason::new(
                        ReasonCode::ManagerUnknown,
                        format!(
                            "stage `{}` needs the target's manager, and the directory names none",
                            stage.name
                        ),
                    )
                    .rule(stage.source.clone()),
                );
            }
            reasons.push(
                Reason::new(
                    ReasonCode::StageUnsatisfiable,
                    format!(
                        "stage `{}` needs {required} approval(s) but has {} eligible approver(s)",
                        stage.name,
                        approvers.len()
                    ),
                )
                .rule(stage.source.clone())
                .detail("stage", stage.name.clone()),
            );
        } else {
            let who: Vec<&str> = approvers.iter().map(|a| a.id.as_str()).collect();
            reasons.push(
                Reason::new(
                    ReasonCode::StageRequired,
                    format!("stage `{}`: {required} of {}", stage.name, who.join(", ")),
                )
                .rule(stage.source.clone())
                .detail("stage", stage.name.clone()),
            );
        }
        stages.push(ApprovalStage {
            name: stage.name.clone(),
            source: stage.source.clone(),
            required,
            approvers,
            alternates,
            escalate_after_seconds: stage.escalate_after,
        });
    }
    stages
}

/// The eligible approvers of `sources`: manager resolved from the facts,
/// requester and target removed (each removal a reason), duplicates dropped.
fn eligible(
    sources: &[ApproverSource],
    stage: &CompiledStage,
    request: &Request,
    facts: &Facts,
    reasons: &mut Vec<Reason>,
) -> Vec<Approver> {
    let mut out: Vec<Approver> = Vec::with_capacity(sources.len());
    for source in sources {
        let (id, role) = match source {
            ApproverSource::Manager => match &facts.target_manager {
                Some(m) => (m.upn.as_str(), "manager"),
                None => continue,
            },
            ApproverSource::Fixed { id, role } => (id.as_str(), role.as_str()),
        };
        if is_party(id, request, facts) {
            reasons.push(
                Reason::new(
                    ReasonCode::ApproverExcluded,
                    format!(
                        "`{id}` may not approve stage `{}`: they are the requester or the target",
                        stage.name
                    ),
                )
                .rule(stage.source.clone())
                .detail("approver", id),
            );
            continue;
        }
        if !out.iter().any(|a| a.id.eq_ignore_ascii_case(id)) {
            out.push(Approver {
                id: id.to_owned(),
                role: role.to_owned(),
            });
        }
    }
    out
}
