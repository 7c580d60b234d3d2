//! A click arriving at the worker, turned into an approval answer only after
//! every check: the request is Slack's or the Bot Framework's (signature or
//! JWT), the button's action token is genuine, unaltered, unexpired, for
//! this stage and unused, and the approver is the channel's authenticated
//! person. Whoever serves the endpoints feeds the answer to the engine
//! (which decides whether that person counts) and then calls `finish` to
//! redraw the card and answer the click.

use crate::ledger::{ChatLedger, PostedCard};
use crate::slack::{self, SlackApi, SlackClick, blocks};
use crate::teams::{self, BotAuth, TeamsClick, TeamsVerb, card};
use crate::token::{ActionClaims, TokenError, TokenKey};
use crate::view::Closure;
use chrono::{DateTime, Utc};
use groupgate_core::Secret;
use groupgate_core::workflow::{ApprovalAnswer, Verdict};
use serde_json::{Value, json};
use std::sync::Arc;

/// A click refused before it reached the engine: the HTTP status to answer,
/// the body, and what to record in the audit trail.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// 200 (Slack and Teams show the body), 400, 401 or 500.
    pub status: u16,
    /// The answer's JSON body (`Null`: none).
    pub body: Value,
    /// Why, for the audit trail and the log.
    pub reason: String,
    /// The ticket, when the click named one genuinely.
    pub ticket: Option<String>,
}

impl Refusal {
    fn new(status: u16, body: Value, reason: impl Into<String>, ticket: Option<String>) -> Self {
        Self {
            status,
            body,
            reason: reason.into(),
            ticket,
        }
    }
}

/// A click that passed every check: the answer to feed, and how to redraw
/// its card afterwards.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    /// The ticket (the workflow id).
    pub ticket: String,
    /// The answer for the engine.
    pub answer: ApprovalAnswer,
    /// The token's claims (its id is recorded as used once fed).
    pub claims: ActionClaims,
    /// The card clicked, when the ledger has it.
    pub card: Option<PostedCard>,
    /// Where a Slack click's answer goes.
    pub response_url: Option<String>,
    /// The ledger key of this button in this person's hands (the token
    /// and who clicked), recorded once their answer counted.
    pub used_key: String,
}

/// A button's use by one person: one approver's counted click does not
/// spend the button for the others it was shown to (a channel post), and
/// a click that did not count (someone not entitled, a transient failure)
/// spends nothing.
fn used_key(claims: &ActionClaims, who: &str) -> String {
    format!("{}/{who}", claims.id())
}

/// What the engine made of an accepted click.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It counted.
    Counted,
    /// It did not count, with the engine's reason.
    Refused(String),
}

fn token_refusal(e: &TokenError) -> String {
    match e {
        TokenError::Expired(_) => "this card has expired; the request may have moved on".to_owned(),
        TokenError::OtherWorkflow(_) => "this button belongs to another request".to_owned(),
        TokenError::BadSignature | TokenError::Malformed => {
            "this button was not issued by groupgate, or was altered".to_owned()
        }
    }
}

/// The card whose button carried `token`.
async fn card_for(
    ledger: &dyn ChatLedger,
    claims: &ActionClaims,
    token: &str,
) -> Option<PostedCard> {
    let cards = ledger.cards(&claims.workflow).await.ok()?;
    cards
        .into_iter()
        .rev()
        .find(|c| c.view.approve_token == token || c.view.reject_token == token)
}

async fn common_checks(
    keys: &TokenKey,
    ledger: &dyn ChatLedger,
    token: &str,
    who: &str,
    now: DateTime<Utc>,
) -> Result<ActionClaims, (String, Option<String>)> {
    let claims = keys
        .verify(token, now, None)
        .map_err(|e| (token_refusal(&e), None))?;
    match ledger.token_used(&used_key(&claims, who)).await {
        Ok(true) => Err((
            "this button was already used".to_owned(),
            Some(claims.workflow.clone()),
        )),
        Ok(false) => Ok(claims),
        Err(e) => Err((
            format!("the click could not be checked: {e}"),
            Some(claims.workflow),
        )),
    }
}

