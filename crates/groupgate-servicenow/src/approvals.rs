//! Approval records (`sysapproval_approver`) as an approval channel.

use crate::ServiceNowClient;
use crate::client::field;
use crate::config::ApprovalMode;
use crate::tickets::parse_when;
use async_trait::async_trait;
use groupgate_core::TicketRef;
use groupgate_core::ports::{
    ApprovalAsk, ApprovalChannel, AskReceipt, ErrorClass, Notice, NoticeKind, PortError, PortResult,
};
use groupgate_core::workflow::{ApprovalAnswer, Verdict};
use serde_json::json;
use std::sync::Arc;

fn marker(stage: &str, binding: &str) -> String {
    format!("[groupgate stage={stage} binding={binding}]")
}

fn parse_marker(text: &str) -> Option<(Arc<str>, String)> {
    let start = text.find("[groupgate stage=")? + "[groupgate stage=".len();
    let rest = &text[start..];
    let (stage, rest) = rest.split_once(" binding=")?;
    let (binding, _) = rest.split_once(']')?;
    Some((Arc::from(stage), binding.to_owned()))
}

impl ServiceNowClient {
    /// The stage and binding an approval record was created for.
    async fn record_stage(
        &self,
        ticket: &TicketRef,
        record: &str,
    ) -> PortResult<Option<(Arc<str>, String)>> {
        if let Some(known) = self.asked_records.lock().await.get(record) {
            return Ok(Some(known.clone()));
        }
        if self.config.approvals == ApprovalMode::ReadFlowCreated {
            return Ok(self.open_asks.lock().await.get(ticket.as_str()).cloned());
        }
        let notes = self
            .query(
                "sys_journal_field",
                &format!("element_id={record}^element=comments"),
                "value",
                20,
            )
            .await?;
        Ok(notes.iter().find_map(|n| parse_marker(&field(n, "value"))))
    }
}

#[async_trait]
impl ApprovalChannel for ServiceNowClient {
    async fn ask(&self, ask: &ApprovalAsk) -> PortResult<AskReceipt> {
        let ritm = self.ritm_sys_id(&ask.ticket).await?;
        self.open_asks.lock().await.insert(
            ask.ticket.to_string(),
            (Arc::clone(&ask.stage), ask.binding.clone()),
        );
        let mut references = Vec::new();
        if self.config.approvals == ApprovalMode::ReadFlowCreated {
            return Ok(AskReceipt { references });
        }
        for approver in &ask.approvers {
            let user = self.user_sys_id(approver).await?.ok_or_else(|| {
                PortError::new(
                    ErrorClass::Invalid,
                    format!("approver `{approver}` has no sys_user record"),
                )
            })?;
            let existing = self
                .query(
                    "sysapproval_approver",
                    &format!("sysapproval={ritm}^approver={user}^state=requested"),
                    "sys_id",
                    5,
                )
                .await?;
            let id = match existing.first() {
                Some(r) => field(r, "sys_id"),
                None => {
                    let record = json!({
                        "sysapproval": ritm, "document_id": ritm, "source_table": "sc_req_item",
                        "approver": user, "state": "requested",
                        "comments": format!("{} {}", ask.summary, marker(&ask.stage, &ask.binding)),
                    });
                    self.insert("sysapproval_approver", &record).await?
                }
            };
            self.asked_records
                .lock()
                .await
                .insert(id.clone(), (Arc::clone(&ask.stage), ask.binding.clone()));
            references.push(id);
        }
        Ok(AskReceipt { references })
    }

    async fn answers(&self, ticket: &TicketRef) -> PortResult<Vec<ApprovalAnswer>> {
        let ritm = self.ritm_sys_id(ticket).await?;
        let records = self
            .query(
                "sysapproval_approver",
                &format!("sysapproval={ritm}^stateINapproved,rejected^ORDERBYsys_updated_on"),
                "sys_id,approver,state,sys_updated_on",
                500,
            )
            .await?;
        let mut out = Vec::new();
        for r in records {
            let id = field(&r, "sys_id");
            let Some((stage, binding)) = self.record_stage(ticket, &id).await? else {
                continue;
            };
            let Some(approver) = self.user_email(&field(&r, "approver")).await? else {
                continue;
            };
            let Some(at) = parse_when(&field(&r, "sys_updated_on")) else {
                continue;
            };
            out.push(ApprovalAnswer {
                stage,
                approver: Arc::from(approver),
                verdict: if field(&r, "state") == "approved" {
                    Verdict::Approve
                } else {
                    Verdict::Reject
                },
                comment: None,
                channel: "servicenow".to_owned(),
                at,
                binding,
            });
        }
        Ok(out)
    }

    async fn cancel(&self, ticket: &TicketRef, stage: &str) -> PortResult<()> {
        let ritm = self.ritm_sys_id(ticket).await?;
        let open = self
            .query(
                "sysapproval_approver",
                &format!("sysapproval={ritm}^state=requested"),
                "sys_id",
                500,
            )
            .await?;
        for r in open {
            let id = field(&r, "sys_id");
            let of_stage = self
                .record_stage(ticket, &id)
                .await?
                .is_some_and(|(s, _)| &*s == stage);
            if of_stage || self.config.approvals == ApprovalMode::ReadFlowCreated {
                self.patch(
                    "sysapproval_approver",
                    &id,
                    &json!({"state": "not_required"}),
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn notify(&self, notice: &Notice) -> PortResult<()> {
        let ritm = self.ritm_sys_id(&notice.ticket).await?;
        let kind = if notice.kind == NoticeKind::Success {
            "success"
        } else {
            "FAILURE"
        };
        self.note_once(
            &ritm,
            &notice.idempotency_key,
            &format!("groupgate notice ({kind}): {}", notice.text),
            json!({}),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_round_trip() {
        let m = marker("data-owner", "sha256:abc");
        assert_eq!(
            parse_marker(&format!("Please approve {m}")),
            Some((Arc::from("data-owner"), "sha256:abc".to_owned()))
        );
        assert_eq!(parse_marker("nothing here"), None);
    }
}
