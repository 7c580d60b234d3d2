//! Several approval channels as one: a stage is asked in each channel the
//! policy names for it (ServiceNow as the record and Teams, say), an answer
//! from any of them counts once (the engine feeds each answer once and the
//! state machine counts each person once), and when the stage or the
//! request ends every channel's outstanding asks are withdrawn.

use async_trait::async_trait;
use groupgate_core::TicketRef;
use groupgate_core::ports::{
    ApprovalAsk, ApprovalChannel, AskReceipt, ErrorClass, Notice, PortError, PortResult,
};
use groupgate_core::workflow::ApprovalAnswer;
use std::sync::Arc;

/// Named approval channels as one [`ApprovalChannel`].
///
/// ```
/// use std::sync::Arc;
/// use groupgate_engine::Channels;
/// use groupgate_sim::{FakeApprovals, SimClock};
/// let clock = SimClock::at("2026-11-25T10:00:00Z".parse().unwrap());
/// let channels = Channels::new()
///     .with("servicenow", Arc::new(FakeApprovals::new(clock.clone())))
///     .with("teams", Arc::new(FakeApprovals::new(clock)));
/// assert_eq!(channels.names(), ["servicenow", "teams"]);
/// ```
#[derive(Default)]
pub struct Channels {
    channels: Vec<(String, Arc<dyn ApprovalChannel>)>,
}

impl std::fmt::Debug for Channels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channels")
            .field("names", &self.names())
            .finish()
    }
}

impl Channels {
    /// No channels yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a channel under `name` (`servicenow`, `teams`, `slack`: the names
    /// the policy's `approval_channels` use).
    pub fn with(mut self, name: &str, channel: Arc<dyn ApprovalChannel>) -> Self {
        self.channels.push((name.to_ascii_lowercase(), channel));
        self
    }

    /// The channels' names, in order.
    pub fn names(&self) -> Vec<&str> {
        self.channels.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// The channels `ask` is for: those it names that are configured, or
    /// every channel when it names none (or none of its names is configured,
    /// so an ask is never lost to a policy naming a channel the service
    /// does not have).
    fn for_ask<'a>(&'a self, ask: &ApprovalAsk) -> Vec<&'a (String, Arc<dyn ApprovalChannel>)> {
        let named: Vec<_> = self
            .channels
            .iter()
            .filter(|(n, _)| ask.channels.iter().any(|c| c.eq_ignore_ascii_case(n)))
            .collect();
        if named.is_empty() {
            self.channels.iter().collect()
        } else {
            named
        }
    }
}

fn combine(errors: Vec<(String, PortError)>) -> PortError {
    // Retry if any channel can be retried; the message names each.
    let transient = errors.iter().find_map(|(_, e)| match e.class {
        ErrorClass::Transient {
            retry_after_seconds,
        } => Some(retry_after_seconds),
        _ => None,
    });
    let message = errors
        .iter()
        .map(|(n, e)| format!("{n}: {e}"))
        .collect::<Vec<_>>()
        .join("; ");
    match transient {
        Some(retry) => PortError::transient(message, retry),
        None => PortError::new(
            errors
                .first()
                .map(|(_, e)| e.class)
                .unwrap_or(ErrorClass::Permanent),
            message,
        ),
    }
}

#[async_trait]
impl ApprovalChannel for Channels {
    /// Asks in every channel the stage names; each channel is idempotent per
    /// ask key, so a retry after one failed asks again only where needed.
    async fn ask(&self, ask: &ApprovalAsk) -> PortResult<AskReceipt> {
        let mut references = Vec::new();
        let mut errors = Vec::new();
        for (name, channel) in self.for_ask(ask) {
            match channel.ask(ask).await {
                Ok(r) => references.extend(r.references),
                Err(e) => errors.push((name.clone(), e)),
            }
        }
        if errors.is_empty() {
            Ok(AskReceipt { references })
        } else {
            Err(combine(errors))
        }
    }

    /// Every channel's answers; a channel that cannot be read now is left
    /// for the next collection (answers are read again until they count),
    /// unless none can be read.
    async fn answers(&self, ticket: &TicketRef) -> PortResult<Vec<ApprovalAnswer>> {
        let mut answers = Vec::new();
        let mut errors = Vec::new();
        for (name, channel) in &self.channels {
            match channel.answers(ticket).await {
                Ok(a) => answers.extend(a),
                Err(e) => errors.push((name.clone(), e)),
            }
        }
        if !errors.is_empty() && errors.len() == self.channels.len() {
            return Err(combine(errors));
        }
        answers.sort_by_key(|a| a.at);
        Ok(answers)
    }

    /// Withdraws the stage's asks everywhere (a channel with none does
    /// nothing).
    async fn cancel(&self, ticket: &TicketRef, stage: &str, reason: &str) -> PortResult<()> {
        let mut errors = Vec::new();
        for (name, channel) in &self.channels {
            if let Err(e) = channel.cancel(ticket, stage, reason).await {
                errors.push((name.clone(), e));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(combine(errors))
        }
    }

    /// Posts the notice everywhere.
    async fn notify(&self, notice: &Notice) -> PortResult<()> {
        let mut errors = Vec::new();
        for (name, channel) in &self.channels {
            if let Err(e) = channel.notify(notice).await {
                errors.push((name.clone(), e));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(combine(errors))
        }
    }
}
