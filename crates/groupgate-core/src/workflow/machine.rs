//! The workflow record and its transition function.
//!
//! A step takes one event and returns the next workflow with the commands it
//! issued. Commands wait in the workflow's outbox until their outcome is fed
//! back (each with its own retry count); timers are part of the workflow's
//! state, so whatever stores a step stores its timers with it.

use super::{
    Action, ApprovalAnswer, Command, Event, Pending, PendingWake, Phase, Wake, WorkflowSettings,
};
use crate::evaluate::{ApprovalStage, Decision};
use crate::model::{GroupId, Request, UserId, WorkflowId};
use crate::ports::{NoticeKind, TicketState};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

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
    /// The event names a command or timer the workflow is not waiting for.
    #[error("workflow `{workflow}` has no pending {what} `{key}`; event `{event}` does not apply")]
    NotPending {
        /// The workflow.
        workflow: String,
        /// `command` or `timer`.
        what: &'static str,
        /// The key.
        key: String,
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
    /// The tunables it was started with.
    pub settings: WorkflowSettings,
    /// Where it stands.
    pub phase: Phase,
    /// The latest decision (intake, then the re-check).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    /// The requester's object id, from the facts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester: Option<UserId>,
    /// The target's object id, resolved when the plan was made: approvals are
    /// for this object, and only this object is ever added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<UserId>,
    /// The binding digest of each stage of `decision` (see
    /// [`super::stage_binding`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bindings: Vec<String>,
    /// When unanswered approvals expire; answers given later never count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_deadline: Option<DateTime<Utc>>,
    /// Counted approvals, all stages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvals: Vec<ApprovalAnswer>,
    /// Whether every approval stage was approved for the current bindings
    /// (not set by a standard change).
    #[serde(default)]
    pub approved: bool,
    /// Whether a membership add may have taken effect (so a failure or a
    /// denial at a later re-check rolls back).
    #[serde(default)]
    pub added: bool,
    /// Offboarding arrived while the add was in flight: remove the membership
    /// as soon as the add settles.
    #[serde(default)]
    pub offboarding: bool,
    /// When access was granted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granted_at: Option<DateTime<Utc>>,
    /// The provider request ids of the writes made.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub request_ids: Vec<String>,
    /// Transitions taken so far (part of every idempotency key).
    pub step: u64,
    /// Read-backs so far while verifying an add or a removal.
    #[serde(default)]
    pub polls: u32,
    /// Failed add attempts (each retried only after a fresh re-check).
    #[serde(default)]
    pub add_attempts: u32,
    /// When the first add attempt failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_failing_since: Option<DateTime<Utc>>,
    /// The command whose outcome the phase waits for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driving: Option<String>,
    /// Commands issued and not yet completed, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outbox: Vec<Pending>,
    /// Pending wake-ups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timers: Vec<PendingWake>,
}

pub(super) type Stepped = Result<(Workflow, Vec<Command>), TransitionError>;

/// The next state being built, with its commands.
pub(super) struct Next {
    pub(super) wf: Workflow,
    pub(super) commands: Vec<Command>,
    pub(super) now: DateTime<Utc>,
}

impl Next {
    fn new(current: &Workflow, now: DateTime<Utc>) -> Self {
        let mut wf = current.clone();
        wf.step += 1;
        Self {
            wf,
            commands: Vec::new(),
            now,
        }
    }

    /// Issues a command: it goes to the outbox and to the step's list.
    pub(super) fn push(&mut self, action: Action) -> String {
        let key = format!(
            "{}/{}/{}:{}",
            self.wf.id,
            self.wf.step,
            self.commands.len(),
            action.name()
        );
        let command = Command {
            key: key.clone(),
            step: self.wf.step,
            action,
        };
        self.wf.outbox.push(Pending::new(command.clone()));
        self.commands.push(command);
        key
    }

    /// Issues the command whose outcome the phase waits for.
    pub(super) fn drive(&mut self, action: Action) {
        let key = self.push(action);
        self.wf.driving = Some(key);
    }

    pub(super) fn phase(&mut self, phase: Phase) {
        self.wf.phase = phase;
    }

    pub(super) fn ticket(&mut self, state: Option<TicketState>, note: String) {
        self.push(Action::UpdateTicket {
            state,
            note,
            anchor: false,
        });
    }

