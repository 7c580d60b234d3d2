//! Collecting approvers' answers: each fed once, the approver mapped to a
//! directory object id first (an answer without one never counts).

use crate::{Engine, EngineError, PassReport};
use groupgate_core::WorkflowId;
use groupgate_core::audit::Actor;
use groupgate_core::ports::{ErrorClass, WorkflowFilter};
use groupgate_core::workflow::{ApprovalAnswer, Event, Phase, Workflow};

/// What came of an answer fed with [`Engine::answer`].
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerOutcome {
    /// Whether the state machine counted it.
    pub counted: bool,
    /// Why it did not count (recorded in the audit trail), when it did not.
    pub refusal: Option<String>,
    /// The workflow afterwards.
    pub workflow: Workflow,
}

impl Engine {
    /// Feeds the approvers' new answers for a workflow.
    pub async fn collect_answers(&self, id: &WorkflowId) -> Result<Workflow, EngineError> {
        let _held = self.locks.hold(id).await;
        let mut loaded = self
            .load(id)
            .await?
            .ok_or_else(|| EngineError::UnknownWorkflow(id.clone()))?;
        self.resume(&mut loaded).await?;
        if !matches!(loaded.wf.phase, Phase::AwaitingApproval { .. }) {
            return Ok(loaded.wf);
        }
        let answers = match self
            .ports
            .approvals
            .answers(&loaded.wf.request.ticket)
            .await
        {
            Ok(a) => a,
            // The channel is down: try again at the next collection.
            Err(e) if matches!(e.class, ErrorClass::Transient { .. }) => return Ok(loaded.wf),
            Err(e) => return Err(EngineError::Approvals(e)),
        };
        crate::crash::point("answers:collected");
        for answer in answers {
            if !matches!(loaded.wf.phase, Phase::AwaitingApproval { .. }) {
                break;
            }
            if loaded.seen_answers.iter().any(|s| s.same_delivery(&answer)) {
                continue;
            }
            let Some(answer) = self.identify(answer).await else {
                continue;
            };
            // The record of an answer already given through another
            // channel (a chat approval written to ServiceNow) is not a
            // second answer.
            if loaded.seen_answers.iter().any(|s| s.echoes(&answer)) {
                continue;
            }
            let actor = Actor::Approver(answer.approver.to_string());
            self.step(&mut loaded, Event::Answered { answer }, actor)
                .await?;
            self.drive(&mut loaded).await?;
        }
        Ok(loaded.wf)
    }

    /// Feeds one answer that arrived outside the approval channel's own
    /// collection — a verified click in a chat card, an answer recorded by a
    /// binding's caller — to the workflow of `ticket`, and drives it on.
    /// The approver is mapped to a directory object id first (unless the
    /// channel authenticated one, which must exist); the state machine then
    /// decides whether it counts (an ineligible person, a stale binding or a
    /// workflow no longer awaiting approval is recorded as refused). The
    /// same answer fed twice counts once.
    ///
    /// A directory that cannot be asked now is [`EngineError::Directory`]:
    /// nothing was recorded, and the answer can be fed again.
    pub async fn answer(
        &self,
        ticket: &WorkflowId,
        answer: ApprovalAnswer,
    ) -> Result<AnswerOutcome, EngineError> {
        self.feed_answer(ticket, answer, true).await
    }

    /// [`Engine::answer`] without driving the workflow on: the answer is
    /// recorded (one commit) and what it leads to (the next stage's asks,
    /// the change) is left to [`Engine::drive_workflow`] or the next pass.
    /// For a chat endpoint that must answer a click within seconds.
    pub async fn record_answer(
        &self,
        ticket: &WorkflowId,
        answer: ApprovalAnswer,
    ) -> Result<AnswerOutcome, EngineError> {
        self.feed_answer(ticket, answer, false).await
    }

    /// Drives a workflow on: effects in flight resolved, everything ready
    /// executed, until it waits or ends.
    pub async fn drive_workflow(&self, id: &WorkflowId) -> Result<Workflow, EngineError> {
        let _held = self.locks.hold(id).await;
        let mut loaded = self
            .load(id)
            .await?
            .ok_or_else(|| EngineError::UnknownWorkflow(id.clone()))?;
        self.resume(&mut loaded).await?;
        Ok(loaded.wf)
    }

