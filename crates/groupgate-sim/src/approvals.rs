//! Fake approvers: asks are recorded; tests and the demo answer them.

use crate::{Faults, SimClock};
use async_trait::async_trait;
use groupgate_core::TicketRef;
use groupgate_core::ports::{
    ApprovalAsk, ApprovalChannel, AskReceipt, Clock, Notice, PortError, PortResult,
};
use groupgate_core::workflow::{ApprovalAnswer, Verdict};
use std::sync::{Arc, Mutex};

#[derive(Debug, Default)]
struct State {
    asks: Vec<ApprovalAsk>,
    cancelled: Vec<(String, String)>,
    answers: Vec<(String, ApprovalAnswer)>,
    notices: Vec<Notice>,
}

/// A fake approval channel.
#[derive(Debug)]
pub struct FakeApprovals {
    state: Mutex<State>,
    clock: SimClock,
    faults: Faults,
}

impl FakeApprovals {
    /// A channel on simulated time.
    pub fn new(clock: SimClock) -> Self {
        Self {
            state: Mutex::new(State::default()),
            clock,
            faults: Faults::default(),
        }
    }

    /// Scripted failures (`ask`, `answers`, `cancel`, `notify`).
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Every ask made, oldest first.
    pub fn asks(&self) -> Vec<ApprovalAsk> {
        self.state
            .lock()
            .map(|s| s.asks.clone())
            .unwrap_or_default()
    }

    /// Every notice posted.
    pub fn notices(&self) -> Vec<Notice> {
        self.state
            .lock()
            .map(|s| s.notices.clone())
            .unwrap_or_default()
    }

    /// `approver` answers the ticket's newest open ask through `channel`,
    /// approving exactly what was asked (its binding). Returns the stage
    /// answered, or `None` when nothing is open.
    pub fn answer(
        &self,
        ticket: &str,
        approver: &str,
        verdict: Verdict,
        channel: &str,
    ) -> Option<String> {
        let now = self.clock.now();
        let mut s = self.state.lock().ok()?;
        let ask = s
            .asks
            .iter()
            .rev()
            .find(|a| {
                a.ticket.as_str() == ticket
                    && !s
                        .cancelled
                        .iter()
                        .any(|(t, st)| t == ticket && **st == *a.stage)
            })?
            .clone();
        s.answers.push((
            ticket.to_owned(),
            ApprovalAnswer {
                stage: Arc::clone(&ask.stage),
                approver: Arc::from(approver),
                approver_id: None,
                verdict,
                comment: None,
                channel: channel.to_owned(),
                at: now,
                binding: ask.binding.clone(),
            },
        ));
        Some(ask.stage.to_string())
    }

    /// Records an arbitrary answer (e.g. one for a different binding).
    pub fn push_answer(&self, ticket: &str, answer: ApprovalAnswer) {
        if let Ok(mut s) = self.state.lock() {
            s.answers.push((ticket.to_owned(), answer));
        }
    }
}

#[async_trait]
impl ApprovalChannel for FakeApprovals {
    async fn ask(&self, ask: &ApprovalAsk) -> PortResult<AskReceipt> {
        self.faults.check("ask")?;
        let mut s = self
            .state
            .lock()
            .map_err(|_| PortError::permanent("fake approvals poisoned"))?;
        if !s
            .asks
            .iter()
            .any(|a| a.idempotency_key == ask.idempotency_key)
        {
            s.cancelled
                .retain(|(t, st)| !(t == ask.ticket.as_str() && **st == *ask.stage));
            s.asks.push(ask.clone());
        }
        Ok(AskReceipt {
            references: vec![ask.idempotency_key.clone()],
        })
    }

    async fn answers(&self, ticket: &TicketRef) -> PortResult<Vec<ApprovalAnswer>> {
        self.faults.check("answers")?;
        let s = self
            .state
            .lock()
            .map_err(|_| PortError::permanent("fake approvals poisoned"))?;
        Ok(s.answers
            .iter()
            .filter(|(t, _)| t == ticket.as_str())
            .map(|(_, a)| a.clone())
            .collect())
    }

    async fn cancel(&self, ticket: &TicketRef, stage: &str, _reason: &str) -> PortResult<()> {
        self.faults.check("cancel")?;
        let mut s = self
            .state
            .lock()
            .map_err(|_| PortError::permanent("fake approvals poisoned"))?;
        s.cancelled.push((ticket.to_string(), stage.to_owned()));
        Ok(())
    }

    async fn notify(&self, notice: &Notice) -> PortResult<()> {
        self.faults.check("notify")?;
        let mut s = self
            .state
            .lock()
            .map_err(|_| PortError::permanent("fake approvals poisoned"))?;
        if !s
            .notices
            .iter()
            .any(|n| n.idempotency_key == notice.idempotency_key)
        {
            s.notices.push(notice.clone());
        }
        Ok(())
    }
}
