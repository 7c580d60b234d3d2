//! Approval cards for Microsoft Teams: Adaptive Cards 1.4 with
//! `Action.Execute` approve/reject verbs (and `Action.Submit` fallbacks for
//! older clients), an optional comment, a manual refresh, and mentions of
//! the approvers. Pure: JSON in, nothing sent.

use crate::view::{ApprovalView, Closure, truncate, when};
use serde_json::{Value, json};

/// The version every card declares (`Action.Execute` and `refresh` need it).
pub const CARD_VERSION: &str = "1.4";
/// The verbs the buttons send.
pub const VERB_APPROVE: &str = "groupgate.approve";
/// The reject verb.
pub const VERB_REJECT: &str = "groupgate.reject";
/// The refresh verb.
pub const VERB_REFRESH: &str = "groupgate.refresh";
/// The comment input's id.
pub const COMMENT_INPUT: &str = "comment";

/// Longest text of one reason line on a card (longer ones are cut, visibly).
const REASON_CHARS: usize = 300;
/// At most this many reasons are listed.
const MAX_REASONS: usize = 12;

fn text(value: impl Into<String>) -> Value {
    json!({"type": "TextBlock", "text": value.into(), "wrap": true})
}

/// Text exactly as written: a `TextRun` in a `RichTextBlock` is never read
/// as markdown, so a link or emphasis typed into a request cannot dress up
/// an approval card.
fn plain(label: Option<&str>, value: impl Into<String>) -> Value {
    let mut inlines = Vec::new();
    if let Some(label) = label {
        inlines.push(json!({"type": "TextRun", "text": format!("{label}: "), "weight": "Bolder"}));
    }
    inlines.push(json!({"type": "TextRun", "text": value.into()}));
    json!({"type": "RichTextBlock", "inlines": inlines})
}

fn fact(title: &str, value: impl Into<String>) -> Value {
    json!({"title": title, "value": value.into()})
}

fn header(view: &ApprovalView) -> Vec<Value> {
    let title = format!(
        "{}Approval needed: {}",
        if view.escalation {
            "Escalated — "
        } else {
            ""
        },
        view.ticket
    );
    vec![
        json!({"type": "TextBlock", "text": title, "size": "Medium", "weight": "Bolder", "wrap": true}),
        plain(None, truncate(&view.summary, 500)),
    ]
}

fn facts(view: &ApprovalView) -> Value {
    let mut facts = Vec::new();
    let ticket = match &view.ticket_url {
        Some(url) => format!("[{}]({url})", view.ticket),
        None => view.ticket.clone(),
    };
    facts.push(fact("Ticket", ticket));
    if let Some(d) = &view.details {
        facts.push(fact("Requester", truncate(&d.requester, 200)));
        facts.push(fact("For", truncate(&d.target, 200)));
        let group = match &d.group_name {
            Some(name) => format!("{} ({})", truncate(name, 200), d.group),
            None => d.group.clone(),
        };
        facts.push(fact("Group", group));
        if !d.tags.is_empty() {
            facts.push(fact("Tags", d.tags.join(", ")));
        }
        facts.push(fact("Risk", d.risk.clone()));
    }
    facts.push(fact("Until", view.until_line()));
    facts.push(fact("Stage", view.stage_line()));
    facts.push(fact(
        "Who may approve",
        truncate(&view.approvers.join(", "), 500),
    ));
    if let Some(deadline) = view.deadline {
        facts.push(fact("Answer by", when(deadline)));
    }
    json!({"type": "FactSet", "facts": facts})
}

fn reasons(view: &ApprovalView) -> Vec<Value> {
    let Some(d) = &view.details else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if !d.justification.trim().is_empty() {
        out.push(plain(
            Some("Justification"),
            truncate(d.justification.trim(), 1000),
        ));
    }
    if !d.reasons.is_empty() {
        out.push(json!({"type": "TextBlock", "text": "Why this approval", "weight": "Bolder", "wrap": true}));
        let mut lines: Vec<String> = d
            .reasons
            .iter()
            .take(MAX_REASONS)
            .map(|r| format!("- {}", truncate(r, REASON_CHARS)))
            .collect();
        if d.reasons.len() > MAX_REASONS {
            lines.push(format!("- … and {} more", d.reasons.len() - MAX_REASONS));
        }
        out.push(text(lines.join("\n")));
    }
    out
}