    /// A ticket update that closes a chapter (the ticket closes, or a person
    /// must look): it carries the audit trail's anchor.
    pub(super) fn close(&mut self, state: TicketState, note: String) {
        self.push(Action::UpdateTicket {
            state: Some(state),
            note,
            anchor: true,
        });
    }

    pub(super) fn notify(&mut self, kind: NoticeKind, text: String) {
        self.push(Action::Notify { kind, text });
    }

    /// The same words on the ticket (closing it) and in the chat notice.
    pub(super) fn report(&mut self, state: TicketState, kind: NoticeKind, note: String) {
        self.close(state, note.clone());
        self.notify(kind, note);
    }

    /// Sets (or moves) the timer `key`.
    pub(super) fn wake(&mut self, key: &str, at: DateTime<Utc>, purpose: Wake) {
        self.wf.timers.retain(|t| t.key != key);
        self.wf.timers.push(PendingWake {
            key: key.to_owned(),
            at,
            purpose,
        });
    }

    /// Drops the timers of `purposes` (their keys are the purpose names).
    pub(super) fn unwake(&mut self, purposes: &[Wake]) {
        self.wf
            .timers
            .retain(|t| !purposes.iter().any(|p| t.key == p.name()));
    }

    /// Drops the not-yet-executed commands that `step` issued (a failure
    /// re-planned them away), except closing ticket updates.
    pub(super) fn drop_step(&mut self, step: u64) {
        self.wf.outbox.retain(|p| {
            p.in_flight
                || p.command.step != step
                || matches!(p.command.action, Action::UpdateTicket { anchor: true, .. })
        });
        let keys: Vec<String> = self
            .wf
            .outbox
            .iter()
            .map(|p| p.command.key.clone())
            .collect();
        self.wf.timers.retain(|t| {
            t.key
                .strip_prefix("retry:")
                .is_none_or(|k| keys.iter().any(|x| x == k))
        });
    }

    /// Drops the driving command when it has not been executed yet (the
    /// phase it served is over); an in-flight one stays, its outcome is
    /// taken as stale when it comes.
    pub(super) fn abandon_driving(&mut self) {
        if let Some(key) = self.wf.driving.take() {
            self.wf
                .outbox
                .retain(|p| p.command.key != key || p.in_flight);
        }
    }

    /// Finishes the step: an ended workflow keeps only the timers of its
    /// closing effects; a workflow that waits on the outside world with no
    /// other timer gets a watchdog.
    fn done(mut self) -> (Workflow, Vec<Command>) {
        let wf = &mut self.wf;
        if wf.phase.is_terminal() {
            wf.timers
                .retain(|t| t.purpose == Wake::Retry && t.key.starts_with("retry:"));
        }
        wf.timers.retain(|t| t.purpose != Wake::Watchdog);
        let waits =
            !wf.outbox.is_empty() || !(wf.phase.is_terminal() || wf.phase == Phase::Completed);
        if waits && wf.timers.is_empty() {
            let at = after(self.now, wf.settings.watchdog_seconds);
            wf.timers.push(PendingWake {
                key: Wake::Watchdog.name().to_owned(),
                at,
                purpose: Wake::Watchdog,
            });
        }
        (self.wf, self.commands)
    }
}

