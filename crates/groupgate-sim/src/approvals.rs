//! Fake approvers: asks are recorded; tests and the demo answer them.
//! Asks, cancellations and answers are kept per ticket and asks and notices
//! are de-duplicated through sets, so every call costs the same however many
//! tickets the simulation holds.

use crate::{Faults, SimClock};
use async_trait::async_trait;
use groupgate_core::TicketRef;
use groupgate_core::ports::{
    ApprovalAsk, ApprovalChannel, AskReceipt, Clock, Notice, PortError, PortResult,
};
use groupgate_core::workflow::{ApprovalAnswer, Verdict};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

#[derive(Debug, Default)]
struct State {
    /// Every ask, oldest first.
    asks: Vec<ApprovalAsk>,
    ask_keys: HashSet<String>,
    tickets: HashMap<String, TicketApprovals>,
    notices: Vec<Notice>,
    notice_keys: HashSet<String>,
    /// Every cancellation: (ticket, stage, reason), in order.
    cancellations: Vec<(String, String, String)>,
}

/// One ticket's asks (positions in `State::asks`), withdrawn stages and answers.
#[derive(Debug, Default)]
struct TicketApprovals {
    asks: Vec<usize>,
    cancelled: HashSet<String>,
    answers: Vec<ApprovalAnswer>,
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

    /// Every cancellation asked for: (ticket, stage, reason), oldest first.
    pub fn cancellations(&self) -> Vec<(String, String, String)> {
        self.state
            .lock()
            .map(|s| s.cancellations.clone())
            .unwrap_or_default()
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
        let state = &mut *s;
        let entry = state.tickets.get_mut(ticket)?;
        let ask = entry
            .asks
            .iter()
            .rev()
            .filter_map(|&i| state.asks.get(i))
            .find(|a| !entry.cancelled.contains(&*a.stage))?
            .clone();
        entry.answers.push(ApprovalAnswer {
            stage: Arc::clone(&ask.stage),
            approver: Arc::from(approver),
            approver_id: None,
            verdict,
            comment: None,
            channel: channel.to_owned(),
            at: now,
            binding: ask.binding.clone(),
        });
        Some(ask.stage.to_string())
    }

    /// Records an arbitrary answer (e.g. one for a different binding).
    pub fn push_answer(&self, ticket: &str, answer: ApprovalAnswer) {
        if let Ok(mut s) = self.state.lock() {
            s.tickets
                .entry(ticket.to_owned())
                .or_default()
                .answers
                .push(answer);
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
        if s.ask_keys.insert(ask.idempotency_key.clone()) {
            let position = s.asks.len();
            s.asks.push(ask.clone());
            let entry = s.tickets.entry(ask.ticket.to_string()).or_default();
            entry.cancelled.remove(&*ask.stage);
            entry.asks.push(position);
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
        Ok(s.tickets
            .get(ticket.as_str())
            .map(|t| t.answers.clone())
            .unwrap_or_default())
    }

    async fn cancel(&self, ticket: &TicketRef, stage: &str, reason: &str) -> PortResult<()> {
        self.faults.check("cancel")?;
        let mut s = self
            .state
            .lock()
            .map_err(|_| PortError::permanent("fake approvals poisoned"))?;
        s.cancellations
            .push((ticket.to_string(), stage.to_owned(), reason.to_owned()));
        s.tickets
            .entry(ticket.to_string())
            .or_default()
            .cancelled
            .insert(stage.to_owned());
        Ok(())
    }

    async fn notify(&self, notice: &Notice) -> PortResult<()> {
        self.faults.check("notify")?;
        let mut s = self
            .state
            .lock()
            .map_err(|_| PortError::permanent("fake approvals poisoned"))?;
        if s.notice_keys.insert(notice.idempotency_key.clone()) {
            s.notices.push(notice.clone());
        }
        Ok(())
    }
}
