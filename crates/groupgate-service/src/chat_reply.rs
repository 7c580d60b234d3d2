//! A Slack interaction or a Teams activity handled end to end — verified,
//! fed to the engine, the card redrawn — for whichever HTTP server receives
//! it: the worker's own listener, or a bot of the caller's (the Node
//! package's `Engine.handleTeamsActivity`).

use crate::Service;
use groupgate_chat::{Accepted, Outcome};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tracing::{info, warn};

/// How long a Teams click may take before the invoke is answered without
/// the redrawn card (Teams waits about five seconds).
const TEAMS_BUDGET: Duration = Duration::from_millis(4000);

/// What to answer the platform, and what came of the click.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatReply {
    /// The HTTP status to answer with.
    pub status: u16,
    /// The JSON body to answer with (`Null`: an empty body).
    pub body: Value,
    /// The ticket the click was for, when it named one genuinely.
    pub ticket: Option<String>,
    /// Whether an answer was counted (`None`: not known yet, or no answer).
    pub counted: Option<bool>,
    /// Why the click or the answer was refused.
    pub refusal: Option<String>,
}

impl ChatReply {
    fn plain(status: u16, body: Value) -> Self {
        Self {
            status,
            body,
            ticket: None,
            counted: None,
            refusal: None,
        }
    }

    fn refused(refusal: &groupgate_chat::Refusal) -> Self {
        Self {
            status: refusal.status,
            body: refusal.body.clone(),
            ticket: refusal.ticket.clone(),
            counted: None,
            refusal: Some(refusal.reason.clone()),
        }
    }
}

fn not_recorded(e: &str) -> Outcome {
    Outcome::Refused(format!(
        "it could not be recorded right now ({e}); please try again"
    ))
}

impl Service {
    /// Handles a Slack interaction (the raw body and the
    /// `X-Slack-Request-Timestamp` and `X-Slack-Signature` headers): the
    /// signature is checked at once (a refusal is answered and audited);
    /// a genuine click is acknowledged with an empty 200 within Slack's
    /// three seconds and processed after — the answer fed to the engine,
    /// the message redrawn through the click's `response_url`, the
    /// workflow driven on.
    pub async fn slack_interaction(
        self: &Arc<Self>,
        timestamp: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
    ) -> ChatReply {
        let Some(handler) = self.chat.slack.clone() else {
            return ChatReply::plain(404, Value::Null);
        };
        let now = self.engine.now();
        let click = match handler.verify(timestamp, signature, body, now) {
            Ok(c) => c,
            Err(refusal) => {
                self.audit_refusal("slack", &refusal).await;
                return ChatReply::refused(&refusal);
            }
        };
        let Some(permit) = self.in_flight.enter().await else {
            return ChatReply::plain(503, Value::Null);
        };
        let service = self.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let response_url = click.response_url.clone();
            match handler.accept_click(click, now).await {
                Err(refusal) => {
                    service.audit_refusal("slack", &refusal).await;
                    if let Some(url) = response_url
                        && !refusal.body.is_null()
                    {
                        let _ = handler.respond(&url, refusal.body.clone()).await;
                    }
                }
                Ok(accepted) => {
                    let outcome = service.feed_or_refuse(&accepted, "Slack").await;
                    if let Err(e) = handler.finish(&accepted, &outcome).await {
                        warn!(ticket = %accepted.ticket, error = %e, "the Slack message could not be redrawn");
                    }
                    if outcome == Outcome::Counted {
                        service.drive_later(accepted.ticket.clone());
                    }
                }
            }
        });
        ChatReply::plain(200, Value::Null)
    }

    /// Handles a Teams activity (the raw body and the `Authorization`
    /// header): the Bot Framework token is checked, a click's answer fed to
    /// the engine, and the invoke answered with the redrawn card. The work
    /// finishes even when it takes longer than Teams waits; the answer then
    /// says it is being recorded.
    pub async fn teams_activity(
        self: &Arc<Self>,
        authorization: Option<&str>,
        body: &[u8],
    ) -> ChatReply {
        let Some(handler) = self.chat.teams.clone() else {
            return ChatReply::plain(404, Value::Null);
        };
        let Some(permit) = self.in_flight.enter().await else {
            return ChatReply::plain(503, Value::Null);
        };
        let now = self.engine.now();
        let authorization = authorization.map(str::to_owned);
        let body = body.to_vec();
        let (tx, rx) = tokio::sync::oneshot::channel::<ChatReply>();
        let service = self.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let reply = match handler.accept(authorization.as_deref(), &body, now).await {
                Err(refusal) => {
                    service.audit_refusal("teams", &refusal).await;
                    ChatReply::refused(&refusal)
                }
                Ok(Err(refreshed)) => ChatReply::plain(200, refreshed.body),
                Ok(Ok(accepted)) => {
                    let outcome = service.feed_or_refuse(&accepted, "Teams").await;
                    let body = handler.finish(&accepted, &outcome).await;
                    if outcome == Outcome::Counted {
                        service.drive_later(accepted.ticket.clone());
                    }
                    ChatReply {
                        status: 200,
                        body,
                        ticket: Some(accepted.ticket.clone()),
                        counted: Some(outcome == Outcome::Counted),
                        refusal: match outcome {
                            Outcome::Refused(why) => Some(why),
                            Outcome::Counted => None,
                        },
                    }
                }
            };
            let _ = tx.send(reply);
        });
        match tokio::time::timeout(TEAMS_BUDGET, rx).await {
            Ok(Ok(reply)) => reply,
            _ => ChatReply::plain(
                200,
                groupgate_chat::teams::message_response(
                    "groupgate is recording your answer; refresh the card in a moment",
                ),
            ),
        }
    }

    /// Feeds an accepted click; a failure to record is a refusal the
    /// approver is told to retry.
    async fn feed_or_refuse(&self, accepted: &Accepted, platform: &str) -> Outcome {
        let outcome = match self.feed(accepted).await {
            Ok(o) => o,
            Err(e) => {
                warn!(ticket = %accepted.ticket, error = %e, platform, "a chat answer could not be recorded");
                not_recorded(&e)
            }
        };
        info!(ticket = %accepted.ticket, ?outcome, platform, "chat answer");
        outcome
    }
}