/// Clicks from Slack.
pub struct SlackInteractions {
    api: Arc<SlackApi>,
    signing_secret: Secret,
    keys: TokenKey,
    ledger: Arc<dyn ChatLedger>,
}

impl std::fmt::Debug for SlackInteractions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SlackInteractions { .. }")
    }
}

impl SlackInteractions {
    /// Handles clicks with `api` (to find who clicked and redraw the
    /// message), checking requests with `signing_secret`.
    pub fn new(
        api: Arc<SlackApi>,
        signing_secret: Secret,
        keys: TokenKey,
        ledger: Arc<dyn ChatLedger>,
    ) -> Self {
        Self {
            api,
            signing_secret,
            keys,
            ledger,
        }
    }

    /// Checks a request's signature and reads its click (no network: what
    /// must be answered within Slack's three seconds). `timestamp` and
    /// `signature` are the `X-Slack-Request-Timestamp` and
    /// `X-Slack-Signature` headers; `body` the raw bytes received.
    pub fn verify(
        &self,
        timestamp: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<SlackClick, Refusal> {
        slack::verify_signature(
            &self.signing_secret,
            timestamp,
            signature,
            body,
            now.timestamp(),
        )
        .map_err(|e| {
            Refusal::new(
                401,
                Value::Null,
                format!("Slack request refused: {e}"),
                None,
            )
        })?;
        slack::parse_interaction(body).map_err(|e| {
            Refusal::new(
                400,
                Value::Null,
                format!("Slack interaction refused: {e}"),
                None,
            )
        })
    }

    /// [`SlackInteractions::verify`], then [`SlackInteractions::accept_click`].
    pub async fn accept(
        &self,
        timestamp: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Accepted, Refusal> {
        let click = self.verify(timestamp, signature, body, now)?;
        self.accept_click(click, now).await
    }

    /// Checks a verified click's action token and finds who clicked (Slack
    /// `users.info`): the answer to feed. A refusal's body is the ephemeral
    /// message to send through the click's `response_url`.
    pub async fn accept_click(
        &self,
        click: SlackClick,
        now: DateTime<Utc>,
    ) -> Result<Accepted, Refusal> {
        let ephemeral = |text: &str| json!({"response_type": "ephemeral", "replace_original": false, "text": text});
        let who = format!("slack:{}", click.user_id);
        let claims = common_checks(&self.keys, &*self.ledger, &click.token, &who, now)
            .await
            .map_err(|(why, ticket)| {
                Refusal::new(
                    200,
                    ephemeral(&format!("Your answer was not recorded: {why}.")),
                    format!("Slack click refused: {why}"),
                    ticket,
                )
            })?;
        if claims.verdict != click.verdict {
            return Err(Refusal::new(
                200,
                ephemeral("Your answer was not recorded: the button does not match its token."),
                "Slack click refused: the action does not match its token",
                Some(claims.workflow),
            ));
        }
        // Who clicked, as Slack authenticated them: their e-mail, which the
        // engine maps to a directory object id.
        let user = self.api.user(&click.user_id).await.map_err(|e| {
            Refusal::new(
                200,
                ephemeral("Your answer could not be recorded right now; please try again."),
                format!("Slack users.info failed: {e}"),
                Some(claims.workflow.clone()),
            )
        })?;
        let Some(email) = user.email.filter(|_| !user.deleted) else {
            return Err(Refusal::new(
                200,
                ephemeral(
                    "Your answer was not recorded: groupgate cannot tell who you are in the directory (no e-mail in your Slack profile).",
                ),
                format!(
                    "Slack user `{}` has no e-mail groupgate can read",
                    click.user_id
                ),
                Some(claims.workflow),
            ));
        };
        let card = card_for(&*self.ledger, &claims, &click.token).await;
        Ok(Accepted {
            ticket: claims.workflow.clone(),
            answer: ApprovalAnswer {
                stage: claims.stage.as_str().into(),
                approver: email.as_str().into(),
                approver_id: None,
                verdict: claims.verdict,
                comment: None,
                channel: "slack".to_owned(),
                at: now,
                binding: claims.binding.clone(),
            },
            used_key: used_key(&claims, &who),
            claims,
            card,
            response_url: click.response_url,
        })
    }

    /// Sends a refusal's message through a click's `response_url`.
    pub async fn respond(&self, response_url: &str, body: Value) -> Result<(), String> {
        self.api
            .respond(response_url, body)
            .await
            .map_err(|e| e.to_string())
    }

    /// After the engine: records the button as used by this person (when
    /// their answer counted) and redraws the message through its `response_url`.
    pub async fn finish(&self, accepted: &Accepted, outcome: &Outcome) -> Result<(), String> {
        if *outcome == Outcome::Counted {
            let _ = self
                .ledger
                .use_token(&accepted.used_key, accepted.claims.expires)
                .await;
        }
        let Some(url) = &accepted.response_url else {
            return Ok(());
        };
        let body = match (outcome, &accepted.card) {
            (Outcome::Counted, Some(card)) => {
                let (text, blocks) = blocks::closed_message(&card.view, &decided(accepted));
                let _ = self.ledger.close_card("slack", &card.ask_key).await;
                json!({"replace_original": true, "text": text, "blocks": blocks})
            }
            (Outcome::Counted, None) => {
                json!({"replace_original": false, "response_type": "ephemeral", "text": decided(accepted).line()})
            }
            (Outcome::Refused(why), _) => {
                json!({"replace_original": false, "response_type": "ephemeral", "text": format!("Your answer was not recorded: {why}.")})
            }
        };
        self.api.respond(url, body).await.map_err(|e| e.to_string())
    }
}

fn decided(accepted: &Accepted) -> Closure {
    Closure::Decided {
        by: accepted.answer.approver.to_string(),
        verdict: accepted.answer.verdict,
        at: accepted.answer.at,
    }
}

/// Clicks from Teams (the Bot Framework's activity endpoint).
pub struct TeamsInteractions {
    auth: Arc<BotAuth>,
    keys: TokenKey,
    ledger: Arc<dyn ChatLedger>,
    tenant_id: Option<String>,
}

impl std::fmt::Debug for TeamsInteractions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TeamsInteractions { .. }")
    }
}

