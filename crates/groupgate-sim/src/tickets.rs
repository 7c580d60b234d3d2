//! Fake tickets: requests, states and the work-note journal.

use crate::Faults;
use async_trait::async_trait;
use groupgate_core::ports::{
    ApprovalDecision, PortError, PortResult, TicketState, TicketSystem, TicketUpdate,
};
use groupgate_core::workflow::Verdict;
use groupgate_core::{Request, TicketRef};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// One fake ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketRecord {
    /// The request it carries.
    pub request: Request,
    /// The state groupgate last set.
    pub state: Option<TicketState>,
    /// Work notes, oldest first.
    pub notes: Vec<String>,
    /// Approval decisions recorded, oldest first.
    pub approvals: Vec<ApprovalDecision>,
    keys: Vec<String>,
}

/// Fake tickets, keyed by ticket reference.
#[derive(Debug, Default)]
pub struct FakeTickets {
    tickets: Mutex<BTreeMap<String, TicketRecord>>,
    faults: Faults,
}

impl FakeTickets {
    /// Opens a ticket for `request`.
    pub fn open(&self, request: Request) {
        if let Ok(mut t) = self.tickets.lock() {
            t.insert(
                request.ticket.to_string(),
                TicketRecord {
                    request,
                    state: None,
                    notes: Vec::new(),
                    approvals: Vec::new(),
                    keys: Vec::new(),
                },
            );
        }
    }

    /// The ticket, if it exists.
    pub fn ticket(&self, ticket: &str) -> Option<TicketRecord> {
        self.tickets
            .lock()
            .ok()
            .and_then(|t| t.get(ticket).cloned())
    }

    /// Scripted failures (`read_request`, `update`, `record_approval`).
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Applies `write` to the ticket once per idempotency key.
    fn write_once(
        &self,
        ticket: &TicketRef,
        key: &str,
        write: impl FnOnce(&mut TicketRecord),
    ) -> PortResult<()> {
        let mut t = self
            .tickets
            .lock()
            .map_err(|_| PortError::permanent("fake tickets poisoned"))?;
        let record = t
            .get_mut(ticket.as_str())
            .ok_or_else(|| PortError::not_found(format!("No Record found: {ticket}")))?;
        if !record.keys.iter().any(|k| k == key) {
            record.keys.push(key.to_owned());
            write(record);
        }
        Ok(())
    }
}

#[async_trait]
impl TicketSystem for FakeTickets {
    async fn read_request(&self, ticket: &TicketRef) -> PortResult<Request> {
        self.faults.check("read_request")?;
        self.ticket(ticket)
            .map(|t| t.request)
            .ok_or_else(|| PortError::not_found(format!("No Record found: {ticket}")))
    }

    async fn update(&self, ticket: &TicketRef, update: &TicketUpdate) -> PortResult<()> {
        self.faults.check("update")?;
        self.write_once(ticket, &update.idempotency_key, |record| {
            if let Some(state) = update.state {
                record.state = Some(state);
            }
            record.notes.push(update.work_note.clone());
        })
    }

    async fn record_approval(
        &self,
        ticket: &TicketRef,
        decision: &ApprovalDecision,
    ) -> PortResult<()> {
        self.faults.check("record_approval")?;
        self.write_once(ticket, &decision.idempotency_key, |record| {
            let what = if decision.verdict == Verdict::Approve {
                "approved"
            } else {
                "rejected"
            };
            record.notes.push(format!(
                "approval record: `{}` {what} stage `{}` via {}",
                decision.approver, decision.stage, decision.channel
            ));
            record.approvals.push(decision.clone());
        })
    }
}
