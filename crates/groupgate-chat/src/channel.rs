//! Teams and Slack as approval channels: asking posts a card (each button
//! carrying its action token), cancelling closes the stage's open cards
//! with the reason, notices go to the ticket's thread or the requester.
//! Answers do not come back through `answers`: a click arrives at the
//! worker's endpoint and is fed to the engine directly (see
//! [`crate::interactions`]).

use crate::ledger::{ChatLedger, PostedCard};
use crate::slack::{SlackApi, SlackMessage, blocks};
use crate::teams::{TeamsConnector, TeamsMessage, card};
use crate::token::{ActionClaims, TokenKey, nonce};
use crate::view::{ApprovalView, Closure};
use async_trait::async_trait;
use chrono::{TimeDelta, Utc};
use groupgate_core::TicketRef;
use groupgate_core::ports::{
    ApprovalAsk, ApprovalChannel, AskReceipt, ErrorClass, Notice, NoticeKind, PortError, PortResult,
};
use groupgate_core::workflow::{ApprovalAnswer, Verdict};
use std::sync::Arc;

/// Where Slack approval messages go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlackTarget {
    /// A direct message to each approver (found by e-mail); the channel, if
    /// given, when none of them is in Slack.
    DirectMessages {
        /// The fallback channel.
        fallback_channel: Option<String>,
    },
    /// One message in this channel.
    Channel(String),
}

/// The chat service behind a channel.
#[derive(Debug, Clone)]
pub enum ChatService {
    /// Microsoft Teams, through the bot's connector.
    Teams(Arc<TeamsConnector>),
    /// Slack, through the Web API.
    Slack(Arc<SlackApi>, SlackTarget),
}

/// Teams or Slack as an approval channel.
pub struct ChatChannel {
    service: ChatService,
    keys: TokenKey,
    ledger: Arc<dyn ChatLedger>,
    ticket_url: Option<String>,
    default_lifetime: TimeDelta,
}

impl std::fmt::Debug for ChatChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatChannel")
            .field("channel", &self.name())
            .finish()
    }
}

impl ChatChannel {
    /// A channel over `service`; `ticket_url` is a link template with
    /// `{ticket}` (e.g. ServiceNow's
    /// `https://contoso.service-now.com/nav_to.do?uri=sc_req_item.do%3Fsysparm_query=number={ticket}`).
    pub fn new(
        service: ChatService,
        keys: TokenKey,
        ledger: Arc<dyn ChatLedger>,
        ticket_url: Option<String>,
    ) -> Self {
        Self {
            service,
            keys,
            ledger,
            ticket_url,
            default_lifetime: TimeDelta::days(7),
        }
    }

