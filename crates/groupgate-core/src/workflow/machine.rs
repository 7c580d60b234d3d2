//! The workflow record and its transition function.

use super::{Action, ApprovalAnswer, Command, Event, RetryPolicy, Verdict, Wake, approval_binding};
use crate::evaluate::{ApprovalStage, Decision, Outcome};
use crate::model::{MembershipState, Request, UserId, WorkflowId};
use crate::ports::{ErrorClass, NoticeKind, PortError, TicketState};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Why access is being removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RemovalReason {
    /// The end date (or maximum duration) passed.
    Expired,
    /// The target was offboarded.
    Offboarded,
}

/// Where a workflow stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    /// Recorded; waiting for the intake evaluation.
    Received,
    /// Waiting for the approvals of stage `stage` (0-based).
    AwaitingApproval {
        /// The open stage.
        stage: usize,
        /// Whether the stage's alternates have been asked.
        escalated: bool,
    },
    /// Approved; waiting for the change window.
    Scheduled {
        /// When the window opens.
        at: DateTime<Utc>,
    },
    /// Re-gathering facts and re-evaluating right before acting.
    Rechecking,
    /// Adding the member.
    Executing,
    /// Reading the membership back until it shows.
    Verifying {
        /// Give up (and roll back) after this.
        deadline: DateTime<Utc>,
    },
    /// Granted, time-bound.
    Active {
        /// When access ends.
        expires_at: DateTime<Utc>,
    },
    /// Granted without an end.
    Completed,
    /// Removing granted access.
    Removing {
        /// Why.
        reason: RemovalReason,
        /// Until when to wait for the removal to show; set once removed.
        verify_until: Option<DateTime<Utc>>,
    },
    /// Undoing an add after a later step failed.
    RollingBack {
        /// Until when to wait for the removal to show; set once removed.
        verify_until: Option<DateTime<Utc>>,
    },
    /// Ended: denied by policy (at intake or at the re-check).
    Denied,
    /// Ended: nothing to do, the access was already there.
    NoOp,
    /// Ended: an approver rejected.
    Rejected,
    /// Ended: approvals did not arrive in time.
    ApprovalExpired,
    /// Ended: the add failed and nothing was changed.
    Failed,
    /// Ended: the add was undone after a later failure.
    RolledBack,
    /// Ended: a person must look (the ticket says why).
    ManualIntervention,
    /// Ended: access was removed (expiry or offboarding).
    Removed,
}

impl Phase {
    /// The phase's name, e.g. `awaiting_approval`.
    pub fn name(&self) -> &'static str {
        match self {
            Phase::Received => "received",
            Phase::AwaitingApproval { .. } => "awaiting_approval",
            Phase::Scheduled { .. } => "scheduled",
            Phase::Rechecking => "rechecking",
            Phase::Executing => "executing",
            Phase::Verifying { .. } => "verifying",
            Phase::Active { .. } => "active",
            Phase::Completed => "completed",
            Phase::Removing { .. } => "removing",
            Phase::RollingBack { .. } => "rolling_back",
            Phase::Denied => "denied",
            Phase::NoOp => "no_op",
            Phase::Rejected => "rejected",
            Phase::ApprovalExpired => "approval_expired",
            Phase::Failed => "failed",
            Phase::RolledBack => "rolled_back",
            Phase::ManualIntervention => "manual_intervention",
            Phase::Removed => "removed",
        }
    }

    /// Whether the workflow has ended (no event fits any more).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Phase::Denied
                | Phase::NoOp
                | Phase::Rejected
                | Phase::ApprovalExpired
                | Phase::Failed
                | Phase::RolledBack
                | Phase::ManualIntervention
                | Phase::Removed
        )
    }
}

/// Tunables of the state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowSettings {
    /// Retries of transient failures.
    pub retry: RetryPolicy,
    /// How long an add (or removal) may take to become visible.
    pub verify_timeout_seconds: u64,
    /// How often to read it back meanwhile.
    pub verify_poll_seconds: u64,
}