    async fn feed_answer(
        &self,
        ticket: &WorkflowId,
        answer: ApprovalAnswer,
        drive: bool,
    ) -> Result<AnswerOutcome, EngineError> {
        let _held = self.locks.hold(ticket).await;
        let mut loaded = self
            .load(ticket)
            .await?
            .ok_or_else(|| EngineError::UnknownWorkflow(ticket.clone()))?;
        if drive {
            self.resume(&mut loaded).await?;
        }
        if loaded.seen_answers.iter().any(|s| s.same_delivery(&answer)) {
            return Ok(AnswerOutcome {
                counted: false,
                refusal: Some("this answer was already recorded".to_owned()),
                workflow: loaded.wf,
            });
        }
        let key = answer
            .approver_id
            .as_ref()
            .map(|id| id.to_string())
            .unwrap_or_else(|| answer.approver.to_string());
        let answer = match self.identify(answer).await {
            Some(a) => a,
            None => {
                return Err(EngineError::Directory(
                    groupgate_core::ports::PortError::transient(
                        format!(
                            "the directory could not be asked who `{key}` is; feed the answer again"
                        ),
                        None,
                    ),
                ));
            }
        };
        let refusal = loaded.wf.answer_refusal(&answer);
        let actor = Actor::Approver(answer.approver.to_string());
        let applied = self
            .step(&mut loaded, Event::Answered { answer }, actor)
            .await?;
        let refusal = match (applied, refusal) {
            (true, refusal) => refusal,
            (false, Some(why)) => Some(why),
            (false, None) => self.last_refusal(&loaded.wf.id, loaded.version).await?,
        };
        let counted = refusal.is_none();
        if drive {
            self.drive(&mut loaded).await?;
        }
        Ok(AnswerOutcome {
            counted,
            refusal,
            workflow: loaded.wf,
        })
    }

    /// Why the workflow's last record refused its event, if it did.
    async fn last_refusal(
        &self,
        id: &WorkflowId,
        version: u64,
    ) -> Result<Option<String>, EngineError> {
        let records = self
            .ports
            .store
            .records(id, version.saturating_sub(1))
            .await
            .map_err(EngineError::Store)?;
        Ok(records.last().and_then(|r| match &r.entry {
            groupgate_core::audit::Entry::Refused { reason, .. } => Some(reason.clone()),
            _ => None,
        }))
    }

    /// Maps the channel's identity of the approver to a directory object id
    /// (unless the channel gave one, which must exist in the directory).
    /// `None` when the directory cannot be asked now: the answer is taken up
    /// at the next collection.
    async fn identify(&self, mut answer: ApprovalAnswer) -> Option<ApprovalAnswer> {
        let key = match &answer.approver_id {
            Some(id) => id.to_string(),
            None => answer.approver.to_string(),
        };
        match self.ports.identity.user(&key).await {
            Ok(Some(user)) => answer.approver_id = Some(user.id),
            // Unknown to the directory: fed without an id, and refused.
            Ok(None) => answer.approver_id = None,
            Err(_) => return None,
        }
        Some(answer)
    }

    /// Feeds new answers to every workflow waiting for approvals (found in
    /// the index, not by reading every workflow). A workflow that fails is
    /// recorded and the pass goes on.
    pub async fn collect_all_answers(&self) -> Result<PassReport, EngineError> {
        let filter = WorkflowFilter {
            phase: Some("awaiting_approval".to_owned()),
            ..WorkflowFilter::default()
        };
        let mut report = PassReport::default();
        for row in self.summaries(&filter).await? {
            if self.stop.is_stopped() {
                break;
            }
            match self.collect_answers(&row.id).await {
                Ok(_) => report.stepped.push(row.id),
                Err(e) => {
                    self.isolate(&mut report, &row.id, "collect_answers", e)
                        .await?
                }
            }
        }
        Ok(report)
    }
}
