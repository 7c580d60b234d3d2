//! RITMs as requests; work notes, states and approval decisions written back.

use crate::ServiceNowClient;
use crate::client::field;
use crate::query::{ritm_number, sys_id};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use groupgate_core::ports::{
    ApprovalDecision, ErrorClass, PortError, PortResult, TicketState, TicketSystem, TicketUpdate,
};
use groupgate_core::workflow::Verdict;
use groupgate_core::{EndDate, Request, Suggestion, TicketRef};
use serde_json::{Value, json};
use std::collections::HashMap;

fn invalid(message: String) -> PortError {
    PortError::new(ErrorClass::Invalid, message)
}

/// A ServiceNow date-time (`YYYY-MM-DD HH:MM:SS`, UTC), a date (end of that
/// day, UTC) or RFC 3339.
pub(crate) fn parse_when(text: &str) -> Option<DateTime<Utc>> {
    let t = text.trim();
    DateTime::parse_from_rfc3339(t)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S")
                .ok()
                .map(|d| d.and_utc())
        })
        .or_else(|| {
            NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(23, 59, 59))
                .map(|d| d.and_utc())
        })
}

/// A catalog end-date variable: a date (`YYYY-MM-DD`, the end of that day
/// in the policy's time zone), or a ServiceNow date-time (UTC) or RFC 3339.
fn parse_end_date(text: &str) -> Option<EndDate> {
    let t = text.trim();
    if let Ok(day) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Some(EndDate::Day(day));
    }
    parse_when(t).map(EndDate::At)
}

/// Idempotency keys groupgate makes: letters, digits, `/`, `:`, `_`, `-`.
fn safe_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 200
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/:_-".contains(c))
}

impl ServiceNowClient {
    /// The RITM's sys_id, from a sys_id or a RITM number.
    pub(crate) async fn ritm_sys_id(&self, ticket: &TicketRef) -> PortResult<String> {
        if let Ok(id) = sys_id(ticket) {
            return Ok(id.to_owned());
        }
        let number = ritm_number(ticket).map_err(|e| invalid(e.to_string()))?;
        if let Some(id) = self.ritm_ids.lock().await.get(number) {
            return Ok(id.clone());
        }
        let rows = self
            .query(
                "sc_req_item",
                &format!("number={number}"),
                "sys_id,number",
                5,
            )
            .await?;
        // ServiceNow ignores a query it cannot read and returns every row: check.
        let matching: Vec<&Value> = rows
            .iter()
            .filter(|r| field(r, "number") == number)
            .collect();
        match matching.as_slice() {
            [one] => {
                let id = field(one, "sys_id");
                self.ritm_ids
                    .lock()
                    .await
                    .insert(number.to_owned(), id.clone());
                Ok(id)
            }
            [] => Err(PortError::not_found(format!(
                "ServiceNow has no requested item `{number}`"
            ))),
            _ => Err(PortError::permanent(format!(
                "`{number}` matched several requested items"
            ))),
        }
    }

    /// The directory key (object id or UPN, see `approver_identity`) of a
    /// `sys_user` sys_id.
    async fn directory_key(&self, user: &str) -> PortResult<Option<String>> {
        if user.is_empty() {
            return Ok(None);
        }
        Ok(self.person(user).await?.map(|p| p.directory_key()))
    }

    /// Appends a work note once per idempotency key, optionally moving the state.
    pub(crate) async fn note_once(
        &self,
        ritm: &str,
        key: &str,
        note: &str,
        fields: Value,
    ) -> PortResult<()> {
        let marker = format!("[groupgate {key}]");
        if safe_key(key) {
            let seen = self
                .query(
                    "sys_journal_field",
                    &format!("element_id={ritm}^element=work_notes^valueLIKE{key}"),
                    "sys_id,value",
                    5,
                )
                .await?;
            if seen.iter().any(|r| field(r, "value").contains(&marker)) {
                return Ok(());
            }
        }
        let mut body = fields;
        body["work_notes"] = Value::String(format!("{note} {marker}"));
        self.patch("sc_req_item", ritm, &body).await
    }
}