impl Default for WorkflowSettings {
    fn default() -> Self {
        Self {
            retry: RetryPolicy::default(),
            verify_timeout_seconds: 300,
            verify_poll_seconds: 10,
        }
    }
}

/// An event that does not fit the workflow's phase. The engine records it
/// (audit) and does not apply it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The workflow has ended.
    #[error("workflow `{workflow}` has ended ({phase}); event `{event}` does not apply")]
    Finished {
        /// The workflow.
        workflow: String,
        /// Its final phase.
        phase: &'static str,
        /// The event.
        event: &'static str,
    },
    /// The event does not fit the phase.
    #[error("event `{event}` does not fit workflow `{workflow}` in phase `{phase}`")]
    Unexpected {
        /// The workflow.
        workflow: String,
        /// Its phase.
        phase: &'static str,
        /// The event.
        event: &'static str,
    },
}

/// One request's workflow: plain data, serde-friendly, changed only by
/// [`Workflow::handle`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workflow {
    /// The workflow id.
    pub id: WorkflowId,
    /// The request.
    pub request: Request,
    /// Where it stands.
    pub phase: Phase,
    /// The latest decision (intake, then the re-check).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    /// The target's object id, from the facts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<UserId>,
    /// The binding digest the approvals are for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binding: Option<String>,
    /// Accepted approvals, all stages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvals: Vec<ApprovalAnswer>,
    /// Whether every approval stage was approved for the current binding (not
    /// set by a standard change).
    #[serde(default)]
    pub approved: bool,
    /// Whether a membership add may have taken effect (so a failure rolls back).
    #[serde(default)]
    pub added: bool,
    /// When access was granted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granted_at: Option<DateTime<Utc>>,
    /// The provider request ids of the writes made.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub request_ids: Vec<String>,
    /// Transitions taken so far (part of every idempotency key).
    pub step: u64,
    /// Failed attempts of the command being retried.
    #[serde(default)]
    pub attempts: u32,
    /// When the command being retried first failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<DateTime<Utc>>,
    /// Read-backs so far while verifying an add or a removal.
    #[serde(default)]
    pub polls: u32,
    /// The idempotency key of the command whose failures `attempts` counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_key: Option<String>,
    /// The command to re-issue when the retry timer fires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<Command>,
}

type Outcome2 = Result<(Workflow, Vec<Command>), TransitionError>;

/// The next state being built, with its commands.
struct Next {
    wf: Workflow,
    commands: Vec<Command>,
}

impl Next {
    fn new(current: &Workflow) -> Self {
        let mut wf = current.clone();
        wf.step += 1;
        Self {
            wf,
            commands: Vec::new(),
        }
    }

    fn push(&mut self, action: Action) {
        let key = format!(
            "{}/{}/{}:{}",
            self.wf.id,
            self.wf.step,
            self.commands.len(),
            action.name()
        );
        self.commands.push(Command { key, action });
    }

    fn phase(&mut self, phase: Phase) {
        self.wf.phase = phase;
    }

    fn ticket(&mut self, state: Option<TicketState>, note: String) {
        self.push(Action::UpdateTicket { state, note });
    }

    fn notify(&mut self, kind: NoticeKind, text: String) {
        self.push(Action::Notify { kind, text });
    }

    /// The same words on the ticket and in the chat notice.
    fn report(&mut self, state: Option<TicketState>, kind: NoticeKind, note: String) {
        self.ticket(state, note.clone());
        self.notify(kind, note);
    }

    fn wake(&mut self, at: DateTime<Utc>, purpose: Wake) {
        self.push(Action::WakeAt { at, purpose });
    }

    fn cancel(&mut self, purposes: &[Wake]) {
        for purpose in purposes {
            self.push(Action::CancelWake { purpose: *purpose });
        }
    }

    fn done(self) -> Outcome2 {
        Ok((self.wf, self.commands))
    }
}