/// `now` plus `seconds`, saturating.
pub(super) fn after(now: DateTime<Utc>, seconds: u64) -> DateTime<Utc> {
    now.checked_add_signed(
        TimeDelta::try_seconds(i64::try_from(seconds).unwrap_or(i64::MAX))
            .unwrap_or(TimeDelta::MAX),
    )
    .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

impl Workflow {
    /// Starts a workflow for `request` at `now`: it is recorded and the intake
    /// evaluation is requested.
    pub fn start(
        id: WorkflowId,
        request: Request,
        settings: WorkflowSettings,
        now: DateTime<Utc>,
    ) -> (Workflow, Vec<Command>) {
        let wf = Workflow {
            id,
            request,
            settings,
            phase: Phase::Received,
            decision: None,
            requester: None,
            target: None,
            bindings: Vec::new(),
            approval_deadline: None,
            approvals: Vec::new(),
            approved: false,
            added: false,
            offboarding: false,
            granted_at: None,
            request_ids: Vec::new(),
            step: 0,
            polls: 0,
            add_attempts: 0,
            add_failing_since: None,
            driving: None,
            outbox: Vec::new(),
            timers: Vec::new(),
        };
        let mut next = Next {
            wf,
            commands: Vec::new(),
            now,
        };
        next.ticket(
            Some(TicketState::InProgress),
            "groupgate received the request".to_owned(),
        );
        next.drive(Action::Evaluate { recheck: false });
        next.done()
    }

    /// The first command the engine may execute at `now`, if any: ready
    /// itself, and not behind a pending command of its lane (ticket notes
    /// keep their order even when one of them has to be retried).
    pub fn next_ready(&self, now: DateTime<Utc>) -> Option<&Pending> {
        self.outbox.iter().enumerate().find_map(|(i, p)| {
            let lane = p.command.action.lane();
            let behind = self.outbox[..i]
                .iter()
                .any(|e| e.command.action.lane() == lane);
            (p.is_ready(now) && !behind).then_some(p)
        })
    }

    /// Commands whose intent was recorded and whose outcome was not.
    pub fn in_flight(&self) -> impl Iterator<Item = &Pending> {
        self.outbox.iter().filter(|p| p.in_flight)
    }

    /// The earliest pending wake-up.
    pub fn next_wake(&self) -> Option<DateTime<Utc>> {
        self.timers.iter().map(|t| t.at).min()
    }

    /// The resolved group's object id, once a decision resolved one.
    pub fn group(&self) -> Option<&GroupId> {
        self.decision.as_ref()?.group.as_ref().map(|g| &g.object_id)
    }

    pub(super) fn unexpected(&self, event: &Event) -> TransitionError {
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

    fn not_pending(&self, what: &'static str, key: &str, event: &Event) -> TransitionError {
        TransitionError::NotPending {
            workflow: self.id.to_string(),
            what,
            key: key.to_owned(),
            event: event.name(),
        }
    }

    /// Applies `event` at `now`: the next workflow and the commands it issued,
    /// in order. Pure: no I/O, no clock, no randomness.
    pub fn handle(&self, event: &Event, now: DateTime<Utc>) -> Stepped {
        let mut next = Next::new(self, now);
        match event {
            Event::Issuing { command } => {
                let entry = next
                    .wf
                    .outbox
                    .iter_mut()
                    .find(|p| p.command == *command)
                    .ok_or_else(|| self.not_pending("command", &command.key, event))?;
                entry.in_flight = true;
            }
            Event::EffectDone { key, .. } => {
                let at = self
                    .position(key)
                    .ok_or_else(|| self.not_pending("command", key, event))?;
                if next.wf.driving.as_deref() == Some(key.as_str()) {
                    return Err(self.unexpected(event));
                }
                next.wf.outbox.remove(at);
            }
            Event::EffectFailed {
                command,
                error,
                jitter,
            } => {
                let at = self
                    .position(&command.key)
                    .ok_or_else(|| self.not_pending("command", &command.key, event))?;
                self.failed(&mut next, at, error, *jitter);
            }
            Event::Interrupted {
                key,
                observed,
                jitter,
            } => {
                let at = self
                    .position(key)
                    .filter(|&i| self.outbox.get(i).is_some_and(|p| p.in_flight))
                    .ok_or_else(|| self.not_pending("command in flight", key, event))?;
                self.interrupted(&mut next, at, *observed, *jitter)?;
            }
            Event::Woke { key, purpose } => {
                if !self.timers.iter().any(|t| t.key == *key) {
                    return Err(self.not_pending("timer", key, event));
                }
                next.wf.timers.retain(|t| t.key != *key);
                self.woke(&mut next, key, *purpose, event)?;
            }
            Event::Answered { answer } => match self.phase {
                Phase::AwaitingApproval { stage, escalated } => {
                    self.answer(&mut next, stage, escalated, answer)
                }
                _ => return Err(self.unexpected(event)),
            },
            Event::Offboard => self.offboard(&mut next, event)?,
            Event::Evaluated { key, .. }
            | Event::Rechecked { key, .. }
            | Event::MemberAdded { key, .. }
            | Event::MembershipObserved { key, .. }
            | Event::MemberRemoved { key, .. } => {
                let at = self
                    .position(key)
                    .ok_or_else(|| self.not_pending("command", key, event))?;
                next.wf.outbox.remove(at);
                let drives = self.driving.as_deref() == Some(key.as_str());
                if drives && !self.phase.is_terminal() {
                    next.wf.driving = None;
                    self.outcome(&mut next, event)?;
                }
                // Otherwise the outcome is stale: the phase it served is over.
            }
        }
        Ok(next.done())
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.outbox.iter().position(|p| p.command.key == key)
    }

    /// The outcome of the driving command, by phase.
    fn outcome(&self, next: &mut Next, event: &Event) -> Result<(), TransitionError> {
        match (&self.phase, event) {
            (
                Phase::Received,
                Event::Evaluated {
                    facts, decision, ..
                },
            ) => {
                self.intake(next, facts, decision);
                Ok(())
            }
            (
                Phase::Rechecking,
                Event::Rechecked {
                    facts, decision, ..
                },
            ) => {
                self.recheck(next, facts, decision);
                Ok(())
            }
            (Phase::Executing, Event::MemberAdded { receipt, .. }) => {
                self.member_added(next, receipt);
                Ok(())
            }
            (Phase::Verifying { deadline }, Event::MembershipObserved { state, .. }) => {
                self.add_observed(next, *deadline, *state);
                Ok(())
            }
            (
                Phase::Removing {
                    reason,
                    verify_until: None,
                },
                Event::MemberRemoved { receipt, .. },
            ) => {
                self.member_removed(next, Some(*reason), receipt);
                Ok(())
            }
            (Phase::RollingBack { verify_until: None }, Event::MemberRemoved { receipt, .. }) => {
                self.member_removed(next, None, receipt);
                Ok(())
            }
            (
                Phase::Removing {
                    reason,
                    verify_until: Some(until),
                },
                Event::MembershipObserved { state, .. },
            ) => {
                self.removal_observed(next, Some(*reason), *until, *state);
                Ok(())
            }
            (
                Phase::RollingBack {
                    verify_until: Some(until),
                },
                Event::MembershipObserved { state, .. },
            ) => {
                self.removal_observed(next, None, *until, *state);
                Ok(())
            }
            _ => Err(self.unexpected(event)),
        }
    }

    /// A timer fired (already removed from `next`).
    fn woke(
        &self,
        next: &mut Next,
        key: &str,
        purpose: Wake,
        event: &Event,
    ) -> Result<(), TransitionError> {
        match (&self.phase, purpose) {
            (_, Wake::Watchdog) => Ok(()),
            (_, Wake::Retry) if key.starts_with("retry:") => {
                let command = &key["retry:".len()..];
                if let Some(p) = next.wf.outbox.iter_mut().find(|p| p.command.key == command) {
                    p.retry_at = None;
                }
                Ok(())
            }
            _ if self.phase.is_terminal() => Err(self.unexpected(event)),
            (Phase::AwaitingApproval { stage, .. }, Wake::Escalate) => {
                self.escalate(next, *stage, event)
            }
            (Phase::AwaitingApproval { stage, .. }, Wake::ApprovalDeadline) => {
                self.approvals_expired(next, *stage);
                Ok(())
            }
            (Phase::Scheduled { .. }, Wake::WindowOpens)
            | (Phase::AwaitingRetry { .. }, Wake::Retry) => {
                next.phase(Phase::Rechecking);
                next.drive(Action::Evaluate { recheck: true });
                Ok(())
            }
            (Phase::Verifying { .. }, Wake::VerifyPoll)
            | (
                Phase::Removing {
                    verify_until: Some(_),
                    ..
                },
                Wake::VerifyPoll,
            )
            | (
                Phase::RollingBack {
                    verify_until: Some(_),
                },
                Wake::VerifyPoll,
            ) => {
                self.check_membership(next);
                Ok(())
            }
            (Phase::Active { .. }, Wake::Expiry) => {
                next.phase(Phase::Removing {
                    reason: super::RemovalReason::Expired,
                    verify_until: None,
                });
                self.remove_member(next);
                Ok(())
            }
            _ => Err(self.unexpected(event)),
        }
    }

    pub(super) fn stage(&self, index: usize) -> Option<&ApprovalStage> {
        self.decision.as_ref().and_then(|d| d.stages.get(index))
    }

    pub(super) fn group_and_user(&self) -> Option<(GroupId, UserId)> {
        Some((self.group()?.clone(), self.target.clone()?))
    }

    pub(super) fn check_membership(&self, next: &mut Next) {
        if let Some((group, user)) = self.group_and_user() {
            next.drive(Action::CheckMembership { group, user });
        }
    }

    pub(super) fn remove_member(&self, next: &mut Next) {
        if let Some((group, user)) = self.group_and_user() {
            next.drive(Action::RemoveMember { group, user });
        }
    }
}