#[async_trait]
impl TicketSystem for ServiceNowClient {
    async fn read_request(&self, ticket: &TicketRef) -> PortResult<Request> {
        let ritm = self.ritm_sys_id(ticket).await?;
        let row = self
            .get(
                "sc_req_item",
                &ritm,
                "sys_id,number,cat_item,requested_for,opened_by,short_description",
            )
            .await?
            .ok_or_else(|| {
                PortError::not_found(format!("ServiceNow has no requested item `{ticket}`"))
            })?;
        let number = field(&row, "number");
        let cat_item = field(&row, "cat_item");
        let cat_name = match sys_id(&cat_item) {
            Ok(id) => self
                .get("sc_cat_item", id, "name")
                .await?
                .map(|c| field(&c, "name"))
                .unwrap_or_default(),
            Err(_) => String::new(),
        };
        let rows = self
            .query(
                "sc_item_option_mtom",
                &format!("request_item={ritm}"),
                "sc_item_option.item_option_new.name,sc_item_option.value",
                500,
            )
            .await?;
        let vars: HashMap<String, String> = rows
            .iter()
            .map(|r| {
                (
                    field(r, "sc_item_option.item_option_new.name"),
                    field(r, "sc_item_option.value"),
                )
            })
            .collect();
        let mapping = self.config.mapping(&cat_item, &cat_name).clone();
        let var = |name: &str| {
            vars.get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let resource = var(&mapping.resource).ok_or_else(|| {
            invalid(format!(
                "{number}: catalog variable `{}` (the app, team or site asked for) is missing or empty (catalog item `{cat_name}`)",
                mapping.resource
            ))
        })?;
        let target_ref = var(&mapping.target).unwrap_or_else(|| field(&row, "requested_for"));
        let target = self.directory_key(&target_ref).await?.ok_or_else(|| {
            invalid(format!(
                "{number}: the target user (`{}` or requested_for) is not set or not found",
                mapping.target
            ))
        })?;
        let requester = self
            .directory_key(&field(&row, "opened_by"))
            .await?
            .ok_or_else(|| invalid(format!("{number}: opened_by is not set or not found")))?;
        let end_date = match var(&mapping.end_date) {
            Some(text) => Some(parse_end_date(&text).ok_or_else(|| {
                invalid(format!("{number}: catalog variable `{}` is `{text}`, which is not a date (write YYYY-MM-DD)", mapping.end_date))
            })?),
            None => None,
        };
        Ok(Request {
            ticket: TicketRef::new(number),
            requester,
            target,
            resource,
            end_date,
            justification: var(&mapping.justification).unwrap_or_default(),
            suggestion: var(&mapping.suggestion).map(|group| Suggestion {
                group,
                source: format!("servicenow:{}", mapping.suggestion),
                confidence: None,
            }),
        })
    }

    async fn update(&self, ticket: &TicketRef, update: &TicketUpdate) -> PortResult<()> {
        let ritm = self.ritm_sys_id(ticket).await?;
        let codes = &self.config.states;
        let mut fields = json!({});
        if let Some(state) = update.state {
            let code = match state {
                TicketState::InProgress => &codes.in_progress,
                TicketState::ApprovalRequired => &codes.approval_required,
                TicketState::ClosedComplete => &codes.closed_complete,
                TicketState::ClosedIncomplete => &codes.closed_incomplete,
                TicketState::ManualIntervention => &codes.manual_intervention,
            };
            fields["state"] = Value::String(code.clone());
            // The stage is informational in ServiceNow; set it so the ticket reads right.
            let stage = match state {
                TicketState::InProgress => "fulfillment",
                TicketState::ApprovalRequired => "waiting_for_approval",
                TicketState::ClosedComplete => "completed",
                TicketState::ClosedIncomplete => "closed_incomplete",
                TicketState::ManualIntervention => "manual_intervention",
            };
            fields["stage"] = Value::String(stage.to_owned());
        }
        self.note_once(&ritm, &update.idempotency_key, &update.work_note, fields)
            .await
    }

    async fn record_approval(
        &self,
        ticket: &TicketRef,
        decision: &ApprovalDecision,
    ) -> PortResult<()> {
        let ritm = self.ritm_sys_id(ticket).await?;
        let verdict = if decision.verdict == Verdict::Approve {
            "approved"
        } else {
            "rejected"
        };
        if decision.channel != "servicenow" {
            // The decision came from chat: answer the approver's record, too.
            let approver = self
                .sys_user_of(decision.approver_id.as_ref(), &decision.approver)
                .await?
                .sys_id;
            {
                let open = self
                    .query(
                        "sysapproval_approver",
                        &format!("sysapproval={ritm}^approver={approver}^state=requested"),
                        "sys_id",
                        5,
                    )
                    .await?;
                for record in open {
                    let comment = format!(
                        "{} via {} by {}",
                        if verdict == "approved" {
                            "Approved"
                        } else {
                            "Rejected"
                        },
                        decision.channel,
                        decision.approver
                    );
                    self.patch(
                        "sysapproval_approver",
                        &field(&record, "sys_id"),
                        &json!({"state": verdict, "comments": comment}),
                    )
                    .await?;
                }
            }
        }
        let note = format!(
            "approval: `{}` {verdict} stage `{}` via {}",
            decision.approver, decision.stage, decision.channel
        );
        self.note_once(&ritm, &decision.idempotency_key, &note, json!({}))
            .await
    }
}