/// What to answer a Teams refresh (no answer to feed).
#[derive(Debug, Clone, PartialEq)]
pub struct Refreshed {
    /// The invoke's answer.
    pub body: Value,
}

impl TeamsInteractions {
    /// Handles clicks, checking requests with `auth`.
    pub fn new(auth: Arc<BotAuth>, keys: TokenKey, ledger: Arc<dyn ChatLedger>) -> Self {
        Self {
            auth,
            keys,
            ledger,
            tenant_id: None,
        }
    }

    /// Refuses clicks from any tenant but `tenant_id` (a GUID, compared
    /// as `channelData.tenant.id` carries it): a person of another
    /// organisation in a shared channel has a directory object id of their
    /// own tenant, which must not be taken for one of this tenant's.
    pub fn with_tenant(mut self, tenant_id: &str) -> Self {
        self.tenant_id = Some(tenant_id.to_ascii_lowercase());
        self
    }

    /// Checks a request (its `Authorization` header and raw body) and reads
    /// its click: an answer to feed, or (for a refresh) the card to show.
    pub async fn accept(
        &self,
        authorization: Option<&str>,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Result<Accepted, Refreshed>, Refusal> {
        // The activity's serviceUrl is needed to check the token; nothing
        // else is used before the token verifies.
        let click: TeamsClick = match teams::parse_activity(body) {
            Ok(c) => c,
            Err(e) => {
                // Still authenticate, so an unauthenticated caller learns
                // nothing from the difference.
                let service_url = serde_json::from_slice::<Value>(body)
                    .ok()
                    .and_then(|v| {
                        v.get("serviceUrl")
                            .and_then(Value::as_str)
                            .map(str::to_owned)
                    })
                    .unwrap_or_default();
                self.auth
                    .verify(authorization, &service_url, now)
                    .await
                    .map_err(|a| {
                        Refusal::new(
                            401,
                            Value::Null,
                            format!("Teams request refused: {a}"),
                            None,
                        )
                    })?;
                return Err(Refusal::new(
                    400,
                    teams::error_response(400, "BadRequest", &e.to_string()),
                    format!("Teams activity refused: {e}"),
                    None,
                ));
            }
        };
        self.auth
            .verify(authorization, &click.service_url, now)
            .await
            .map_err(|e| {
                Refusal::new(
                    401,
                    Value::Null,
                    format!("Teams request refused: {e}"),
                    None,
                )
            })?;
        if click.verb == TeamsVerb::Refresh {
            return Ok(Err(Refreshed {
                body: teams::message_response("groupgate: this card is up to date"),
            }));
        }
        let token = click.token.clone().unwrap_or_default();
        let refuse_on_card = |why: String, ticket: Option<String>| {
            Refusal::new(
                200,
                teams::message_response(&format!("Your answer was not recorded: {why}.")),
                format!("Teams click refused: {why}"),
                ticket,
            )
        };
        if let Some(expected) = &self.tenant_id
            && click
                .tenant_id
                .as_deref()
                .map(str::to_ascii_lowercase)
                .as_ref()
                != Some(expected)
        {
            return Err(refuse_on_card(
                format!(
                    "the click came from tenant `{}`, not this organisation's",
                    click.tenant_id.as_deref().unwrap_or("(none)")
                ),
                None,
            ));
        }
        let who = format!("teams:{}", click.aad_object_id);
        let claims = common_checks(&self.keys, &*self.ledger, &token, &who, now)
            .await
            .map_err(|(why, ticket)| refuse_on_card(why, ticket))?;
        let expected = match click.verb {
            TeamsVerb::Approve => Verdict::Approve,
            _ => Verdict::Reject,
        };
        if claims.verdict != expected {
            return Err(refuse_on_card(
                "the button does not match its token".to_owned(),
                Some(claims.workflow),
            ));
        }
        let card = card_for(&*self.ledger, &claims, &token).await;
        let name = if click.name.is_empty() {
            click.aad_object_id.clone()
        } else {
            click.name.clone()
        };
        Ok(Ok(Accepted {
            ticket: claims.workflow.clone(),
            answer: ApprovalAnswer {
                stage: claims.stage.as_str().into(),
                approver: name.as_str().into(),
                // Teams authenticates people by directory object id.
                approver_id: Some(click.aad_object_id.as_str().into()),
                verdict: claims.verdict,
                comment: click.comment.clone(),
                channel: "teams".to_owned(),
                at: now,
                binding: claims.binding.clone(),
            },
            used_key: used_key(&claims, &who),
            claims,
            card,
            response_url: None,
        }))
    }

    /// After the engine: records the button as used by this person (when
    /// their answer counted) and returns the invoke's
    /// answer — the card redrawn (closed, or with the reason the answer did
    /// not count).
    pub async fn finish(&self, accepted: &Accepted, outcome: &Outcome) -> Value {
        if *outcome == Outcome::Counted {
            let _ = self
                .ledger
                .use_token(&accepted.used_key, accepted.claims.expires)
                .await;
        }
        match (outcome, &accepted.card) {
            (Outcome::Counted, Some(c)) => {
                let _ = self.ledger.close_card("teams", &c.ask_key).await;
                teams::card_response(card::closed_card(&c.view, &decided(accepted)))
            }
            (Outcome::Counted, None) => teams::message_response(&decided(accepted).line()),
            (Outcome::Refused(why), Some(c)) => {
                teams::card_response(card::refused_card(&c.view, &[], why))
            }
            (Outcome::Refused(why), None) => {
                teams::message_response(&format!("Your answer was not recorded: {why}."))
            }
        }
    }
}