    /// `teams` or `slack`: the name the policy's `approval_channels` use.
    pub fn name(&self) -> &'static str {
        match self.service {
            ChatService::Teams(_) => "teams",
            ChatService::Slack(..) => "slack",
        }
    }

    fn tokens(&self, ask: &ApprovalAsk) -> (String, String) {
        let expires = ask
            .deadline
            .unwrap_or_else(|| Utc::now() + self.default_lifetime);
        let card_nonce = nonce();
        let claims = |verdict| ActionClaims {
            workflow: ask.ticket.to_string(),
            stage: ask.stage.to_string(),
            binding: ask.binding.clone(),
            verdict,
            expires,
            nonce: card_nonce.clone(),
        };
        (
            self.keys.sign(&claims(Verdict::Approve)),
            self.keys.sign(&claims(Verdict::Reject)),
        )
    }

    /// Records a card as soon as it is posted, so a retried ask after a
    /// partial delivery does not post it twice.
    async fn posted(
        &self,
        view: &ApprovalView,
        ask: &ApprovalAsk,
        reference: serde_json::Value,
    ) -> PortResult<serde_json::Value> {
        self.ledger
            .record_card(&PostedCard {
                ticket: ask.ticket.to_string(),
                stage: ask.stage.to_string(),
                channel: self.name().to_owned(),
                ask_key: ask.idempotency_key.clone(),
                reference: reference.clone(),
                view: view.clone(),
                closed: false,
            })
            .await?;
        Ok(reference)
    }

    async fn post(
        &self,
        view: &ApprovalView,
        ask: &ApprovalAsk,
    ) -> PortResult<Vec<serde_json::Value>> {
        match &self.service {
            ChatService::Teams(teams) => {
                let mentions: Vec<(String, String)> = ask
                    .approvers
                    .iter()
                    .map(|a| (a.id.to_string(), a.name.to_string()))
                    .collect();
                let body = card::approval_card(view, &mentions);
                let posted = teams
                    .post_card(&body, &format!("Approval needed: {}", view.ticket))
                    .await?;
                let reference = serde_json::to_value(posted).unwrap_or_default();
                Ok(vec![self.posted(view, ask, reference).await?])
            }
            ChatService::Slack(slack, target) => {
                let (text, message) = blocks::approval_message(view);
                let mut posted = Vec::new();
                let channels: Vec<String> = match target {
                    SlackTarget::Channel(c) => vec![c.clone()],
                    SlackTarget::DirectMessages { fallback_channel } => {
                        let mut ids = Vec::new();
                        for approver in &ask.approvers {
                            if let Some(id) = slack.lookup_by_email(&approver.name).await? {
                                ids.push(id);
                            }
                        }
                        if ids.is_empty() {
                            fallback_channel.iter().cloned().collect()
                        } else {
                            ids
                        }
                    }
                };
                if channels.is_empty() {
                    return Err(PortError::new(
                        ErrorClass::NotFound,
                        format!(
                            "Slack: none of the approvers of stage `{}` ({}) has a Slack account with that e-mail, and no fallback channel is set",
                            ask.stage,
                            ask.approvers
                                .iter()
                                .map(|a| a.name.to_string())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                }
                for channel in channels {
                    let message = slack.post_message(&channel, &text, &message).await?;
                    let reference = serde_json::to_value(message).unwrap_or_default();
                    posted.push(self.posted(view, ask, reference).await?);
                }
                Ok(posted)
            }
        }
    }

    /// Replaces a posted card with its closed form.
    pub async fn close(&self, posted: &PostedCard, closure: &Closure) -> PortResult<()> {
        match &self.service {
            ChatService::Teams(teams) => {
                let message: TeamsMessage = serde_json::from_value(posted.reference.clone())
                    .map_err(|_| PortError::permanent("a Teams card's reference is unreadable"))?;
                let body = card::closed_card(&posted.view, closure);
                teams.update_card(&message, &body, &closure.line()).await?;
            }
            ChatService::Slack(slack, _) => {
                let message: SlackMessage = serde_json::from_value(posted.reference.clone())
                    .map_err(|_| {
                        PortError::permanent("a Slack message's reference is unreadable")
                    })?;
                let (text, body) = blocks::closed_message(&posted.view, closure);
                slack.update_message(&message, &text, &body).await?;
            }
        }
        self.ledger.close_card(self.name(), &posted.ask_key).await
    }
}

#[async_trait]
impl ApprovalChannel for ChatChannel {
    async fn ask(&self, ask: &ApprovalAsk) -> PortResult<AskReceipt> {
        let posted: Vec<PostedCard> = self
            .ledger
            .cards(ask.ticket.as_str())
            .await?
            .into_iter()
            .filter(|c| c.channel == self.name() && c.ask_key == ask.idempotency_key)
            .collect();
        if !posted.is_empty() {
            // Asked before (a retry after a crash or a partial delivery):
            // nothing new is posted.
            return Ok(AskReceipt {
                references: posted.iter().map(|c| c.reference.to_string()).collect(),
            });
        }
        let ticket_url = self
            .ticket_url
            .as_ref()
            .map(|t| t.replace("{ticket}", &ticket_in_url(ask.ticket.as_str())));
        let (approve, reject) = self.tokens(ask);
        let view = ApprovalView::of(ask, ticket_url, approve, reject);
        let references = self.post(&view, ask).await?;
        Ok(AskReceipt {
            references: references
                .iter()
                .map(|r| format!("{}:{r}", self.name()))
                .collect(),
        })
    }

    async fn answers(&self, _ticket: &TicketRef) -> PortResult<Vec<ApprovalAnswer>> {
        // Clicks are fed to the engine as they arrive.
        Ok(Vec::new())
    }

    async fn cancel(&self, ticket: &TicketRef, stage: &str, reason: &str) -> PortResult<()> {
        let open: Vec<PostedCard> = self
            .ledger
            .cards(ticket.as_str())
            .await?
            .into_iter()
            .filter(|c| c.channel == self.name() && c.stage == stage && !c.closed)
            .collect();
        let closure = Closure::Ended {
            reason: reason.to_owned(),
        };
        for posted in open {
            self.close(&posted, &closure).await?;
        }
        Ok(())
    }

    async fn notify(&self, notice: &Notice) -> PortResult<()> {
        // Once per idempotency key (a retried notice is not posted twice).
        let marker = format!("notice/{}/{}", self.name(), notice.idempotency_key);
        if self.ledger.token_used(&marker).await? {
            return Ok(());
        }
        self.post_notice(notice).await?;
        self.ledger
            .use_token(&marker, Utc::now() + TimeDelta::days(3650))
            .await
            .map(|_| ())
    }
}

impl ChatChannel {
    async fn post_notice(&self, notice: &Notice) -> PortResult<()> {
        let title = match notice.kind {
            NoticeKind::Success => format!("✅ {}: done", notice.ticket),
            NoticeKind::Failure => format!("⚠️ {}: needs attention", notice.ticket),
            NoticeKind::Info => format!("ℹ️ {}", notice.ticket),
        };
        match &self.service {
            ChatService::Teams(teams) => {
                // In the thread of the ticket's first card, where its
                // approvers and watchers are.
                let cards = self.ledger.cards(notice.ticket.as_str()).await?;
                let thread = cards
                    .iter()
                    .filter(|c| c.channel == "teams")
                    .find_map(|c| serde_json::from_value::<TeamsMessage>(c.reference.clone()).ok());
                let body = card::notice_card(&title, &notice.text);
                match thread {
                    Some(t) => teams.reply(&t.conversation_id, &body, &title).await,
                    None => teams.post_card(&body, &title).await.map(|_| ()),
                }
            }
            ChatService::Slack(slack, target) => {
                let (text, body) = blocks::notice_message(&title, &notice.text);
                // The requester is told the outcome directly when Slack knows them.
                let requester = match &notice.requester {
                    Some(r) => slack.lookup_by_email(&r.name).await?,
                    None => None,
                };
                let to = requester.or_else(|| match target {
                    SlackTarget::Channel(c) => Some(c.clone()),
                    SlackTarget::DirectMessages { fallback_channel } => fallback_channel.clone(),
                });
                match to {
                    Some(channel) => slack.post_message(&channel, &text, &body).await.map(|_| ()),
                    // Nobody to tell in Slack: the ticket has it.
                    None => Ok(()),
                }
            }
        }
    }
}

/// A ticket number as it goes into a link: percent-encoded, so a hostile
/// number cannot change where the link points.
fn ticket_in_url(ticket: &str) -> String {
    url::form_urlencoded::byte_serialize(ticket.as_bytes()).collect()
}
