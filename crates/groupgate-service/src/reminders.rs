//! Expiry reminders: a configurable time before time-bound access ends, the
//! ticket gets a work note and the requester and the target's manager a
//! chat notice saying what ends when, and how to keep it (a new request,
//! which goes through policy and approvals again — never an extension).
//! Each end is reminded once (remembered in the store); expiry itself is
//! the workflow's own timer and never waits for a reminder.

use crate::{Service, ServiceError};
use chrono::{DateTime, Utc};
use groupgate_core::Approver;
use groupgate_core::ports::{
    ApprovalChannel, IdentityProvider, Notice, NoticeKind, TicketSystem, TicketUpdate,
    WorkflowFilter,
};
use groupgate_core::workflow::Phase;
use serde::Deserialize;
use tracing::{info, warn};

/// Reminder settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReminderSettings {
    /// How long before the end to remind, in seconds (an hour to 90 days).
    #[serde(default = "seven_days")]
    pub before_seconds: i64,
}

fn seven_days() -> i64 {
    7 * 86_400
}

/// One reminder sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminded {
    /// The ticket.
    pub ticket: String,
    /// When the access ends.
    pub ends_at: DateTime<Utc>,
    /// Who was told through chat (names).
    pub told: Vec<String>,
}

fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

impl Service {
    /// Reminds every time-bound access that ends within the configured
    /// time and was not reminded yet.
    pub async fn send_expiry_reminders(&self) -> Result<Vec<Reminded>, ServiceError> {
        let Some(settings) = &self.settings.reminders else {
            return Ok(Vec::new());
        };
        let now = self.engine.now();
        let horizon = now + chrono::TimeDelta::seconds(settings.before_seconds);
        let rows = self
            .engine
            .summaries(&WorkflowFilter {
                phase: Some("active".to_owned()),
                ..WorkflowFilter::default()
            })
            .await?;
        let mut sent = Vec::new();
        for row in rows {
            // The expiry timer is the active workflow's next wake: only
            // those ending within the horizon are read in full.
            if row.next_wake.is_none_or(|w| w > horizon) {
                continue;
            }
            let wf = self.engine.workflow(&row.id).await?;
            let Phase::Active { expires_at } = wf.phase else {
                continue;
            };
            if expires_at > horizon || expires_at <= now {
                continue;
            }
            let key = format!("reminder/{}/{}", wf.id, expires_at.timestamp());
            if self.store.worker_state(&key)?.is_some() {
                continue;
            }
            match self.remind(&wf, expires_at, &key).await {
                Ok(r) => {
                    self.store.set_worker_state(&key, &now.to_rfc3339())?;
                    info!(ticket = %r.ticket, ends_at = %r.ends_at, told = ?r.told, "expiry reminder sent");
                    sent.push(r);
                }
                Err(e) => {
                    warn!(ticket = %wf.id, error = %e, "an expiry reminder could not be sent; tried again next pass");
                }
            }
        }
        Ok(sent)
    }

    async fn remind(
        &self,
        wf: &groupgate_core::workflow::Workflow,
        expires_at: DateTime<Utc>,
        key: &str,
    ) -> Result<Reminded, String> {
        let group = wf
            .decision
            .as_ref()
            .and_then(|d| d.group.as_ref())
            .map(|g| {
                g.info
                    .display_name
                    .as_deref()
                    .unwrap_or(&g.info.key)
                    .to_owned()
            })
            .unwrap_or_else(|| "the group".to_owned());
        let text = format!(
            "Access of {} to {group} ends at {} (ticket {}). To keep it, raise a new request: it is checked against the policy and approved again.",
            wf.request.target,
            when(expires_at),
            wf.request.ticket
        );
        self.servicenow
            .update(
                &wf.request.ticket,
                &TicketUpdate {
                    state: None,
                    work_note: format!("groupgate: {text}"),
                    idempotency_key: format!("{key}/note"),
                },
            )
            .await
            .map_err(|e| e.to_string())?;
        // The requester and the target's manager, as the directory has
        // them now.
        let mut people: Vec<(Approver, &str)> = Vec::new();
        if let Some(id) = &wf.requester
            && let Ok(Some(u)) = self.graph.user(id.as_str()).await
        {
            people.push((
                Approver {
                    id: u.id.clone(),
                    name: u.upn.clone(),
                    role: "requester".into(),
                },
                "requester",
            ));
        }
        if let Some(target) = &wf.target
            && let Ok(Some(m)) = self.graph.manager(target).await
            && !people.iter().any(|(p, _)| p.id == m.id)
        {
            people.push((
                Approver {
                    id: m.id.clone(),
                    name: m.upn.clone(),
                    role: "manager".into(),
                },
                "manager",
            ));
        }
        let mut told = Vec::new();
        for (person, role) in people {
            let notice = Notice {
                ticket: wf.request.ticket.clone(),
                kind: NoticeKind::Info,
                text: text.clone(),
                idempotency_key: format!("{key}/{role}"),
                requester: Some(person.clone()),
            };
            // Chat reaches people directly; the ticket has its note already.
            let mut delivered = false;
            for (name, channel) in &self.chat.channels {
                match channel.notify(&notice).await {
                    Ok(()) => delivered = true,
                    Err(e) => {
                        warn!(ticket = %wf.id, channel = %name, error = %e, "a reminder notice was not delivered")
                    }
                }
            }
            if delivered {
                told.push(person.name.to_string());
            }
        }
        if let Err(e) = self
            .engine
            .record_reminder(&wf.id, expires_at, told.clone())
            .await
        {
            warn!(error = %e, "the reminder could not be recorded");
        }
        Ok(Reminded {
            ticket: wf.request.ticket.to_string(),
            ends_at: expires_at,
            told,
        })
    }
}
