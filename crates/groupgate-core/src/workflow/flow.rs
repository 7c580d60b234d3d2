//! From the intake decision to the add: approval stages, answers, the change
//! window, and the re-check right before acting, which re-validates every
//! counted approval against the fresh decision.

use super::machine::{Next, after};
use super::{Action, ApprovalAnswer, Phase, Verdict, Wake, Workflow, stage_binding};
use crate::evaluate::{ApprovalStage, Decision, Outcome};
use crate::model::{Facts, MembershipState, UserId};
use crate::ports::{NoticeKind, TicketState};
use chrono::{DateTime, Utc};
use std::sync::Arc;

fn deny_summary(decision: &Decision) -> String {
    let reasons: Vec<String> = decision
        .deny_reasons()
        .map(|r| format!("{}: {}", r.code, r.message()))
        .collect();
    reasons.join("; ")
}

/// Every stage's binding for `decision` and the target `target`.
fn bindings(wf: &Workflow, target: &UserId, decision: &Decision) -> Vec<String> {
    (0..decision.stages.len())
        .map(|i| stage_binding(&wf.request.ticket, target, decision, i))
        .collect()
}

/// Why an answer (or a counted approval) does not count for `stage`.
struct Check<'a> {
    wf: &'a Workflow,
    stage: &'a ApprovalStage,
    binding: Option<&'a str>,
    deadline: Option<DateTime<Utc>>,
    /// Whether the stage's alternates may answer.
    alternates: bool,
}

impl Check<'_> {
    fn refusal(&self, answer: &ApprovalAnswer, counted: &[ApprovalAnswer]) -> Option<&'static str> {
        if *answer.stage != *self.stage.name {
            return Some("it answers another stage than the one open");
        }
        if self.binding != Some(answer.binding.as_str()) {
            return Some(
                "it approves something else (another ticket, user, group, expiry, approver plan or policy)",
            );
        }
        if self.deadline.is_some_and(|d| answer.at > d) {
            return Some("it was given after the approval deadline");
        }
        let Some(id) = &answer.approver_id else {
            return Some("the approver is not a known directory user");
        };
        let party = |known: &Option<UserId>| known.as_ref().is_some_and(|k| k.same(id));
        if party(&self.wf.requester) || party(&self.wf.target) {
            return Some("nobody approves their own request or their own access");
        }
        let eligible = self.stage.approvers.iter().any(|a| a.id.same(id))
            || (self.alternates && self.stage.alternates.iter().any(|a| a.id.same(id)));
        if !eligible {
            return Some("they are not an eligible approver of this stage");
        }
        let repeated = counted.iter().any(|a| {
            a.stage == self.stage.name && a.approver_id.as_ref().is_some_and(|c| c.same(id))
        });
        if repeated {
            return Some("they already approved this stage (each person counts once)");
        }
        None
    }
}

/// How many distinct people approved `stage` in `approvals`.
fn count(approvals: &[ApprovalAnswer], stage: &ApprovalStage) -> u64 {
    approvals.iter().filter(|a| a.stage == stage.name).count() as u64
}

impl Workflow {
    /// Why `answer` would not count if it were fed now, in words (the
    /// workflow is not awaiting approval, it answers another stage, the
    /// binding is stale, the approver is not eligible, …); `None` when it
    /// would count. Pure: what the state machine itself checks.
    pub fn answer_refusal(&self, answer: &ApprovalAnswer) -> Option<String> {
        let Phase::AwaitingApproval { stage, escalated } = self.phase else {
            return Some(format!(
                "the request is not awaiting approval (it is {})",
                self.phase.name()
            ));
        };
        let Some(open) = self.stage(stage) else {
            return Some("the request has no such approval stage".to_owned());
        };
        let check = Check {
            wf: self,
            stage: open,
            binding: self.bindings.get(stage).map(String::as_str),
            deadline: self.approval_deadline,
            alternates: escalated,
        };
        check.refusal(answer, &self.approvals).map(str::to_owned)
    }