fn after(now: DateTime<Utc>, seconds: u64) -> DateTime<Utc> {
    now.checked_add_signed(
        TimeDelta::try_seconds(i64::try_from(seconds).unwrap_or(i64::MAX))
            .unwrap_or(TimeDelta::MAX),
    )
    .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Read-backs start at `verify_poll_seconds` and double, up to a minute.
fn poll_delay(settings: &WorkflowSettings, polls: u32) -> u64 {
    settings
        .verify_poll_seconds
        .saturating_mul(1u64 << polls.min(16))
        .clamp(1, 60)
}

fn deny_summary(decision: &Decision) -> String {
    let reasons: Vec<String> = decision
        .deny_reasons()
        .map(|r| format!("{}: {}", r.code, r.message()))
        .collect();
    reasons.join("; ")
}

impl Workflow {
    /// Starts a workflow for `request`: it is recorded and the intake
    /// evaluation is requested.
    pub fn start(id: WorkflowId, request: Request) -> (Workflow, Vec<Command>) {
        let wf = Workflow {
            id,
            request,
            phase: Phase::Received,
            decision: None,
            target: None,
            binding: None,
            approvals: Vec::new(),
            approved: false,
            added: false,
            granted_at: None,
            request_ids: Vec::new(),
            step: 0,
            polls: 0,
            attempts: 0,
            failing_since: None,
            pending_key: None,
            pending: None,
        };
        let mut next = Next {
            wf,
            commands: Vec::new(),
        };
        next.ticket(
            Some(TicketState::InProgress),
            "groupgate received the request".to_owned(),
        );
        next.push(Action::Evaluate { recheck: false });
        (next.wf, next.commands)
    }

    fn unexpected(&self, event: &Event) -> TransitionError {
        if self.phase.is_terminal() {
            TransitionError::Finished {
                workflow: self.id.to_string(),
                phase: self.phase.name(),
                event: event.name(),
            }
        } else {
            TransitionError::Unexpected {
                workflow: self.id.to_string(),
                phase: self.phase.name(),
                event: event.name(),
            }
        }
    }

    /// Applies `event` at `now`: the next workflow and the commands to execute,
    /// in order. Pure: no I/O, no clock, no randomness.
    pub fn handle(
        &self,
        event: &Event,
        now: DateTime<Utc>,
        settings: &WorkflowSettings,
    ) -> Outcome2 {
        if self.phase.is_terminal() && !self.closing_effect(event) {
            return Err(self.unexpected(event));
        }
        let mut next = Next::new(self);
        match (&self.phase, event) {
            (
                _,
                Event::EffectFailed {
                    command,
                    error,
                    jitter,
                },
            ) => self.failed(next, command, error, *jitter, now, settings),
            (
                _,
                Event::Woke {
                    purpose: Wake::Retry,
                },
            ) => {
                let Some(command) = self.pending.clone() else {
                    return Err(self.unexpected(event));
                };
                next.wf.pending = None;
                next.commands.push(command);
                next.done()
            }
            (Phase::Received, Event::Evaluated { decision, target }) => {
                next.wf.target = target.clone();
                self.intake(next, decision, now)
            }
            (Phase::AwaitingApproval { stage, escalated }, Event::Answered { answer }) => {
                self.answer(next, *stage, *escalated, answer, now)
            }
            (
                Phase::AwaitingApproval { stage, .. },
                Event::Woke {
                    purpose: Wake::Escalate,
                },
            ) => {
                let Some(s) = self.stage(*stage).filter(|s| !s.alternates.is_empty()) else {
                    return Err(self.unexpected(event));
                };
                next.phase(Phase::AwaitingApproval {
                    stage: *stage,
                    escalated: true,
                });
                let who: Vec<&str> = s.alternates.iter().map(|a| &*a.id).collect();
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
                    approvers: s.alternates.iter().map(|a| Arc::clone(&a.id)).collect(),
                    binding: self.binding.clone().unwrap_or_default(),
                    escalation: true,
                });
                next.done()
            }
            (
                Phase::AwaitingApproval { stage, .. },
                Event::Woke {
                    purpose: Wake::ApprovalDeadline,
                },
            ) => {
                next.phase(Phase::ApprovalExpired);
                next.cancel(&[Wake::Escalate]);
                if let Some(s) = self.stage(*stage) {
                    next.push(Action::CancelApprovals {
                        stage: Arc::clone(&s.name),
                    });
                }
                next.ticket(
                    Some(TicketState::ClosedIncomplete),
                    "approvals did not arrive in time; the request expired".to_owned(),
                );
                next.done()
            }
            (
                Phase::Scheduled { .. },
                Event::Woke {
                    purpose: Wake::WindowOpens,
                },
            ) => {
                next.phase(Phase::Rechecking);
                next.push(Action::Evaluate { recheck: true });
                next.done()
            }
            (Phase::Rechecking, Event::Rechecked { decision, target }) => {
                next.wf.target = target.clone();
                self.recheck(next, decision, now)
            }
            (Phase::Executing, Event::MemberAdded { receipt }) => {
                next.wf.polls = 0;
                next.wf.attempts = 0;
                next.wf.failing_since = None;
                next.wf
                    .request_ids
                    .extend(receipt.request_ids.iter().cloned());
                next.phase(Phase::Verifying {
                    deadline: after(now, settings.verify_timeout_seconds),
                });
                self.check_membership(&mut next);
                next.done()
            }
            (Phase::Verifying { deadline }, Event::MembershipObserved { state }) => {
                if *state == MembershipState::Direct {
                    self.granted(next, now)
                } else if now < *deadline {
                    let wait = poll_delay(settings, next.wf.polls);
                    next.wf.polls += 1;
                    next.wake(after(now, wait).min(*deadline), Wake::VerifyPoll);
                    next.done()
                } else {
                    next.phase(Phase::RollingBack { verify_until: None });
                    next.ticket(
                        None,
                        "the new membership never became visible; rolling it back".to_owned(),
                    );
                    self.remove_member(&mut next);
                    next.done()
                }
            }
            (
                Phase::Verifying { .. },
                Event::Woke {
                    purpose: Wake::VerifyPoll,
                },
            )
            | (
                Phase::Removing {
                    verify_until: Some(_),
                    ..
                },
                Event::Woke {
                    purpose: Wake::VerifyPoll,
                },
            )
            | (
                Phase::RollingBack {
                    verify_until: Some(_),
                },
                Event::Woke {
                    purpose: Wake::VerifyPoll,
                },
            ) => {
                self.check_membership(&mut next);
                next.done()
            }
            (
                Phase::Active { .. },
                Event::Woke {
                    purpose: Wake::Expiry,
                },
            ) => {
                next.phase(Phase::Removing {
                    reason: RemovalReason::Expired,
                    verify_until: None,
                });
                self.remove_member(&mut next);
                next.done()
            }
            (Phase::Active { .. } | Phase::Completed, Event::Offboard) => {
                if matches!(self.phase, Phase::Active { .. }) {
                    next.cancel(&[Wake::Expiry]);
                }
                next.phase(Phase::Removing {
                    reason: RemovalReason::Offboarded,
                    verify_until: None,
                });
                self.remove_member(&mut next);
                next.done()
            }
            (
                Phase::Removing {
                    reason,
                    verify_until: None,
                },
                Event::MemberRemoved { receipt },
            ) => {
                next.wf
                    .request_ids
                    .extend(receipt.request_ids.iter().cloned());
                next.phase(Phase::Removing {
                    reason: *reason,
                    verify_until: Some(after(now, settings.verify_timeout_seconds)),
                });
                self.check_membership(&mut next);
                next.done()
            }
            (Phase::RollingBack { verify_until: None }, Event::MemberRemoved { receipt }) => {
                next.wf
                    .request_ids
                    .extend(receipt.request_ids.iter().cloned());
                next.phase(Phase::RollingBack {
                    verify_until: Some(after(now, settings.verify_timeout_seconds)),
                });
                self.check_membership(&mut next);
                next.done()
            }
            (
                Phase::Removing {
                    reason,
                    verify_until: Some(until),
                },
                Event::MembershipObserved { state },
            ) => self.removal_observed(next, Some(*reason), *until, *state, now, settings),
            (
                Phase::RollingBack {
                    verify_until: Some(until),
                },
                Event::MembershipObserved { state },
            ) => self.removal_observed(next, None, *until, *state, now, settings),
            _ => Err(self.unexpected(event)),
        }
    }

    /// Whether `event` concerns the closing ticket update or notice of an
    /// ended workflow (their failures and retries still apply: nothing is
    /// dropped).
    fn closing_effect(&self, event: &Event) -> bool {
        match event {
            Event::EffectFailed { command, .. } => {
                matches!(
                    command.action,
                    Action::UpdateTicket { .. } | Action::Notify { .. }
                )
            }
            Event::Woke {
                purpose: Wake::Retry,
            } => self.pending.is_some(),
            _ => false,
        }
    }

    fn stage(&self, index: usize) -> Option<&ApprovalStage> {
        self.decision.as_ref().and_then(|d| d.stages.get(index))
    }

    fn group_and_user(&self) -> Option<(crate::model::GroupId, UserId)> {
        let group = self.decision.as_ref()?.group.as_ref()?.object_id.clone();
        Some((group, self.target.clone()?))
    }

    fn check_membership(&self, next: &mut Next) {
        if let Some((group, user)) = self.group_and_user() {
            next.push(Action::CheckMembership { group, user });
        }
    }

    fn remove_member(&self, next: &mut Next) {
        if let Some((group, user)) = self.group_and_user() {
            next.push(Action::RemoveMember { group, user });
        }
    }

    fn intake(&self, mut next: Next, decision: &Decision, now: DateTime<Utc>) -> Outcome2 {
        next.wf.decision = Some(decision.clone());
        match decision.outcome {
            Outcome::Deny => {
                next.phase(Phase::Denied);
                next.ticket(
                    Some(TicketState::ClosedIncomplete),
                    format!("denied by policy: {}", deny_summary(decision)),
                );
            }
            Outcome::AlreadyMember => {
                next.phase(Phase::NoOp);
                next.ticket(
                    Some(TicketState::ClosedComplete),
                    "the user already has this access; nothing changed".to_owned(),
                );
            }
            Outcome::NeedsApproval | Outcome::PreApproved if next.wf.target.is_none() => {
                next.phase(Phase::ManualIntervention);
                next.ticket(
                    Some(TicketState::ManualIntervention),
                    "the directory facts lack the target's object id".to_owned(),
                );
            }
            Outcome::NeedsApproval => {
                next.wf.binding = Some(approval_binding(&self.request, decision));
                next.ticket(
                    Some(TicketState::ApprovalRequired),
                    format!("approval required: {} stage(s)", decision.stages.len()),
                );
                self.open_stage(&mut next, decision, 0, now);
                if let Some(deadline) = decision.approval_deadline {
                    next.wake(deadline, Wake::ApprovalDeadline);
                }
            }
            Outcome::PreApproved => {
                // Not `approved`: that flag means "every stage approved", which a
                // standard change skips. A re-check that needs approvals asks for them.
                next.wf.binding = Some(approval_binding(&self.request, decision));
                next.ticket(None, "pre-approved by a standard change".to_owned());
                Self::toward_execution(&mut next, decision, now);
            }
        }
        next.done()
    }

    /// Asks stage `index` of `decision`.
    fn open_stage(&self, next: &mut Next, decision: &Decision, index: usize, now: DateTime<Utc>) {
        next.phase(Phase::AwaitingApproval {
            stage: index,
            escalated: false,
        });
        if let Some(s) = decision.stages.get(index) {
            next.push(Action::RequestApproval {
                stage: Arc::clone(&s.name),
                approvers: s.approvers.iter().map(|a| Arc::clone(&a.id)).collect(),
                binding: next.wf.binding.clone().unwrap_or_default(),
                escalation: false,
            });
            if let (Some(seconds), false) = (s.escalate_after_seconds, s.alternates.is_empty()) {
                next.wake(
                    after(now, u64::try_from(seconds).unwrap_or(0)),
                    Wake::Escalate,
                );
            }
        }
    }

    /// Approved (or pre-approved): wait for the window, or re-check now.
    fn toward_execution(next: &mut Next, decision: &Decision, now: DateTime<Utc>) {
        match decision.earliest_execution {
            Some(at) if at > now => {
                next.phase(Phase::Scheduled { at });
                next.ticket(
                    Some(TicketState::InProgress),
                    format!(
                        "approved; scheduled for the change window at {}",
                        at.to_rfc3339()
                    ),
                );
                next.wake(at, Wake::WindowOpens);
            }
            _ => {
                next.phase(Phase::Rechecking);
                next.push(Action::Evaluate { recheck: true });
            }
        }
    }

    fn answer(
        &self,
        mut next: Next,
        index: usize,
        escalated: bool,
        answer: &ApprovalAnswer,
        now: DateTime<Utc>,
    ) -> Outcome2 {
        let Some((decision, stage)) = self
            .decision
            .as_ref()
            .and_then(|d| d.stages.get(index).map(|s| (d, s)))
        else {
            return Err(self.unexpected(&Event::Answered {
                answer: answer.clone(),
            }));
        };
        let who = &*answer.approver;
        let same = |id: &str| id.eq_ignore_ascii_case(who);
        let refusal = if *answer.stage != *stage.name {
            Some(format!(
                "it answers stage `{}`, but stage `{}` is open",
                answer.stage, stage.name
            ))
        } else if Some(&answer.binding) != self.binding.as_ref() {
            Some("it approves something else (the user, group, expiry or policy differ)".to_owned())
        } else if same(&self.request.requester)
            || same(&self.request.target)
            || self.target.as_ref().is_some_and(|t| same(t))
        {
            Some("nobody approves their own request or their own access".to_owned())
        } else if !(stage.approvers.iter().any(|a| same(&a.id))
            || (escalated && stage.alternates.iter().any(|a| same(&a.id))))
        {
            Some("they are not an eligible approver of this stage".to_owned())
        } else if self
            .approvals
            .iter()
            .any(|a| a.stage == stage.name && same(&a.approver))
        {
            Some("they already approved this stage".to_owned())
        } else {
            None
        };
        if let Some(why) = refusal {
            next.ticket(
                None,
                format!(
                    "refused an answer from `{who}` via {}: {why}",
                    answer.channel
                ),
            );
            return next.done();
        }
        next.push(Action::RecordApproval {
            stage: Arc::clone(&stage.name),
            approver: Arc::clone(&answer.approver),
            verdict: answer.verdict,
            channel: answer.channel.clone(),
        });
        if answer.verdict == Verdict::Reject {
            next.phase(Phase::Rejected);
            next.cancel(&[Wake::Escalate, Wake::ApprovalDeadline]);
            next.push(Action::CancelApprovals {
                stage: Arc::clone(&stage.name),
            });
            let comment = answer
                .comment
                .as_deref()
                .map(|c| format!(": {c}"))
                .unwrap_or_default();
            next.ticket(
                Some(TicketState::ClosedIncomplete),
                format!(
                    "rejected by `{who}` at stage `{}` via {}{comment}",
                    stage.name, answer.channel
                ),
            );
            return next.done();
        }
        next.wf.approvals.push(answer.clone());
        let count = next
            .wf
            .approvals
            .iter()
            .filter(|a| a.stage == stage.name)
            .count() as u64;
        next.ticket(
            None,
            format!(
                "approved by `{who}` at stage `{}` via {} ({count} of {})",
                stage.name, answer.channel, stage.required
            ),
        );
        if count < u64::from(stage.required) {
            return next.done();
        }
        next.push(Action::CancelApprovals {
            stage: Arc::clone(&stage.name),
        });
        next.cancel(&[Wake::Escalate]);
        if index + 1 < decision.stages.len() {
            self.open_stage(&mut next, decision, index + 1, now);
        } else {
            next.cancel(&[Wake::ApprovalDeadline]);
            next.wf.approved = true;
            Self::toward_execution(&mut next, decision, now);
        }
        next.done()
    }

    fn recheck(&self, mut next: Next, decision: &Decision, now: DateTime<Utc>) -> Outcome2 {
        next.wf.decision = Some(decision.clone());
        match decision.outcome {
            Outcome::Deny => {
                next.phase(Phase::Denied);
                next.ticket(
                    Some(TicketState::ClosedIncomplete),
                    format!(
                        "the re-check before execution denied it: {}",
                        deny_summary(decision)
                    ),
                );
                return next.done();
            }
            Outcome::AlreadyMember => {
                next.phase(Phase::NoOp);
                next.ticket(
                    Some(TicketState::ClosedComplete),
                    "the user already has this access; nothing changed".to_owned(),
                );
                return next.done();
            }
            Outcome::NeedsApproval | Outcome::PreApproved => {}
        }
        if next.wf.target.is_none() {
            next.phase(Phase::ManualIntervention);
            next.ticket(
                Some(TicketState::ManualIntervention),
                "the directory facts lack the target's object id".to_owned(),
            );
            return next.done();
        }
        let binding = approval_binding(&self.request, decision);
        let changed = self.binding.as_deref() != Some(binding.as_str());
        let needs_approvals =
            decision.outcome == Outcome::NeedsApproval && (changed || !self.approved);
        if needs_approvals {
            // What was approved is not what would be executed now.
            next.wf.binding = Some(binding);
            next.wf.approvals.clear();
            next.wf.approved = false;
            next.ticket(
                Some(TicketState::ApprovalRequired),
                "the user, group, expiry or policy changed since approval; approval is required again".to_owned(),
            );
            self.open_stage(&mut next, decision, 0, now);
            if let Some(deadline) = decision.approval_deadline {
                next.wake(deadline, Wake::ApprovalDeadline);
            }
            return next.done();
        }
        next.wf.binding = Some(binding);
        match decision.earliest_execution {
            Some(at) if at > now => {
                next.phase(Phase::Scheduled { at });
                next.wake(at, Wake::WindowOpens);
            }
            _ => {
                if let Some((group, user)) = next.wf.group_and_user() {
                    next.phase(Phase::Executing);
                    next.wf.added = true;
                    next.push(Action::AddMember { group, user });
                }
            }
        }
        next.done()
    }

    fn granted(&self, mut next: Next, now: DateTime<Utc>) -> Outcome2 {
        next.wf.granted_at = Some(now);
        let expires = self
            .decision
            .as_ref()
            .and_then(|d| d.expiry.as_ref())
            .map(|e| e.expires_at(now));
        let group = self
            .decision
            .as_ref()
            .and_then(|d| d.group.as_ref())
            .map(|g| g.key.to_string())
            .unwrap_or_default();
        let user = self
            .target
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        let ids = if next.wf.request_ids.is_empty() {
            "none".to_owned()
        } else {
            next.wf.request_ids.join(", ")
        };
        let until = expires
            .map(|e| format!("; access ends {}", e.to_rfc3339()))
            .unwrap_or_default();
        let note = format!(
            "executed at {}: added `{user}` to `{group}`, confirmed in the directory{until}; request ids: {ids}",
            now.to_rfc3339()
        );
        match expires {
            Some(at) => {
                next.phase(Phase::Active { expires_at: at });
                next.wake(at, Wake::Expiry);
            }
            None => next.phase(Phase::Completed),
        }
        next.report(Some(TicketState::ClosedComplete), NoticeKind::Success, note);
        next.done()
    }

    fn removal_observed(
        &self,
        mut next: Next,
        reason: Option<RemovalReason>,
        until: DateTime<Utc>,
        state: MembershipState,
        now: DateTime<Utc>,
        settings: &WorkflowSettings,
    ) -> Outcome2 {
        if state != MembershipState::Direct {
            let ids = next.wf.request_ids.join(", ");
            match reason {
                Some(reason) => {
                    next.phase(Phase::Removed);
                    let why = if reason == RemovalReason::Expired {
                        "access expired"
                    } else {
                        "the user was offboarded"
                    };
                    let note = format!(
                        "removed at {} ({why}); confirmed in the directory; request ids: {ids}",
                        now.to_rfc3339()
                    );
                    next.report(None, NoticeKind::Success, note);
                }
                None => {
                    next.phase(Phase::RolledBack);
                    let note = format!(
                        "rolled back at {}: the membership was removed again; a person must follow up",
                        now.to_rfc3339()
                    );
                    next.report(
                        Some(TicketState::ManualIntervention),
                        NoticeKind::Failure,
                        note,
                    );
                }
            }
            return next.done();
        }
        if now < until {
            let wait = poll_delay(settings, next.wf.polls);
            next.wf.polls += 1;
            next.wake(after(now, wait).min(until), Wake::VerifyPoll);
            return next.done();
        }
        next.phase(Phase::ManualIntervention);
        let note =
            "the membership is still present after removal; a person must remove it".to_owned();
        next.report(
            Some(TicketState::ManualIntervention),
            NoticeKind::Failure,
            note,
        );
        next.done()
    }

    fn failed(
        &self,
        mut next: Next,
        command: &Command,
        error: &PortError,
        jitter: f64,
        now: DateTime<Utc>,
        settings: &WorkflowSettings,
    ) -> Outcome2 {
        let retry = &settings.retry;
        if let ErrorClass::Transient {
            retry_after_seconds,
        } = error.class
        {
            // Attempts count per command: another command's failures do not use them up.
            let same = self.pending_key.as_deref() == Some(command.key.as_str());
            let since = if same {
                self.failing_since.unwrap_or(now)
            } else {
                now
            };
            let attempt = if same { self.attempts + 1 } else { 1 };
            let within_deadline = now < after(since, retry.deadline_seconds);
            if attempt < retry.max_attempts && within_deadline {
                next.wf.attempts = attempt;
                next.wf.failing_since = Some(since);
                next.wf.pending_key = Some(command.key.clone());
                next.wf.pending = Some(command.clone());
                let delay = retry.delay_seconds(attempt, retry_after_seconds, jitter);
                next.wake(after(now, delay), Wake::Retry);
                return next.done();
            }
        }
        next.wf.attempts = 0;
        next.wf.failing_since = None;
        next.wf.pending = None;
        next.wf.pending_key = None;
        let what = format!("{} failed: {error}", command.action.name());
        if self.phase.is_terminal() {
            // The workflow has ended; only its closing update or notice failed.
            if matches!(command.action, Action::UpdateTicket { .. }) {
                next.notify(
                    NoticeKind::Failure,
                    format!("{what}; the ticket does not show the final state"),
                );
            }
            return next.done();
        }
        match &command.action {
            // Best effort: recorded, nothing else changes.
            Action::Notify { .. } => next.done(),
            Action::CancelApprovals { .. } | Action::RecordApproval { .. } => {
                next.ticket(None, what);
                next.done()
            }
            Action::CheckMembership { .. } if matches!(self.phase, Phase::Verifying { .. }) => {
                next.phase(Phase::RollingBack { verify_until: None });
                next.ticket(None, format!("{what}; rolling the membership back"));
                self.remove_member(&mut next);
                next.done()
            }
            Action::AddMember { .. } if error.class.is_transient() => {
                // A timed-out add may have landed: undo it to be sure.
                next.phase(Phase::RollingBack { verify_until: None });
                next.ticket(None, format!("{what}; removing any partial change"));
                self.remove_member(&mut next);
                next.done()
            }
            Action::AddMember { .. } => {
                next.phase(Phase::Failed);
                next.wf.added = false;
                next.ticket(
                    Some(TicketState::ManualIntervention),
                    format!("{what}; nothing was changed"),
                );
                next.notify(NoticeKind::Failure, what);
                next.done()
            }
            Action::UpdateTicket { .. }
                if self.added
                    && !matches!(
                        self.phase,
                        Phase::RollingBack { .. } | Phase::Removing { .. }
                    ) =>
            {
                // The change cannot be recorded: undo it.
                next.phase(Phase::RollingBack { verify_until: None });
                next.notify(
                    NoticeKind::Failure,
                    format!("{what}; rolling the membership back"),
                );
                self.remove_member(&mut next);
                next.done()
            }
            _ => {
                next.phase(Phase::ManualIntervention);
                next.report(
                    Some(TicketState::ManualIntervention),
                    NoticeKind::Failure,
                    what,
                );
                next.done()
            }
        }
    }
}
