//! Collecting approvers' answers: each fed once, the approver mapped to a
//! directory object id first (an answer without one never counts).

use crate::{Engine, EngineError, PassReport};
use groupgate_core::WorkflowId;
use groupgate_core::audit::Actor;
use groupgate_core::ports::{ErrorClass, WorkflowFilter};
use groupgate_core::workflow::{ApprovalAnswer, Event, Phase, Workflow};

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
            let actor = Actor::Approver(answer.approver.to_string());
            self.step(&mut loaded, Event::Answered { answer }, actor)
                .await?;
            self.drive(&mut loaded).await?;
        }
        Ok(loaded.wf)
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
