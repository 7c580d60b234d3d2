//! What an approval card shows, independent of Teams or Slack: built from
//! the engine's ask, rendered by `teams::card` and `slack::blocks`.

use chrono::{DateTime, SecondsFormat, Utc};
use groupgate_core::ports::{ApprovalAsk, AskDetails};
use groupgate_core::workflow::Verdict;

/// An approval request as a card shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ApprovalView {
    /// The ticket number.
    pub ticket: String,
    /// A link to the ticket, when one is configured.
    pub ticket_url: Option<String>,
    /// The stage asked.
    pub stage: String,
    /// The engine's one-line summary.
    pub summary: String,
    /// Who asks what for whom (absent for an ask made without a decision).
    pub details: Option<AskDetails>,
    /// Who may approve (names, for people to read).
    pub approvers: Vec<String>,
    /// When unanswered asks expire.
    pub deadline: Option<DateTime<Utc>>,
    /// Whether these are the stage's alternates after escalation.
    pub escalation: bool,
    /// The approve button's action token.
    pub approve_token: String,
    /// The reject button's action token.
    pub reject_token: String,
}

impl ApprovalView {
    /// The view of `ask`, with the buttons' tokens and the ticket link.
    pub fn of(
        ask: &ApprovalAsk,
        ticket_url: Option<String>,
        approve_token: String,
        reject_token: String,
    ) -> Self {
        Self {
            ticket: ask.ticket.to_string(),
            ticket_url,
            stage: ask.stage.to_string(),
            summary: ask.summary.clone(),
            details: ask.details.clone(),
            approvers: ask.approvers.iter().map(|a| a.name.to_string()).collect(),
            deadline: ask.deadline,
            escalation: ask.escalation,
            approve_token,
            reject_token,
        }
    }

    /// `stage 2 of 3 (data-owner)`, or the stage's name alone.
    pub fn stage_line(&self) -> String {
        match &self.details {
            Some(d) => format!(
                "stage {} of {} (`{}`), {} approval{} needed",
                d.stage_index + 1,
                d.stage_count,
                self.stage,
                d.required,
                if d.required == 1 { "" } else { "s" }
            ),
            None => format!("stage `{}`", self.stage),
        }
    }

    /// When access ends: the requested end date, the policy's cap, or both.
    pub fn until_line(&self) -> String {
        let Some(d) = &self.details else {
            return "as the policy allows".to_owned();
        };
        let cap = d
            .max_duration_seconds
            .map(|s| format!("at most {} days from the grant", s / 86_400));
        match (d.end_date, cap) {
            (Some(end), Some(cap)) => format!("{} ({cap})", when(end)),
            (Some(end), None) => when(end),
            (None, Some(cap)) => cap,
            (None, None) => "no end date".to_owned(),
        }
    }
}

/// How a card ended, for its refreshed form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Closure {
    /// Someone answered through this card.
    Decided {
        /// Who, as the channel named them.
        by: String,
        /// Approve or reject.
        verdict: Verdict,
        /// When.
        at: DateTime<Utc>,
    },
    /// The stage or request ended otherwise (approved through another
    /// channel, rejected, expired, cancelled by offboarding): the engine's
    /// words.
    Ended {
        /// Why.
        reason: String,
    },
}

impl Closure {
    /// The line a closed card shows.
    pub fn line(&self) -> String {
        match self {
            Closure::Decided { by, verdict, at } => format!(
                "{} by {by} at {}",
                match verdict {
                    Verdict::Approve => "✅ Approved",
                    Verdict::Reject => "❌ Rejected",
                },
                when(*at)
            ),
            Closure::Ended { reason } => format!("This request needs no answer any more: {reason}"),
        }
    }
}

/// An instant as cards show it: `2026-11-25 10:05 UTC`.
pub fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// An instant in RFC 3339 (for machine-read fields).
pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `text` cut to at most `max` characters (never inside one), with a
/// visible `…` when cut.
///
/// ```
/// use groupgate_chat::truncate;
/// assert_eq!(truncate("approve", 10), "approve");
/// assert_eq!(truncate("abcdefghij", 5), "abcd…");
/// assert_eq!(truncate("ééééé", 3), "éé…");
/// ```
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let keep: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{keep}…")
}
