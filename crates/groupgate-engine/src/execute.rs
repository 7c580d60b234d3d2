//! Executing one command through the ports; the event its outcome feeds.

use crate::{Engine, EngineError};
use groupgate_core::ports::{ApprovalAsk, ApprovalDecision, Notice, PortError, TicketUpdate};
use groupgate_core::workflow::{Action, Command, Event, Workflow};

/// Why a command did not produce its event.
pub(crate) enum ExecError {
    /// The port failed: the workflow handles it.
    Port(PortError),
    /// The store failed: the engine stops.
    Store(EngineError),
}

/// The marker an anchored work note ends with.
pub fn anchor_marker(head: &groupgate_core::audit::ChainHead) -> String {
    format!(
        "[groupgate audit anchor seq={} hash={}]",
        head.seq, head.hash
    )
}

impl Engine {
    /// Executes `command` for `wf`; the event its outcome feeds back.
    pub(crate) async fn execute(
        &self,
        wf: &Workflow,
        command: &Command,
    ) -> Result<Event, ExecError> {
        let ticket = &wf.request.ticket;
        let p = &self.ports;
        let key = command.key.clone();
        let done = |detail: Option<serde_json::Value>| Event::EffectDone {
            key: key.clone(),
            detail,
        };
        match &command.action {
            Action::Evaluate { recheck } => {
                // One policy for the facts and the decision, whatever a
                // reload does meanwhile.
                let policy = self.policy();
                let facts = self
                    .gather_facts(&policy, wf, *recheck)
                    .await
                    .map_err(ExecError::Port)?;
                let now = self.now();
                let decision = Box::new(policy.evaluate(&wf.request, &facts, now));
                let facts = Box::new(facts);
                Ok(if *recheck {
                    Event::Rechecked {
                        key,
                        facts,
                        decision,
                    }
                } else {
                    Event::Evaluated {
                        key,
                        facts,
                        decision,
                    }
                })
            }
            Action::UpdateTicket {
                state,
                note,
                anchor,
            } => {
                let mut work_note = note.clone();
                let mut detail = None;
                if *anchor
                    && let Some(head) = p
                        .store
                        .head()
                        .await
                        .map_err(|e| ExecError::Store(EngineError::Store(e)))?
                {
                    work_note.push('\n');
                    work_note.push_str(&anchor_marker(&head));
                    detail = Some(serde_json::json!({ "anchor": head.to_string() }));
                }
                let update = TicketUpdate {
                    state: *state,
                    work_note,
                    idempotency_key: command.key.clone(),
                };
                p.tickets
                    .update(ticket, &update)
                    .await
                    .map_err(ExecError::Port)?;
                Ok(done(detail))
            }
            Action::RequestApproval {
                stage,
                approvers,
                binding,
                escalation,
                deadline,
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
                    escalation: *escalation,
                    deadline: *deadline,
                    idempotency_key: command.key.clone(),
                    channels: stage_of(wf, stage)
                        .map(|s| s.channels.iter().map(|c| c.to_string()).collect())
                        .unwrap_or_default(),
                    details: ask_details(wf, stage),
                };
                let receipt = p.approvals.ask(&ask).await.map_err(ExecError::Port)?;
                let detail = (!receipt.references.is_empty())
                    .then(|| serde_json::json!({ "references": receipt.references }));
                Ok(done(detail))
            }
            Action::CancelApprovals { stage, reason } => {
                p.approvals
                    .cancel(ticket, stage, reason)
                    .await
                    .map_err(ExecError::Port)?;
                Ok(done(None))
            }
            Action::RecordApproval {
                stage,
                approver,
                approver_id,
                verdict,
                channel,
                at,
                comment,
            } => {
                let decision = ApprovalDecision {
                    stage: stage.clone(),
                    approver: approver.clone(),
                    approver_id: approver_id.clone(),
                    verdict: *verdict,
                    channel: channel.clone(),
                    at: at.unwrap_or_else(|| self.now()),
                    comment: comment.clone(),
                    idempotency_key: command.key.clone(),
                };
                p.tickets
                    .record_approval(ticket, &decision)
                    .await
                    .map_err(ExecError::Port)?;
                Ok(done(None))
            }
            Action::AddMember { group, user } => {
                let receipt = p
                    .identity
                    .add_member(group, user)
                    .await
                    .map_err(ExecError::Port)?;
                self.members.forget(group);
                Ok(Event::MemberAdded { key, receipt })
            }
            Action::CheckMembership { group, user } => {
                let state = p
                    .identity
                    .membership(group, user)
                    .await
                    .map_err(ExecError::Port)?;
                Ok(Event::MembershipObserved { key, state })
            }
            Action::RemoveMember { group, user } => {
                let receipt = p
                    .identity
                    .remove_member(group, user)
                    .await
                    .map_err(ExecError::Port)?;
                self.members.forget(group);
                Ok(Event::MemberRemoved { key, receipt })
            }
            Action::Notify { kind, text } => {
                let notice = Notice {
                    ticket: ticket.clone(),
                    kind: *kind,
                    text: text.clone(),
                    idempotency_key: command.key.clone(),
                    requester: wf.requester.as_ref().map(|id| groupgate_core::Approver {
                        id: id.clone(),
                        name: wf.request.requester.as_str().into(),
                        role: "requester".into(),
                    }),
                };
                p.approvals.notify(&notice).await.map_err(ExecError::Port)?;
                Ok(done(None))
            }
        }
    }
}

/// The decision's stage named `stage`, if the workflow has a decision.
fn stage_of<'a>(
    wf: &'a groupgate_core::workflow::Workflow,
    stage: &str,
) -> Option<&'a groupgate_core::ApprovalStage> {
    wf.decision
        .as_ref()?
        .stages
        .iter()
        .find(|s| &*s.name == stage)
}

/// What approvers of `stage` are shown, from the workflow's request and
/// decision.
fn ask_details(
    wf: &groupgate_core::workflow::Workflow,
    stage: &str,
) -> Option<groupgate_core::ports::AskDetails> {
    let decision = wf.decision.as_ref()?;
    let group = decision.group.as_ref()?;
    let index = decision.stages.iter().position(|s| &*s.name == stage)?;
    Some(groupgate_core::ports::AskDetails {
        requester: wf.request.requester.clone(),
        target: wf.request.target.clone(),
        group: group.key.to_string(),
        group_name: group.display_name.as_deref().map(str::to_owned),
        group_object_id: group.object_id.to_string(),
        risk: json_name(&group.risk),
        tags: group.tags.iter().map(|t| t.to_string()).collect(),
        end_date: decision.expiry.as_ref().and_then(|e| e.end_date),
        max_duration_seconds: decision
            .expiry
            .as_ref()
            .and_then(|e| e.max_duration_seconds),
        justification: wf.request.justification.clone(),
        reasons: decision.reasons.iter().map(|r| r.message()).collect(),
        stage_index: index,
        stage_count: decision.stages.len(),
        required: decision.stages.get(index).map(|s| s.required).unwrap_or(1),
    })
}

/// A serde enum's name in the JSON (`high`, …).
fn json_name<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
