//! After the add: verification, granted access and its expiry, removal,
//! rollback, and offboarding in whatever phase it finds the workflow.

use super::machine::{Next, after};
use super::{Action, Event, Phase, RemovalReason, TransitionError, Wake, Workflow};
use crate::model::MembershipState;
use crate::ports::{NoticeKind, TicketState, WriteReceipt};
use std::sync::Arc;

/// Read-backs start at `verify_poll_seconds` and double, up to a minute.
fn poll_delay(wf: &Workflow, polls: u32) -> u64 {
    wf.settings
        .verify_poll_seconds
        .saturating_mul(1u64 << polls.min(16))
        .clamp(1, 60)
}

impl Workflow {
    pub(super) fn member_added(&self, next: &mut Next, receipt: &WriteReceipt) {
        next.wf.polls = 0;
        next.wf.add_attempts = 0;
        next.wf.add_failing_since = None;
        next.wf
            .request_ids
            .extend(receipt.request_ids.iter().cloned());
        if self.offboarding {
            // The add has settled; the offboarding that arrived meanwhile wins.
            next.phase(Phase::Removing {
                reason: RemovalReason::Offboarded,
                verify_until: None,
            });
            next.ticket(
                None,
                "the target was offboarded while the membership was being added; removing it"
                    .to_owned(),
            );
            self.remove_member(next);
            return;
        }
        next.phase(Phase::Verifying {
            deadline: after(next.now, self.settings.verify_timeout_seconds),
        });
        self.check_membership(next);
    }

    pub(super) fn add_observed(
        &self,
        next: &mut Next,
        deadline: chrono::DateTime<chrono::Utc>,
        state: MembershipState,
    ) {
        if state == MembershipState::Direct {
            self.granted(next);
        } else if next.now < deadline {
            let wait = poll_delay(self, next.wf.polls);
            next.wf.polls += 1;
            next.wake(
                Wake::VerifyPoll.name(),
                after(next.now, wait).min(deadline),
                Wake::VerifyPoll,
            );
        } else {
            next.phase(Phase::RollingBack { verify_until: None });
            next.ticket(
                None,
                "the new membership never became visible; rolling it back".to_owned(),
            );
            self.remove_member(next);
        }
    }

    pub(super) fn granted(&self, next: &mut Next) {
        let now = next.now;
        next.wf.granted_at = Some(now);
        next.wf.added = true;
        next.unwake(&[Wake::VerifyPoll]);
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
                next.wake(Wake::Expiry.name(), at, Wake::Expiry);
            }
            None => next.phase(Phase::Completed),
        }
        next.report(TicketState::ClosedComplete, NoticeKind::Success, note);
    }

    pub(super) fn member_removed(
        &self,
        next: &mut Next,
        reason: Option<RemovalReason>,
        receipt: &WriteReceipt,
    ) {
        next.wf
            .request_ids
            .extend(receipt.request_ids.iter().cloned());
        next.wf.polls = 0;
        let until = Some(after(next.now, self.settings.verify_timeout_seconds));
        next.phase(match reason {
            Some(reason) => Phase::Removing {
                reason,
                verify_until: until,
            },
            None => Phase::RollingBack {
                verify_until: until,
            },
        });
        self.check_membership(next);
    }

    pub(super) fn removal_observed(
        &self,
        next: &mut Next,
        reason: Option<RemovalReason>,
        until: chrono::DateTime<chrono::Utc>,
        state: MembershipState,
    ) {
        let now = next.now;
        if state != MembershipState::Direct {
            next.unwake(&[Wake::VerifyPoll]);
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
                    next.close(TicketState::ClosedComplete, note.clone());
                    next.notify(NoticeKind::Success, note);
                }
                None => {
                    next.phase(Phase::RolledBack);
                    let note = format!(
                        "rolled back at {}: the membership was removed again; a person must follow up",
                        now.to_rfc3339()
                    );
                    next.report(TicketState::ManualIntervention, NoticeKind::Failure, note);
                }
            }
            return;
        }
        if now < until {
            let wait = poll_delay(self, next.wf.polls);
            next.wf.polls += 1;
            next.wake(
                Wake::VerifyPoll.name(),
                after(now, wait).min(until),
                Wake::VerifyPoll,
            );
            return;
        }
        next.phase(Phase::ManualIntervention);
        let note =
            "the membership is still present after removal; a person must remove it".to_owned();
        next.report(TicketState::ManualIntervention, NoticeKind::Failure, note);
    }

    /// Offboarding: whatever the phase, the request ends and no membership
    /// is left behind.
    pub(super) fn offboard(&self, next: &mut Next, event: &Event) -> Result<(), TransitionError> {
        match &self.phase {
            phase if phase.is_terminal() => return Err(self.unexpected(event)),
            Phase::Received | Phase::AwaitingApproval { .. } | Phase::Scheduled { .. } => {
                self.cancel(next)
            }
            Phase::Rechecking if !self.added => self.cancel(next),
            Phase::Executing => {
                let in_flight = self
                    .driving
                    .as_ref()
                    .and_then(|k| self.outbox.iter().find(|p| p.command.key == *k))
                    .is_some_and(|p| p.in_flight);
                if in_flight {
                    next.wf.offboarding = true;
                    next.ticket(
                        None,
                        "the target is being offboarded; the membership being added will be removed as soon as the add completes".to_owned(),
                    );
                } else {
                    next.abandon_driving();
                    next.wf.added = false;
                    self.cancel(next);
                }
            }
            Phase::Rechecking
            | Phase::AwaitingRetry { .. }
            | Phase::Verifying { .. }
            | Phase::Active { .. }
            | Phase::Completed => {
                next.abandon_driving();
                next.unwake(&[Wake::Expiry, Wake::VerifyPoll]);
                next.wf.timers.retain(|t| t.key != "retry_add");
                next.phase(Phase::Removing {
                    reason: RemovalReason::Offboarded,
                    verify_until: None,
                });
                self.remove_member(next);
            }
            Phase::Removing { .. } | Phase::RollingBack { .. } => {
                next.ticket(
                    None,
                    "the target is being offboarded; the membership is already being removed"
                        .to_owned(),
                );
            }
            // Terminal phases were handled first.
            _ => return Err(self.unexpected(event)),
        }
        Ok(())
    }

    /// Ends a request that granted nothing yet because the target was offboarded.
    fn cancel(&self, next: &mut Next) {
        next.abandon_driving();
        if let Phase::AwaitingApproval { stage, .. } = self.phase
            && let Some(s) = self.stage(stage)
        {
            next.push(Action::CancelApprovals {
                stage: Arc::clone(&s.name),
                reason: "the target was offboarded".to_owned(),
            });
        }
        next.phase(Phase::Cancelled);
        let note = "cancelled: the target was offboarded before the access was granted; nothing was changed".to_owned();
        next.close(TicketState::ClosedIncomplete, note.clone());
        next.notify(NoticeKind::Info, note);
    }
}
