//! Chat helpers for a bot of the caller's: approval cards rendered from an
//! ask (Teams Adaptive Cards, Slack Block Kit) with signed action tokens on
//! their buttons, the tokens checked back, and Slack's request signature
//! verified. Rendering is the `groupgate-chat` crate's; nothing is decided
//! here.

use crate::convert::{from_js, time_of};
use crate::errors::{error, invalid};
use chrono::{DateTime, Utc};
use groupgate_chat::teams::card;
use groupgate_chat::{ActionClaims, ApprovalView, TokenKey, nonce, slack};
use groupgate_core::Secret;
use groupgate_core::ports::ApprovalAsk;
use groupgate_core::workflow::Verdict;
use napi::Env;
use napi::bindgen_prelude::{Buffer, Either, Unknown};
use napi_derive::napi;
use serde_json::{Value, json};
use std::collections::HashMap;

/// The key that signs and checks the action tokens on approval buttons
/// (HMAC-SHA256; at least 32 bytes, kept like any secret: it never appears
/// in `toString()`, `util.inspect` or errors).
#[napi]
pub struct ActionTokenKey {
    key: TokenKey,
}

/// What an action token approves or rejects.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct ActionClaimsView {
    /// The workflow (the ticket number).
    pub workflow: String,
    /// The stage.
    pub stage: String,
    /// The binding digest the card showed.
    pub binding: String,
    /// `approve` or `reject`.
    pub verdict: String,
    /// Not accepted after this instant.
    pub expires: DateTime<Utc>,
    /// Unique per card.
    pub nonce: String,
}

/// How to render an approval card.
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct CardOptions {
    /// A link to the ticket, with `{ticket}` for its number.
    pub ticket_url: Option<String>,
    /// How long the buttons work when the ask has no deadline (seconds;
    /// default 7 days).
    pub lifetime_seconds: Option<u32>,
}

/// A rendered approval request: the card or message, and the view it was
/// drawn from (keep it to redraw the card closed later).
#[napi(object)]
pub struct RenderedApproval {
    /// The Teams Adaptive Card (an attachment's `content`), or Slack's
    /// `{ text, blocks }`.
    #[napi(ts_type = "Record<string, unknown>")]
    pub message: Value,
    /// What the card shows, with its buttons' tokens.
    #[napi(ts_type = "Record<string, unknown>")]
    pub view: Value,
}

impl ActionTokenKey {
    fn view(
        &self,
        env: &Env,
        ask: Unknown<'_>,
        options: Option<CardOptions>,
    ) -> napi::Result<(ApprovalAsk, ApprovalView)> {
        let ask: ApprovalAsk = from_js(env, ask, "approval ask")?;
        let options = options.unwrap_or_default();
        let lifetime =
            chrono::TimeDelta::seconds(i64::from(options.lifetime_seconds.unwrap_or(7 * 86_400)));
        let expires = ask.deadline.unwrap_or_else(|| Utc::now() + lifetime);
        let card_nonce = nonce();
        let claims = |verdict| ActionClaims {
            workflow: ask.ticket.to_string(),
            stage: ask.stage.to_string(),
            binding: ask.binding.clone(),
            verdict,
            expires,
            nonce: card_nonce.clone(),
        };
        let ticket_url = options
            .ticket_url
            .map(|u| u.replace("{ticket}", ask.ticket.as_ref()));
        let view = ApprovalView::of(
            &ask,
            ticket_url,
            self.key.sign(&claims(Verdict::Approve)),
            self.key.sign(&claims(Verdict::Reject)),
        );
        Ok((ask, view))
    }
}

#[napi]
impl ActionTokenKey {
    /// A key from secret text of at least 32 bytes (e.g. from
    /// `openssl rand -base64 48`, kept in the environment).
    #[napi(constructor, catch_unwind)]
    pub fn new(secret: String) -> napi::Result<Self> {
        let key = TokenKey::new(Secret::new(secret))
            .map_err(|e| error("SettingsError", &e.to_string(), json!({})))?;
        Ok(Self { key })
    }