    pub(super) fn intake(&self, next: &mut Next, facts: &Facts, decision: &Decision) {
        next.wf.decision = Some(decision.clone());
        next.wf.requester = facts.requester.as_ref().map(|u| u.id.clone());
        next.wf.target = facts.target.as_ref().map(|u| u.id.clone());
        match decision.outcome {
            Outcome::Deny => {
                next.phase(Phase::Denied);
                next.close(
                    TicketState::ClosedIncomplete,
                    format!("denied by policy: {}", deny_summary(decision)),
                );
            }
            Outcome::AlreadyMember => {
                next.phase(Phase::NoOp);
                next.close(
                    TicketState::ClosedComplete,
                    "the user already has this access; nothing changed".to_owned(),
                );
            }
            Outcome::NeedsApproval | Outcome::PreApproved if next.wf.target.is_none() => {
                next.phase(Phase::ManualIntervention);
                next.close(
                    TicketState::ManualIntervention,
                    "the directory facts lack the target's object id".to_owned(),
                );
            }
            Outcome::NeedsApproval if decision.stages.is_empty() => {
                next.phase(Phase::ManualIntervention);
                next.close(
                    TicketState::ManualIntervention,
                    "the decision needs approval but names no stage; nothing is done".to_owned(),
                );
            }
            Outcome::NeedsApproval => {
                if let Some(target) = next.wf.target.clone() {
                    next.wf.bindings = bindings(self, &target, decision);
                }
                next.wf.approval_deadline = decision.approval_deadline;
                next.ticket(
                    Some(TicketState::ApprovalRequired),
                    format!("approval required: {} stage(s)", decision.stages.len()),
                );
                Self::open_stage(next, decision, 0);
                if let Some(deadline) = decision.approval_deadline {
                    next.wake(
                        Wake::ApprovalDeadline.name(),
                        deadline,
                        Wake::ApprovalDeadline,
                    );
                }
            }
            Outcome::PreApproved => {
                // Not `approved`: that flag means "every stage approved", which a
                // standard change skips. A re-check that needs approvals asks for them.
                next.ticket(None, "pre-approved by a standard change".to_owned());
                Self::toward_execution(next, decision);
            }
        }
    }

    /// Asks stage `index` of `decision`; a stage whose counted approvals
    /// already suffice (kept across a re-check) is passed over.
    pub(super) fn open_stage(next: &mut Next, decision: &Decision, index: usize) {
        let mut index = index;
        while let Some(s) = decision.stages.get(index) {
            if count(&next.wf.approvals, s) < u64::from(s.required) {
                break;
            }
            index += 1;
        }
        let Some(s) = decision.stages.get(index) else {
            next.unwake(&[Wake::ApprovalDeadline, Wake::Escalate]);
            next.wf.approved = true;
            Self::toward_execution(next, decision);
            return;
        };
        next.phase(Phase::AwaitingApproval {
            stage: index,
            escalated: false,
        });
        next.push(Action::RequestApproval {
            stage: Arc::clone(&s.name),
            approvers: s.approvers.clone(),
            binding: next.wf.bindings.get(index).cloned().unwrap_or_default(),
            escalation: false,
            deadline: next.wf.approval_deadline,
        });
        next.unwake(&[Wake::Escalate]);
        if let (Some(seconds), false) = (s.escalate_after_seconds, s.alternates.is_empty()) {
            let at = after(next.now, u64::try_from(seconds).unwrap_or(0));
            next.wake(Wake::Escalate.name(), at, Wake::Escalate);
        }
    }

    pub(super) fn escalate(
        &self,
        next: &mut Next,
        index: usize,
        event: &super::Event,
    ) -> Result<(), super::TransitionError> {
        let Some(s) = self.stage(index).filter(|s| !s.alternates.is_empty()) else {
            return Err(self.unexpected(event));
        };
        next.phase(Phase::AwaitingApproval {
            stage: index,
            escalated: true,
        });
        let who: Vec<&str> = s.alternates.iter().map(|a| &*a.name).collect();
        next.ticket(
            None,
            format!(
                "stage `{}` unanswered: escalated to {}",
                s.name,
                who.join(", ")
            ),
        );
        next.push(Action::RequestApproval {
            stage: Arc::clone(&s.name),
            approvers: s.alternates.clone(),
            binding: self.bindings.get(index).cloned().unwrap_or_default(),
            escalation: true,
            deadline: self.approval_deadline,
        });
        Ok(())
    }

    pub(super) fn approvals_expired(&self, next: &mut Next, index: usize) {
        next.phase(Phase::ApprovalExpired);
        if let Some(s) = self.stage(index) {
            next.push(Action::CancelApprovals {
                stage: Arc::clone(&s.name),
                reason: "the approvals did not arrive in time".to_owned(),
            });
        }
        next.close(
            TicketState::ClosedIncomplete,
            "approvals did not arrive in time; the request expired".to_owned(),
        );
    }

