//! Approval messages for Slack: Block Kit with approve and reject buttons (a
//! confirm dialog on reject), within Slack's limits: at most 50 blocks,
//! 3,000 characters per section text, 150 per header, 10 fields of 2,000,
//! 75 per button label and 2,000 per button value. Longer text is cut
//! visibly (`…`), never inside a character. Pure: JSON in, nothing sent.

use crate::view::{ApprovalView, Closure, truncate, when};
use serde_json::{Value, json};

/// The buttons' action ids.
pub const ACTION_APPROVE: &str = "groupgate.approve";
/// The reject button's action id.
pub const ACTION_REJECT: &str = "groupgate.reject";

/// Slack's limits, as documented for Block Kit.
pub mod limits {
    /// Blocks in one message.
    pub const BLOCKS: usize = 50;
    /// Characters in a section's text.
    pub const SECTION_TEXT: usize = 3000;
    /// Characters in a header.
    pub const HEADER_TEXT: usize = 150;
    /// Fields in a section, and characters in each.
    pub const FIELDS: usize = 10;
    /// Characters in one field.
    pub const FIELD_TEXT: usize = 2000;
    /// Characters in a button's label.
    pub const BUTTON_LABEL: usize = 75;
    /// Characters in a button's value.
    pub const BUTTON_VALUE: usize = 2000;
}

/// Text safe inside `mrkdwn`: Slack reads `&`, `<` and `>` as markup.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `text` (already escaped) cut to `max` characters, never inside an
/// entity such as `&amp;`.
fn cut(text: &str, max: usize) -> String {
    let cut = truncate(text, max);
    if cut.len() == text.len() {
        return cut;
    }
    let body = cut.trim_end_matches('…');
    match (body.rfind('&'), body.rfind(';')) {
        (Some(amp), semi) if semi.is_none_or(|s| s < amp) => {
            format!("{}…", body.get(..amp).unwrap_or_default())
        }
        _ => cut,
    }
}

fn mrkdwn(text: String) -> Value {
    json!({"type": "mrkdwn", "text": cut(&text, limits::SECTION_TEXT)})
}

fn section(text: String) -> Value {
    json!({"type": "section", "text": mrkdwn(text)})
}

/// A section of `text`, or none when it is blank (Slack refuses a section
/// whose text is empty).
fn section_if_any(text: &str) -> Option<Value> {
    (!text.trim().is_empty()).then(|| section(escape(text)))
}

fn field(title: &str, value: &str) -> Value {
    json!({"type": "mrkdwn", "text": cut(&format!("*{title}*\n{value}"), limits::FIELD_TEXT)})
}

fn header(view: &ApprovalView) -> Value {
    let title = format!(
        "{}Approval needed: {}",
        if view.escalation {
            "Escalated — "
        } else {
            ""
        },
        view.ticket
    );
    json!({"type": "header", "text": {"type": "plain_text", "text": truncate(&title, limits::HEADER_TEXT)}})
}

fn facts(view: &ApprovalView) -> Vec<Value> {
    let ticket = match &view.ticket_url {
        Some(url) => format!("<{}|{}>", escape(url), escape(&view.ticket)),
        None => escape(&view.ticket),
    };
    let mut fields = vec![field("Ticket", &ticket)];
    if let Some(d) = &view.details {
        fields.push(field("Requester", &escape(&d.requester)));
        fields.push(field("For", &escape(&d.target)));
        let group = match &d.group_name {
            Some(name) => format!("{} ({})", escape(name), escape(&d.group)),
            None => escape(&d.group),
        };
        fields.push(field("Group", &group));
        let mut risk = escape(&d.risk);
        if !d.tags.is_empty() {
            risk = format!("{risk}; tags: {}", escape(&d.tags.join(", ")));
        }
        fields.push(field("Risk", &risk));
    }
    fields.push(field("Until", &escape(&view.until_line())));
    fields.push(field("Stage", &escape(&view.stage_line())));
    fields.push(field(
        "Who may approve",
        &escape(&view.approvers.join(", ")),
    ));
    if let Some(deadline) = view.deadline {
        fields.push(field("Answer by", &when(deadline)));
    }
    fields.truncate(limits::FIELDS);
    vec![json!({"type": "section", "fields": fields})]
}

fn reasons(view: &ApprovalView) -> Vec<Value> {
    let Some(d) = &view.details else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if !d.justification.trim().is_empty() {
        out.push(section(format!(
            "*Justification*\n{}",
            escape(d.justification.trim())
        )));
    }
    if !d.reasons.is_empty() {
        let lines: Vec<String> = d
            .reasons
            .iter()
            .map(|r| format!("• {}", escape(r)))
            .collect();
        out.push(section(format!(
            "*Why this approval*\n{}",
            lines.join("\n")
        )));
    }
    out
}

fn button(label: &str, action: &str, style: &str, token: &str) -> Value {
    json!({
        "type": "button",
        "action_id": action,
        "text": {"type": "plain_text", "text": truncate(label, limits::BUTTON_LABEL)},
        "style": style,
        "value": token,
    })
}

/// The approval message's blocks (and its notification text).
pub fn approval_message(view: &ApprovalView) -> (String, Vec<Value>) {
    let mut blocks: Vec<Value> = std::iter::once(header(view))
        .chain(section_if_any(&view.summary))
        .collect();
    blocks.extend(facts(view));
    blocks.extend(reasons(view));
    let mut reject = button("Reject", ACTION_REJECT, "danger", &view.reject_token);
    reject["confirm"] = json!({
        "title": {"type": "plain_text", "text": "Reject this request?"},
        "text": {"type": "plain_text", "text": truncate(&format!("{} will not get the access asked for in {}.", view.details.as_ref().map(|d| d.target.as_str()).unwrap_or("The person"), view.ticket), 300)},
        "confirm": {"type": "plain_text", "text": "Reject"},
        "deny": {"type": "plain_text", "text": "Cancel"},
        "style": "danger",
    });
    blocks.push(json!({
        "type": "actions",
        "block_id": "groupgate_approval",
        "elements": [button("Approve", ACTION_APPROVE, "primary", &view.approve_token), reject],
    }));
    blocks.truncate(limits::BLOCKS);
    let text = truncate(
        &escape(&format!(
            "Approval needed: {} — {}",
            view.ticket, view.summary
        )),
        limits::SECTION_TEXT,
    );
    (text, blocks)
}

/// The message after it closed: what was asked, and who decided when (or
/// why no answer is needed any more); no buttons.
pub fn closed_message(view: &ApprovalView, closure: &Closure) -> (String, Vec<Value>) {
    let mut blocks: Vec<Value> = std::iter::once(header(view))
        .chain(section_if_any(&view.summary))
        .collect();
    blocks.extend(facts(view));
    blocks.push(section(format!("*{}*", escape(&closure.line()))));
    (
        truncate(
            &escape(&format!("{}: {}", view.ticket, closure.line())),
            limits::SECTION_TEXT,
        ),
        blocks,
    )
}

/// A notice (success, failure, an outcome for the requester).
pub fn notice_message(title: &str, message: &str) -> (String, Vec<Value>) {
    let blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": truncate(title, limits::HEADER_TEXT)}}),
        section_if_any(message).unwrap_or_else(|| section(escape(title))),
    ];
    (
        truncate(
            &escape(&format!("{title}: {message}")),
            limits::SECTION_TEXT,
        ),
        blocks,
    )
}