fn button(title: &str, verb: &str, style: &str, token: &str) -> Value {
    json!({
        "type": "Action.Execute",
        "title": title,
        "verb": verb,
        "style": style,
        "data": {"token": token},
        "fallback": {
            "type": "Action.Submit",
            "title": title,
            "style": style,
            "data": {"verb": verb, "token": token},
        },
    })
}

/// Teams' mentions of the approvers (by directory object id), so they are
/// notified in the channel.
fn mentions(approver_ids: &[(String, String)]) -> (String, Value) {
    let mut line = Vec::new();
    let mut entities = Vec::new();
    for (id, name) in approver_ids {
        let at = format!("<at>{name}</at>");
        line.push(at.clone());
        entities
            .push(json!({"type": "mention", "text": at, "mentioned": {"id": id, "name": name}}));
    }
    (line.join(" "), json!({"entities": entities}))
}

/// The approval card: what is asked, why, and the two buttons. `approvers`
/// are (directory object id, name) pairs to mention.
pub fn approval_card(view: &ApprovalView, approvers: &[(String, String)]) -> Value {
    let mut body = header(view);
    let (mention_line, msteams) = mentions(approvers);
    if !mention_line.is_empty() {
        body.push(text(format!("For: {mention_line}")));
    }
    body.push(facts(view));
    body.extend(reasons(view));
    body.push(json!({
        "type": "Input.Text",
        "id": COMMENT_INPUT,
        "placeholder": "Comment (optional; a reason helps when you reject)",
        "isMultiline": true,
        "maxLength": 500,
    }));
    body.push(json!({
        "type": "ActionSet",
        "actions": [
            button("Approve", VERB_APPROVE, "positive", &view.approve_token),
            button("Reject", VERB_REJECT, "destructive", &view.reject_token),
        ],
    }));
    json!({
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "refresh": {
            "action": {
                "type": "Action.Execute",
                "title": "Refresh",
                "verb": VERB_REFRESH,
                "data": {"ticket": view.ticket, "stage": view.stage},
            },
            "userIds": [],
        },
        "body": body,
        "msteams": msteams,
    })
}

/// The same card after it closed: what was asked, and who decided when (or
/// why no answer is needed any more); no buttons.
pub fn closed_card(view: &ApprovalView, closure: &Closure) -> Value {
    let mut body = header(view);
    body.push(facts(view));
    body.push(json!({
        "type": "TextBlock",
        "text": closure.line(),
        "weight": "Bolder",
        "wrap": true,
        "color": match closure {
            Closure::Decided { verdict: groupgate_core::workflow::Verdict::Reject, .. } => "Attention",
            Closure::Decided { .. } => "Good",
            Closure::Ended { .. } => "Default",
        },
    }));
    json!({
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "body": body,
    })
}

/// The card shown to someone whose click did not count, with the reason,
/// and the buttons still there for whoever may answer.
pub fn refused_card(view: &ApprovalView, approvers: &[(String, String)], why: &str) -> Value {
    let mut card = approval_card(view, approvers);
    if let Some(body) = card.get_mut("body").and_then(Value::as_array_mut) {
        body.insert(
            1,
            json!({
                "type": "TextBlock",
                "text": format!("Your answer was not recorded: {}", truncate(why, 300)),
                "color": "Attention",
                "weight": "Bolder",
                "wrap": true,
            }),
        );
    }
    card
}

/// A notice as a small card (success, failure, an outcome for the
/// requester).
pub fn notice_card(title: &str, message: &str) -> Value {
    json!({
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "body": [
            {"type": "TextBlock", "text": truncate(title, 200), "weight": "Bolder", "wrap": true},
            text(truncate(message, 2000)),
        ],
    })
}