    pub(super) fn answer(
        &self,
        next: &mut Next,
        index: usize,
        escalated: bool,
        answer: &ApprovalAnswer,
    ) {
        let (Some(decision), Some(stage)) = (self.decision.as_ref(), self.stage(index)) else {
            return;
        };
        let check = Check {
            wf: self,
            stage,
            binding: self.bindings.get(index).map(String::as_str),
            deadline: self.approval_deadline,
            alternates: escalated,
        };
        let who = &*answer.approver;
        if let Some(why) = check.refusal(answer, &self.approvals) {
            next.ticket(
                None,
                format!(
                    "refused an answer from `{who}` via {}: {why}",
                    answer.channel
                ),
            );
            return;
        }
        // The directory's name for the approver (the channel may have named
        // them by e-mail or chat id), so the ticket system finds them.
        let name = answer
            .approver_id
            .as_ref()
            .and_then(|id| {
                stage
                    .approvers
                    .iter()
                    .chain(&stage.alternates)
                    .find(|a| a.id.same(id))
            })
            .map(|a| Arc::clone(&a.name))
            .unwrap_or_else(|| Arc::clone(&answer.approver));
        next.push(Action::RecordApproval {
            stage: Arc::clone(&stage.name),
            approver: name,
            approver_id: answer.approver_id.clone(),
            verdict: answer.verdict,
            channel: answer.channel.clone(),
            at: Some(answer.at),
            comment: answer.comment.clone(),
        });
        if answer.verdict == Verdict::Reject {
            next.phase(Phase::Rejected);
            next.push(Action::CancelApprovals {
                stage: Arc::clone(&stage.name),
                reason: format!(
                    "rejected by `{who}` via {} at {}",
                    answer.channel,
                    answer.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ),
            });
            let comment = answer
                .comment
                .as_deref()
                .map(|c| format!(": {c}"))
                .unwrap_or_default();
            next.close(
                TicketState::ClosedIncomplete,
                format!(
                    "rejected by `{who}` at stage `{}` via {}{comment}",
                    stage.name, answer.channel
                ),
            );
            return;
        }
        next.wf.approvals.push(answer.clone());
        let counted = count(&next.wf.approvals, stage);
        next.ticket(
            None,
            format!(
                "approved by `{who}` at stage `{}` via {} ({counted} of {})",
                stage.name, answer.channel, stage.required
            ),
        );
        if counted < u64::from(stage.required) {
            return;
        }
        next.push(Action::CancelApprovals {
            stage: Arc::clone(&stage.name),
            reason: format!(
                "stage `{}` is approved (last by `{who}` via {} at {})",
                stage.name,
                answer.channel,
                answer.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
        });
        Self::open_stage(next, decision, index + 1);
    }

    /// Approved (or pre-approved): wait for the window, or re-check now.
    pub(super) fn toward_execution(next: &mut Next, decision: &Decision) {
        match decision.earliest_execution {
            Some(at) if at > next.now => {
                next.phase(Phase::Scheduled { at });
                next.ticket(
                    Some(TicketState::InProgress),
                    format!(
                        "approved; scheduled for the change window at {}",
                        at.to_rfc3339()
                    ),
                );
                next.wake(Wake::WindowOpens.name(), at, Wake::WindowOpens);
            }
            _ => {
                next.phase(Phase::Rechecking);
                next.drive(Action::Evaluate { recheck: true });
            }
        }
    }

    /// The re-check right before acting (time of check = time of use).
    pub(super) fn recheck(&self, next: &mut Next, facts: &Facts, decision: &Decision) {
        next.wf.decision = Some(decision.clone());
        let fresh_target = facts.target.as_ref().map(|u| u.id.clone());
        if let (Some(planned), Some(now_is)) = (&self.target, &fresh_target)
            && !planned.same(now_is)
        {
            let note = format!(
                "the target `{}` now resolves to another directory object (`{now_is}`, approved for `{planned}`); nothing is added",
                self.request.target
            );
            self.refuse_or_undo(next, TicketState::ManualIntervention, note);
            return;
        }
        match decision.outcome {
            Outcome::Deny => {
                let note = format!(
                    "the re-check before execution denied it: {}",
                    deny_summary(decision)
                );
                self.refuse_or_undo(next, TicketState::ClosedIncomplete, note);
                return;
            }
            Outcome::AlreadyMember => {
                if self.added && facts.membership == MembershipState::Direct {
                    // An earlier, interrupted attempt landed: it is ours.
                    self.granted(next);
                    return;
                }
                next.phase(Phase::NoOp);
                next.close(
                    TicketState::ClosedComplete,
                    "the user already has this access; nothing changed".to_owned(),
                );
                return;
            }
            Outcome::NeedsApproval | Outcome::PreApproved => {}
        }
        let Some(target) = next.wf.target.clone() else {
            next.phase(Phase::ManualIntervention);
            next.close(
                TicketState::ManualIntervention,
                "the directory facts lack the target's object id".to_owned(),
            );
            return;
        };
        if decision.outcome == Outcome::NeedsApproval && decision.stages.is_empty() {
            self.refuse_or_undo(
                next,
                TicketState::ManualIntervention,
                "the decision needs approval but names no stage; nothing is added".to_owned(),
            );
            return;
        }
        if decision.outcome == Outcome::NeedsApproval
            && !self.approvals_still_count(next, &target, decision)
        {
            return;
        }
        match decision.earliest_execution {
            Some(at) if at > next.now => {
                next.phase(Phase::Scheduled { at });
                next.wake(Wake::WindowOpens.name(), at, Wake::WindowOpens);
            }
            _ => {
                if let Some((group, user)) = next.wf.group_and_user() {
                    next.phase(Phase::Executing);
                    next.wf.added = true;
                    next.drive(Action::AddMember { group, user });
                }
            }
        }
    }

    /// Re-validates every counted approval against the fresh decision: same
    /// binding, still eligible, given before the deadline, each person once
    /// per stage. Those that no longer count are dropped (and noted); if a
    /// stage falls short, it is asked again and `false` is returned.
    fn approvals_still_count(&self, next: &mut Next, target: &UserId, decision: &Decision) -> bool {
        let fresh = bindings(self, target, decision);
        let mut kept: Vec<ApprovalAnswer> = Vec::new();
        let mut dropped: Vec<(ApprovalAnswer, &'static str)> = Vec::new();
        for answer in &self.approvals {
            let stage = decision
                .stages
                .iter()
                .enumerate()
                .find(|(_, s)| s.name == answer.stage);
            let why = match stage {
                None => Some("its stage is no longer required"),
                Some((i, stage)) => Check {
                    wf: self,
                    stage,
                    binding: fresh.get(i).map(String::as_str),
                    deadline: self.approval_deadline,
                    alternates: true,
                }
                .refusal(answer, &kept),
            };
            match why {
                None => kept.push(answer.clone()),
                Some(why) => dropped.push((answer.clone(), why)),
            }
        }
        let satisfied = decision
            .stages
            .iter()
            .all(|s| count(&kept, s) >= u64::from(s.required));
        next.wf.bindings = fresh;
        for (answer, why) in &dropped {
            next.ticket(
                None,
                format!(
                    "the approval by `{}` at stage `{}` no longer counts: {why}",
                    answer.approver, answer.stage
                ),
            );
        }
        next.wf.approvals = kept;
        if satisfied {
            return true;
        }
        next.wf.approved = false;
        next.wf.approval_deadline = decision.approval_deadline;
        next.ticket(
            Some(TicketState::ApprovalRequired),
            "what would be executed now is not what was approved; approval is required again"
                .to_owned(),
        );
        if let Some(deadline) = decision.approval_deadline {
            next.wake(
                Wake::ApprovalDeadline.name(),
                deadline,
                Wake::ApprovalDeadline,
            );
        }
        Self::open_stage(next, decision, 0);
        false
    }

    /// The re-check refuses: nothing is added, and an earlier attempt that
    /// may have landed is undone.
    fn refuse_or_undo(&self, next: &mut Next, state: TicketState, note: String) {
        if self.added {
            next.phase(Phase::RollingBack { verify_until: None });
            next.ticket(
                None,
                format!("{note}; removing the membership an earlier attempt may have added"),
            );
            self.remove_member(next);
            return;
        }
        let terminal = if state == TicketState::ManualIntervention {
            Phase::ManualIntervention
        } else {
            Phase::Denied
        };
        next.phase(terminal);
        if state == TicketState::ManualIntervention {
            next.report(state, NoticeKind::Failure, note);
        } else {
            next.close(state, note);
        }
    }
}