    /// The Teams approval card for `ask` (what the engine passes to the
    /// approvals port's `ask`): Adaptive Card 1.4 with `Action.Execute`
    /// approve and reject buttons carrying signed action tokens, and the
    /// approvers mentioned by directory object id.
    #[napi(catch_unwind)]
    pub fn render_teams_card(
        &self,
        env: Env,
        #[napi(ts_arg_type = "ApprovalAskInput")] ask: Unknown<'_>,
        options: Option<CardOptions>,
    ) -> napi::Result<RenderedApproval> {
        let (ask, view) = self.view(&env, ask, options)?;
        let mentions: Vec<(String, String)> = ask
            .approvers
            .iter()
            .map(|a| (a.id.to_string(), a.name.to_string()))
            .collect();
        Ok(RenderedApproval {
            message: card::approval_card(&view, &mentions),
            view: crate::decision::json_of(&view)?,
        })
    }

    /// The Slack approval message for `ask`: `{ text, blocks }` (Block Kit,
    /// within Slack's limits, request text escaped), approve and reject
    /// buttons (reject behind a confirm dialog) carrying signed tokens.
    #[napi(catch_unwind)]
    pub fn render_slack_message(
        &self,
        env: Env,
        #[napi(ts_arg_type = "ApprovalAskInput")] ask: Unknown<'_>,
        options: Option<CardOptions>,
    ) -> napi::Result<RenderedApproval> {
        let (_, view) = self.view(&env, ask, options)?;
        let (text, blocks) = slack::blocks::approval_message(&view);
        Ok(RenderedApproval {
            message: json!({"text": text, "blocks": blocks}),
            view: crate::decision::json_of(&view)?,
        })
    }

    /// Checks a button's action token (the MAC in constant time, then its
    /// expiry at `now`, then — when given — that it is for `workflow`) and
    /// returns what it approves or rejects. Throws `SignatureError`.
    #[napi(catch_unwind)]
    pub fn verify(
        &self,
        token: String,
        now: Option<Either<chrono::DateTime<chrono::Utc>, String>>,
        workflow: Option<String>,
    ) -> napi::Result<ActionClaimsView> {
        let now = time_of(now, "now")?;
        let claims = self
            .key
            .verify(&token, now, workflow.as_deref())
            .map_err(|e| error("SignatureError", &e.to_string(), json!({})))?;
        Ok(ActionClaimsView {
            workflow: claims.workflow,
            stage: claims.stage,
            binding: claims.binding,
            verdict: match claims.verdict {
                Verdict::Approve => "approve".to_owned(),
                Verdict::Reject => "reject".to_owned(),
            },
            expires: claims.expires,
            nonce: claims.nonce,
        })
    }

    /// Never the secret.
    #[napi(js_name = "toString")]
    pub fn to_text(&self) -> String {
        "ActionTokenKey(…)".to_owned()
    }
}

/// A header's value from a Node headers object (`IncomingMessage.headers`:
/// lower-case names, a string or a list of strings).
pub(crate) fn header(
    headers: &HashMap<String, Either<String, Vec<String>>>,
    name: &str,
) -> Option<String> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| match v {
            Either::A(s) => Some(s.clone()),
            Either::B(list) => list.first().cloned(),
        })
}

/// The raw body as bytes (a `Buffer` or a string).
pub(crate) fn body_bytes(body: &Either<Buffer, String>) -> &[u8] {
    match body {
        Either::A(b) => b.as_ref(),
        Either::B(s) => s.as_bytes(),
    }
}

/// Checks a Slack request's signature: `X-Slack-Signature` over the raw
/// body and `X-Slack-Request-Timestamp`, within five minutes of `now`, in
/// constant time. Throws `SignatureError` saying what is wrong; pass the
/// body exactly as received (before any parsing).
#[napi(catch_unwind)]
pub fn verify_slack_request(
    signing_secret: String,
    #[napi(ts_arg_type = "Record<string, string | string[] | undefined>")] headers: HashMap<
        String,
        Either<String, Vec<String>>,
    >,
    #[napi(ts_arg_type = "Buffer | string")] raw_body: Either<Buffer, String>,
    now: Option<Either<chrono::DateTime<chrono::Utc>, String>>,
) -> napi::Result<()> {
    if signing_secret.is_empty() {
        return Err(invalid("Slack signing secret", "", "it is empty"));
    }
    let now = time_of(now, "now")?;
    slack::verify_signature(
        &Secret::new(signing_secret),
        header(&headers, "x-slack-request-timestamp").as_deref(),
        header(&headers, "x-slack-signature").as_deref(),
        body_bytes(&raw_body),
        now.timestamp(),
    )
    .map_err(|e| error("SignatureError", &e.to_string(), json!({})))
}
