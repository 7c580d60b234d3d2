//! Approval records (`sysapproval_approver`) as an approval channel.

use crate::ServiceNowClient;
use crate::client::field;
use crate::config::ApprovalMode;
use crate::tickets::parse_when;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use groupgate_core::TicketRef;
use groupgate_core::ports::{
    ApprovalAsk, ApprovalChannel, AskReceipt, Notice, NoticeKind, PortResult,
};
use groupgate_core::workflow::{ApprovalAnswer, Verdict};
use serde_json::json;
use std::sync::Arc;

/// What an approval record (or, for flow-created records, the RITM) says it
/// was asked for: the stage, the binding, and on records groupgate created
/// the one `sys_user` allowed to answer it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Marker {
    pub(crate) stage: Arc<str>,
    pub(crate) binding: String,
    pub(crate) approver: Option<String>,
}

fn marker(stage: &str, binding: &str, approver: Option<&str>) -> String {
    match approver {
        Some(a) => format!("[groupgate stage={stage} binding={binding} approver={a}]"),
        None => format!("[groupgate stage={stage} binding={binding}]"),
    }
}

fn parse_marker(text: &str) -> Option<Marker> {
    let start = text.find("[groupgate stage=")? + "[groupgate stage=".len();
    let rest = &text[start..];
    let (stage, rest) = rest.split_once(" binding=")?;
    let (inner, _) = rest.split_once(']')?;
    let (binding, approver) = match inner.split_once(" approver=") {
        Some((b, a)) => (b, Some(a.to_owned())),
        None => (inner, None),
    };
    Some(Marker {
        stage: Arc::from(stage),
        binding: binding.to_owned(),
        approver,
    })
}

/// A stage asked of the instance's flow, as recorded in the RITM's work notes.
#[derive(Debug, Clone)]
struct FlowAsk {
    at: DateTime<Utc>,
    stage: Arc<str>,
    binding: String,
}

/// The stage an answer given at `at` belongs to: the newest stage asked
/// before it (the flow asks a stage's approvers after groupgate asks for the
/// stage, and nobody answers a record before it exists). Times have
/// one-second resolution: an ask in the same second as the answer is taken
/// only when no earlier one exists, because the engine asks the next stage
/// right after collecting the answer that completed the previous one.
fn stage_at(asks: &[FlowAsk], at: DateTime<Utc>) -> Option<(Arc<str>, String)> {
    let before = asks.iter().filter(|a| a.at < at).max_by_key(|a| a.at);
    let same_second = || asks.iter().filter(|a| a.at == at).min_by_key(|a| a.at);
    before
        .or_else(same_second)
        .map(|a| (Arc::clone(&a.stage), a.binding.clone()))
}

impl ServiceNowClient {
    /// The stage, binding and bound approver groupgate created an approval
    /// record for (from memory, else from the marker in its comments).
    async fn record_stage(&self, record: &str) -> PortResult<Option<Marker>> {
        if let Some(known) = self.asked_records.lock().await.get(record) {
            return Ok(Some(known.clone()));
        }
        // The newest marker counts: a record reused for a later ask was
        // marked again (see `ask`).
        let notes = self
            .query(
                "sys_journal_field",
                &format!("element_id={record}^element=comments^ORDERBYDESCsys_created_on"),
                "value",
                20,
            )
            .await?;
        let found = notes.iter().find_map(|n| parse_marker(&field(n, "value")));
        if let Some(known) = &found {
            // Remembered, so later polls do not read the comments again.
            self.asked_records
                .lock()
                .await
                .insert(record.to_owned(), known.clone());
        }
        Ok(found)
    }

    /// The stages asked of the instance's flow so far, oldest first, read from
    /// the RITM's work notes: durable, so a restarted engine attributes
    /// answers exactly as before.
    async fn flow_asks(&self, ritm: &str) -> PortResult<Vec<FlowAsk>> {
        let notes = self
            .query(
                "sys_journal_field",
                &format!("element_id={ritm}^element=work_notes^ORDERBYsys_created_on"),
                "value,sys_created_on",
                1000,
            )
            .await?;
        Ok(notes
            .iter()
            .filter_map(|n| {
                let m = parse_marker(&field(n, "value"))?;
                let at = parse_when(&field(n, "sys_created_on"))?;
                Some(FlowAsk {
                    at,
                    stage: m.stage,
                    binding: m.binding,
                })
            })
            .collect())
    }
}

