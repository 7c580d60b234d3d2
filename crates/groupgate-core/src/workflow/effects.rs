//! Failed and interrupted commands: a retry per command (keyed by its
//! idempotency key), the add retried only after a fresh re-check, and what
//! each kind of failure means once retrying is over.

use super::machine::{Next, after};
use super::{Action, Phase, TransitionError, Wake, Workflow};
use crate::model::MembershipState;
use crate::ports::{ErrorClass, NoticeKind, PortError, TicketState, WriteReceipt};

impl Workflow {
    /// The command at outbox position `at` failed.
    pub(super) fn failed(&self, next: &mut Next, at: usize, error: &PortError, jitter: f64) {
        let Some(entry) = self.outbox.get(at) else {
            return;
        };
        let command = &entry.command;
        let now = next.now;
        let retry = &self.settings.retry;
        let driving = self.driving.as_deref() == Some(command.key.as_str());
        if let ErrorClass::Transient {
            retry_after_seconds,
        } = error.class
        {
            if driving && matches!(command.action, Action::AddMember { .. }) {
                // The time until the retry is time in which the user can be
                // disabled or an approval withdrawn: re-check before trying again.
                let since = self.add_failing_since.unwrap_or(now);
                let attempt = self.add_attempts + 1;
                if attempt < retry.max_attempts && now < after(since, retry.deadline_seconds) {
                    next.wf.outbox.remove(at);
                    next.wf.driving = None;
                    next.wf.add_attempts = attempt;
                    next.wf.add_failing_since = Some(since);
                    let when = after(
                        now,
                        retry.delay_seconds(attempt, retry_after_seconds, jitter),
                    );
                    next.phase(Phase::AwaitingRetry { at: when });
                    next.wake("retry_add", when, Wake::Retry);
                    return;
                }
            } else {
                let since = entry.failing_since.unwrap_or(now);
                let attempt = entry.attempts + 1;
                if attempt < retry.max_attempts && now < after(since, retry.deadline_seconds) {
                    let when = after(
                        now,
                        retry.delay_seconds(attempt, retry_after_seconds, jitter),
                    );
                    if let Some(p) = next.wf.outbox.get_mut(at) {
                        p.in_flight = false;
                        p.attempts = attempt;
                        p.failing_since = Some(since);
                        p.retry_at = Some(when);
                    }
                    next.wake(&format!("retry:{}", command.key), when, Wake::Retry);
                    return;
                }
            }
        }
        next.wf.outbox.remove(at);
        next.wf
            .timers
            .retain(|t| t.key != format!("retry:{}", command.key));
        if driving {
            next.wf.driving = None;
        }
        let what = format!("{} failed: {error}", command.action.name());
        if self.phase.is_terminal() {
            // The workflow has ended; only a closing update or notice failed.
            if matches!(command.action, Action::UpdateTicket { .. }) {
                next.notify(
                    NoticeKind::Failure,
                    format!("{what}; the ticket does not show the final state"),
                );
            }
            return;
        }
        let before = next.wf.phase.clone();
        match &command.action {
            // Best effort: recorded, nothing else changes.
            Action::Notify { .. } => {}
            Action::CancelApprovals { .. } | Action::RecordApproval { .. } => {
                next.ticket(None, what);
            }
            Action::CheckMembership { .. } if matches!(self.phase, Phase::Verifying { .. }) => {
                next.phase(Phase::RollingBack { verify_until: None });
                next.ticket(None, format!("{what}; rolling the membership back"));
                self.remove_member(next);
            }
            Action::AddMember { .. } if error.class.is_transient() => {
                // A timed-out add may have landed: undo it to be sure.
                next.phase(Phase::RollingBack { verify_until: None });
                next.ticket(None, format!("{what}; removing any partial change"));
                self.remove_member(next);
            }
            Action::AddMember { .. } => {
                next.phase(Phase::Failed);
                next.wf.added = false;
                next.close(
                    TicketState::ManualIntervention,
                    format!("{what}; nothing was changed"),
                );
                next.notify(NoticeKind::Failure, what);
            }
            Action::UpdateTicket { .. }
                if self.added
                    && !matches!(
                        self.phase,
                        Phase::RollingBack { .. } | Phase::Removing { .. }
                    ) =>
            {
                // The change cannot be recorded: undo it.
                next.abandon_driving();
                next.unwake(&[Wake::Expiry, Wake::VerifyPoll]);
                next.phase(Phase::RollingBack { verify_until: None });
                next.notify(
                    NoticeKind::Failure,
                    format!("{what}; rolling the membership back"),
                );
                self.remove_member(next);
            }
            _ => {
                next.abandon_driving();
                next.phase(Phase::ManualIntervention);
                next.report(TicketState::ManualIntervention, NoticeKind::Failure, what);
            }
        }
        if next.wf.phase != before {
            next.drop_step(command.step);
        }
    }

    /// The command at outbox position `at` was in flight when the process
    /// died; `observed` is the membership read since (adds and removals).
    pub(super) fn interrupted(
        &self,
        next: &mut Next,
        at: usize,
        observed: Option<MembershipState>,
        jitter: f64,
    ) -> Result<(), TransitionError> {
        let Some(entry) = self.outbox.get(at) else {
            return Ok(());
        };
        let driving = self.driving.as_deref() == Some(entry.command.key.as_str());
        match (&entry.command.action, driving && !self.phase.is_terminal()) {
            (Action::AddMember { .. }, true) => {
                if observed == Some(MembershipState::Direct) {
                    next.wf.outbox.remove(at);
                    next.wf.driving = None;
                    self.member_added(next, &WriteReceipt::default());
                } else {
                    let error = PortError::transient(
                        "the add was interrupted before its outcome was recorded, and the membership is not visible",
                        None,
                    );
                    self.failed(next, at, &error, jitter);
                }
            }
            (Action::RemoveMember { .. }, true) if observed != Some(MembershipState::Direct) => {
                next.wf.outbox.remove(at);
                next.wf.driving = None;
                let reason = match self.phase {
                    Phase::Removing { reason, .. } => Some(reason),
                    _ => None,
                };
                self.member_removed(next, reason, &WriteReceipt::default());
            }
            _ => {
                // Re-issued under the same idempotency key.
                if let Some(p) = next.wf.outbox.get_mut(at) {
                    p.in_flight = false;
                }
            }
        }
        Ok(())
    }
}
