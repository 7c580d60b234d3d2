//! Executing one command through the ports.

use crate::engine::Engine;
use groupgate_core::audit::{Actor, Entry};
use groupgate_core::ports::{
    ApprovalAsk, ApprovalDecision, Notice, PortError, PortResult, TicketUpdate, Timer,
};
use groupgate_core::workflow::{Action, Command, Event, Workflow};
use groupgate_core::{Facts, GroupId, MembershipState};

impl Engine {
    /// Executes `command` for `wf`; the event it produces, if any.
    pub(crate) async fn execute(
        &self,
        wf: &Workflow,
        command: &Command,
    ) -> Result<Option<Event>, ExecError> {
        let ticket = &wf.request.ticket;
        let p = &self.ports;
        match &command.action {
            Action::Evaluate { recheck } => {
                let facts = self.gather_facts(wf).await.map_err(ExecError::Port)?;
                let now = p.clock.now();
                let decision = self.policy.evaluate(&wf.request, &facts, now);
                let target = facts.target.as_ref().map(|t| t.id.clone());
                self.record(
                    &wf.id,
                    Actor::System,
                    Entry::Evaluation {
                        request: wf.request.clone(),
                        facts: Box::new(facts),
                        now,
                        decision: Box::new(decision.clone()),
                        recheck: *recheck,
                    },
                )
                .await
                .map_err(ExecError::Store)?;
                let decision = Box::new(decision);
                Ok(Some(if *recheck {
                    Event::Rechecked { decision, target }
                } else {
                    Event::Evaluated { decision, target }
                }))
            }
            Action::UpdateTicket { state, note } => {
                let update = TicketUpdate {
                    state: *state,
                    work_note: note.clone(),
                    idempotency_key: command.key.clone(),
                };
                p.tickets
                    .update(ticket, &update)
                    .await
                    .map_err(ExecError::Port)?;
                Ok(None)
            }
            Action::RequestApproval {
                stage,
                approvers,
                binding,
                escalation,
            } => {
                let group = wf
                    .decision
                    .as_ref()
                    .and_then(|d| d.group.as_ref())
                    .map(|g| g.key.to_string())
                    .unwrap_or_default();
                let summary = format!(
                    "{}approve `{}` joining `{group}` ({}), stage `{stage}`",
                    if *escalation { "escalated: " } else { "" },
                    wf.request.target,
                    wf.request.ticket
                );
                let ask = ApprovalAsk {
                    ticket: ticket.clone(),
                    stage: stage.clone(),
                    approvers: approvers.clone(),
                    summary,
                    binding: binding.clone(),
                    idempotency_key: command.key.clone(),
                };
                p.approvals.ask(&ask).await.map_err(ExecError::Port)?;
                Ok(None)
            }
            Action::CancelApprovals { stage } => {
                p.approvals
                    .cancel(ticket, stage)
                    .await
                    .map_err(ExecError::Port)?;
                Ok(None)
            }
            Action::RecordApproval {
                stage,
                approver,
                verdict,
                channel,
            } => {
                let decision = ApprovalDecision {
                    stage: stage.clone(),
                    approver: approver.clone(),
                    verdict: *verdict,
                    channel: channel.clone(),
                    at: p.clock.now(),
                    idempotency_key: command.key.clone(),
                };
                p.tickets
                    .record_approval(ticket, &decision)
                    .await
                    .map_err(ExecError::Port)?;
                Ok(None)
            }
            Action::AddMember { group, user } => {
                let receipt = p
                    .identity
                    .add_member(group, user)
                    .await
                    .map_err(ExecError::Port)?;
                Ok(Some(Event::MemberAdded { receipt }))
            }
            Action::CheckMembership { group, user } => {
                let state = p
                    .identity
                    .membership(group, user)
                    .await
                    .map_err(ExecError::Port)?;
                Ok(Some(Event::MembershipObserved { state }))
            }
            Action::RemoveMember { group, user } => {
                let receipt = p
                    .identity
                    .remove_member(group, user)
                    .await
                    .map_err(ExecError::Port)?;
                Ok(Some(Event::MemberRemoved { receipt }))
            }
            Action::Notify { kind, text } => {
                let notice = Notice {
                    ticket: ticket.clone(),
                    kind: *kind,
                    text: text.clone(),
                    idempotency_key: command.key.clone(),
                };
                p.approvals.notify(&notice).await.map_err(ExecError::Port)?;
                Ok(None)
            }
            Action::CancelWake { purpose } => {
                let purpose = serde_json::to_value(purpose)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                p.store
                    .cancel_timer(&wf.id, &purpose)
                    .await
                    .map_err(ExecError::Port)?;
                Ok(None)
            }
            Action::WakeAt { at, purpose } => {
                let purpose = serde_json::to_value(purpose)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                let timer = Timer {
                    workflow: wf.id.clone(),
                    at: *at,
                    purpose,
                };
                p.store.schedule(&timer).await.map_err(ExecError::Port)?;
                Ok(None)
            }
        }
    }

    /// Reads everything the evaluator needs from the directory.
    pub(crate) async fn gather_facts(&self, wf: &Workflow) -> PortResult<Facts> {
        let identity = &self.ports.identity;
        let request = &wf.request;
        let resolution = self.policy.resolve(request);
        let requester = identity.user(&request.requester).await?;
        let target = identity.user(&request.target).await?;
        let (target_manager, target_groups) = match &target {
            Some(t) => (
                identity.manager(&t.id).await?,
                identity
                    .member_of(&t.id, &self.policy.governed_group_ids())
                    .await?,
            ),
            None => (None, Vec::new()),
        };
        let group_id = resolution.object_id().map(GroupId::new);
        let group = match &group_id {
            Some(g) => identity.group(g).await?,
            None => None,
        };
        let membership = match (&group_id, &target) {
            (Some(g), Some(t)) => identity.membership(g, &t.id).await?,
            _ => MembershipState::NotMember,
        };
        Ok(Facts {
            requester,
            target,
            target_manager,
            group,
            membership,
            target_groups,
        })
    }
}

/// Why a command did not produce its event.
pub(crate) enum ExecError {
    /// The port failed: the workflow handles it.
    Port(PortError),
    /// The store failed: the engine stops.
    Store(crate::EngineError),
}