#[async_trait]
impl ApprovalChannel for ServiceNowClient {
    async fn ask(&self, ask: &ApprovalAsk) -> PortResult<AskReceipt> {
        let ritm = self.ritm_sys_id(&ask.ticket).await?;
        let mut references = Vec::new();
        if self.config.approvals == ApprovalMode::ReadFlowCreated {
            // The flow creates the records; the stage and binding go on the
            // RITM, where answers are matched to them (see `flow_asks`).
            let note = format!(
                "Approval stage `{}` requested ({}); the catalog flow asks its approvers. {}",
                ask.stage,
                ask.summary,
                marker(&ask.stage, &ask.binding, None)
            );
            self.note_once(&ritm, &ask.idempotency_key, &note, json!({}))
                .await?;
            return Ok(AskReceipt { references });
        }
        for approver in &ask.approvers {
            // Refused (the ask fails, and the workflow records why) when the
            // directory user matches no sys_user or several.
            let user = self
                .sys_user_of(Some(&approver.id), &approver.name)
                .await?
                .sys_id;
            let existing = self
                .query(
                    "sysapproval_approver",
                    &format!("sysapproval={ritm}^approver={user}^state=requested"),
                    "sys_id",
                    5,
                )
                .await?;
            let wanted = Marker {
                stage: Arc::clone(&ask.stage),
                binding: ask.binding.clone(),
                approver: Some(user.clone()),
            };
            let id = match existing.first() {
                // A record already open for this person (from an earlier ask
                // or made by hand or by a flow) is reused; it is marked with
                // this stage and binding in its comments, durably, so an
                // engine restarted before the answer still knows what the
                // answer is for.
                Some(r) => {
                    let id = field(r, "sys_id");
                    if self.record_stage(&id).await?.as_ref() != Some(&wanted) {
                        let note = format!(
                            "{} {}",
                            ask.summary,
                            marker(&ask.stage, &ask.binding, Some(&user))
                        );
                        self.patch("sysapproval_approver", &id, &json!({ "comments": note }))
                            .await?;
                    }
                    id
                }
                None => {
                    let record = json!({
                        "sysapproval": ritm, "document_id": ritm, "source_table": "sc_req_item",
                        "approver": user, "state": "requested",
                        "comments": format!("{} {}", ask.summary, marker(&ask.stage, &ask.binding, Some(&user))),
                    });
                    self.insert("sysapproval_approver", &record).await?
                }
            };
            self.asked_records.lock().await.insert(id.clone(), wanted);
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
        let flow_asks = if self.config.approvals == ApprovalMode::ReadFlowCreated {
            self.flow_asks(&ritm).await?
        } else {
            Vec::new()
        };
        let mut out = Vec::new();
        for r in records {
            let id = field(&r, "sys_id");
            let Some(at) = parse_when(&field(&r, "sys_updated_on")) else {
                continue;
            };
            let of = if self.config.approvals == ApprovalMode::ReadFlowCreated {
                stage_at(&flow_asks, at).map(|(stage, binding)| Marker {
                    stage,
                    binding,
                    approver: None,
                })
            } else {
                self.record_stage(&id).await?
            };
            let Some(m) = of else {
                continue;
            };
            let answered_by = field(&r, "approver");
            let (approver, approver_id) = match &m.approver {
                // Only the sys_user the record was created for may answer it:
                // a record whose approver was changed afterwards answers as
                // nobody, and the engine refuses (and records) it.
                Some(bound) if *bound != answered_by => (
                    format!("sys_user {answered_by} (the record was created for {bound})"),
                    None,
                ),
                _ => match self.person(&answered_by).await? {
                    Some(p) => (p.user_name.clone(), p.object_id.clone()),
                    None => continue,
                },
            };
            out.push(ApprovalAnswer {
                stage: m.stage,
                approver: Arc::from(approver),
                approver_id,
                verdict: if field(&r, "state") == "approved" {
                    Verdict::Approve
                } else {
                    Verdict::Reject
                },
                comment: None,
                channel: "servicenow".to_owned(),
                at,
                binding: m.binding,
            });
        }
        Ok(out)
    }

    async fn cancel(&self, ticket: &TicketRef, stage: &str, _reason: &str) -> PortResult<()> {
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
            // Flow-created records carry no stage: every open one is withdrawn.
            let withdraw = self.config.approvals == ApprovalMode::ReadFlowCreated
                || self
                    .record_stage(&id)
                    .await?
                    .is_some_and(|m| &*m.stage == stage);
            if withdraw {
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
        let kind = match notice.kind {
            NoticeKind::Success => "success",
            NoticeKind::Failure => "FAILURE",
            NoticeKind::Info => "info",
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
        let m = marker("data-owner", "sha256:abc", Some("u1"));
        assert_eq!(
            parse_marker(&format!("Please approve {m}")),
            Some(Marker {
                stage: Arc::from("data-owner"),
                binding: "sha256:abc".to_owned(),
                approver: Some("u1".to_owned()),
            })
        );
        let flow = marker("manager", "sha256:def", None);
        assert_eq!(parse_marker(&flow).and_then(|m| m.approver), None);
        assert_eq!(parse_marker("nothing here"), None);
    }

    #[test]
    fn a_flow_answer_belongs_to_the_newest_ask_before_it() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let ask = |t: &str, stage: &str| FlowAsk {
            at: at(t),
            stage: Arc::from(stage),
            binding: format!("sha256:{stage}"),
        };
        let asks = [
            ask("2026-11-25T10:00:00Z", "manager"),
            ask("2026-11-25T12:00:00Z", "data-owner"),
        ];
        let stage = |t: &str| stage_at(&asks, at(t)).map(|(s, _)| s.to_string());
        assert_eq!(stage("2026-11-25T09:59:59Z"), None);
        assert_eq!(stage("2026-11-25T10:00:00Z").as_deref(), Some("manager"));
        assert_eq!(stage("2026-11-25T11:30:00Z").as_deref(), Some("manager"));
        // The answer that completed the manager stage, collected in the same
        // second as the data owner was asked, stays the manager's.
        assert_eq!(stage("2026-11-25T12:00:00Z").as_deref(), Some("manager"));
        assert_eq!(stage("2026-11-25T12:00:01Z").as_deref(), Some("data-owner"));
    }
}
