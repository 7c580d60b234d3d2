//! What approvers are shown, checked against the platforms' own rules:
//! every Teams card validates against the Adaptive Cards 1.5 schema
//! (vendored from microsoft/AdaptiveCards, MIT, in `tests/data/`), and every
//! Slack message keeps within Block Kit's documented limits — for ordinary
//! requests and for hostile ones (huge, markup-laden, multi-byte text).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{DateTime, Utc};
use groupgate_chat::slack::blocks::{self, limits};
use groupgate_chat::teams::card;
use groupgate_chat::{ApprovalView, Closure};
use groupgate_core::ports::AskDetails;
use groupgate_core::workflow::Verdict;
use proptest::prelude::*;
use serde_json::Value;
use std::sync::OnceLock;

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn details(justification: String, reasons: Vec<String>, name: String) -> AskDetails {
    AskDetails {
        requester: name.clone(),
        target: name.clone(),
        group: "finance-bi-readers".into(),
        group_name: Some("Finance BI Readers".into()),
        group_object_id: "0d9f3a55-6a5e-4a8f-9b41-3e7c2f1a9b10".into(),
        risk: "high".into(),
        tags: vec!["finance".into(), "pii".into()],
        end_date: Some(at("2027-03-31T00:00:00Z")),
        max_duration_seconds: Some(90 * 86_400),
        justification,
        reasons,
        stage_index: 1,
        stage_count: 2,
        required: 1,
    }
}

fn view(details: Option<AskDetails>, summary: String) -> ApprovalView {
    ApprovalView {
        ticket: "RITM0010042".into(),
        ticket_url: Some(
            "https://example.service-now.com/sc_req_item.do?sysparm_query=number%3DRITM0010042"
                .into(),
        ),
        stage: "data-owner".into(),
        summary,
        details,
        approvers: vec!["Dana Owner".into(), "Eli Deputy".into()],
        deadline: Some(at("2026-12-07T09:00:00Z")),
        escalation: false,
        approve_token: format!("v1.{}.{}", "a".repeat(300), "b".repeat(43)),
        reject_token: format!("v1.{}.{}", "c".repeat(300), "d".repeat(43)),
    }
}

fn ordinary() -> ApprovalView {
    view(
        Some(details(
            "Quarter-end close: needs the Finance BI workspace until March.".into(),
            vec![
                "the group is tagged `finance`: its data owner approves".into(),
                "high risk: one approval per stage, no self-approval".into(),
            ],
            "Ada Lovelace".into(),
        )),
        "Add Ada Lovelace to Finance BI Readers".into(),
    )
}

/// Everything as large and as awkward as a request can make it.
fn hostile() -> ApprovalView {
    let markup = "<!channel> <@U0123> *bold* [click](https://evil.example) &amp; <script> ";
    let justification = format!("{}{}", markup.repeat(400), "é🙂".repeat(20_000));
    let reasons = (0..500)
        .map(|i| format!("reason {i}: {}", markup.repeat(30)))
        .collect();
    let name = format!("{}🙂", "Ω".repeat(5000));
    let mut d = details(justification, reasons, name.clone());
    d.group_name = Some(name);
    let mut v = view(Some(d), markup.repeat(200));
    v.approvers = (0..300).map(|i| format!("Approver {i} {markup}")).collect();
    v.escalation = true;
    v
}

fn bare() -> ApprovalView {
    let mut v = view(None, "Approve the removal of a stale member".into());
    v.ticket_url = None;
    v.deadline = None;
    v
}

fn closures() -> Vec<Closure> {
    vec![
        Closure::Decided {
            by: "Dana Owner".into(),
            verdict: Verdict::Approve,
            at: at("2026-12-04T10:05:00Z"),
        },
        Closure::Decided {
            by: "<!channel> Mallory".into(),
            verdict: Verdict::Reject,
            at: at("2026-12-04T10:05:00Z"),
        },
        Closure::Ended {
            reason: "approved through ServiceNow by Eli Deputy".repeat(300),
        },
    ]
}

fn approvers() -> Vec<(String, String)> {
    vec![
        (
            "6f1d2c3b-0000-4000-8000-00000000d0d0".into(),
            "Dana Owner".into(),
        ),
        (
            "6f1d2c3b-0000-4000-8000-00000000e1e1".into(),
            "Eli Deputy".into(),
        ),
    ]
}

// ---------------------------------------------------------------- Teams

fn schema() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let text = include_str!("data/adaptive-cards-1.5/adaptive-card.json");
        let schema: Value = serde_json::from_str(text).unwrap();
        jsonschema::draft6::new(&schema).unwrap()
    })
}

/// Validates `card` against the schema, without Teams' own `msteams`
/// extension (not part of the schema).
fn assert_valid_card(card: &Value) {
    let mut card = card.clone();
    card.as_object_mut().unwrap().remove("msteams");
    let errors: Vec<String> = schema()
        .iter_errors(&card)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "card does not validate:\n{}\n{card:#}",
        errors.join("\n")
    );
}

/// Teams refuses messages over about 28 KB.
const TEAMS_MESSAGE_BYTES: usize = 28 * 1024;

fn all_teams_cards(v: &ApprovalView) -> Vec<Value> {
    let mut cards = vec![
        card::approval_card(v, &approvers()),
        card::approval_card(v, &[]),
        card::refused_card(
            v,
            &approvers(),
            &"you are not an approver of this stage ".repeat(50),
        ),
        card::notice_card(&v.summary, &v.summary),
    ];
    cards.extend(closures().iter().map(|c| card::closed_card(v, c)));
    cards
}

#[test]
fn schema_rejects_what_teams_would() {
    // The check itself can fail: a card with an unknown element type, a
    // button without a title field of the right type, a wrong version type.
    for broken in [
        serde_json::json!({"type": "AdaptiveCard", "version": "1.4", "body": [{"type": "Blink"}]}),
        serde_json::json!({"type": "AdaptiveCard", "version": 1.4, "body": []}),
        serde_json::json!({"type": "AdaptiveCard", "version": "1.4",
            "actions": [{"type": "Action.Execute", "title": 7}]}),
    ] {
        assert!(!schema().is_valid(&broken), "{broken}");
    }
}

#[test]
fn every_teams_card_validates_and_fits() {
    for v in [ordinary(), hostile(), bare()] {
        for c in all_teams_cards(&v) {
            assert_valid_card(&c);
            let bytes = serde_json::to_vec(&c).unwrap().len();
            assert!(bytes < TEAMS_MESSAGE_BYTES, "card is {bytes} bytes");
        }
    }
}

#[test]
fn teams_approval_card_carries_the_buttons_and_the_facts() {
    let v = ordinary();
    let c = card::approval_card(&v, &approvers());
    let text = c.to_string();
    for needed in [
        "RITM0010042",
        "Ada Lovelace",
        "Finance BI Readers",
        "finance-bi-readers",
        "high",
        "stage 2 of 2",
        "Dana Owner, Eli Deputy",
        "2026-12-07 09:00 UTC",
        "Quarter-end close",
    ] {
        assert!(text.contains(needed), "{needed} missing from {c:#}");
    }
    let actions = &c["body"].as_array().unwrap().last().unwrap()["actions"];
    assert_eq!(actions[0]["verb"], card::VERB_APPROVE);
    assert_eq!(actions[0]["data"]["token"], v.approve_token);
    assert_eq!(actions[1]["verb"], card::VERB_REJECT);
    assert_eq!(actions[1]["data"]["token"], v.reject_token);
    // Older clients get a submit with the same token.
    assert_eq!(actions[1]["fallback"]["data"]["token"], v.reject_token);
    // The approvers are mentioned by directory object id.
    let entities = c["msteams"]["entities"].as_array().unwrap();
    assert_eq!(entities.len(), 2);
    assert_eq!(
        entities[0]["mentioned"]["id"],
        "6f1d2c3b-0000-4000-8000-00000000d0d0"
    );
    assert_eq!(c["refresh"]["action"]["verb"], card::VERB_REFRESH);
}

#[test]
fn teams_closed_cards_have_no_buttons_and_say_who_decided() {
    let v = ordinary();
    for closure in closures() {
        let c = card::closed_card(&v, &closure);
        let text = c.to_string();
        assert!(!text.contains("Action.Execute"), "{c:#}");
        assert!(!text.contains(&v.approve_token));
        assert!(!text.contains(&v.reject_token));
        assert!(c.get("refresh").is_none());
        assert!(text.contains(&groupgate_chat::truncate(&closure.line(), 60)[..20]));
    }
}

#[test]
fn teams_request_text_is_never_read_as_markdown() {
    let v = hostile();
    let c = card::approval_card(&v, &approvers());
    // The justification and the summary are plain runs, not markdown text.
    let mut runs = Vec::new();
    let mut blocks_with_link = Vec::new();
    for element in c["body"].as_array().unwrap() {
        match element["type"].as_str().unwrap() {
            "RichTextBlock" => runs.extend(
                element["inlines"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["type"].as_str().unwrap().to_owned()),
            ),
            "TextBlock" if element["text"].as_str().unwrap().contains("Justification") => {
                blocks_with_link.push(element.clone())
            }
            _ => {}
        }
    }
    assert!(runs.iter().all(|t| t == "TextRun"), "{runs:?}");
    assert!(
        runs.len() >= 3,
        "summary and justification are runs: {runs:?}"
    );
    assert!(blocks_with_link.is_empty(), "{blocks_with_link:?}");
}

// ---------------------------------------------------------------- Slack

fn chars(v: &Value) -> usize {
    v.as_str().unwrap().chars().count()
}

/// Checks Block Kit's documented limits for the elements groupgate uses.
fn assert_within_slack_limits(text: &str, blocks: &[Value]) {
    assert!(blocks.len() <= limits::BLOCKS, "{} blocks", blocks.len());
    assert!(text.chars().count() <= 40_000);
    for b in blocks {
        match b["type"].as_str().unwrap() {
            "header" => {
                assert_eq!(b["text"]["type"], "plain_text");
                assert!(chars(&b["text"]["text"]) <= limits::HEADER_TEXT);
            }
            "section" => {
                if let Some(t) = b.get("text") {
                    assert!(chars(&t["text"]) <= limits::SECTION_TEXT);
                    assert!(chars(&t["text"]) >= 1);
                }
                if let Some(fields) = b.get("fields") {
                    let fields = fields.as_array().unwrap();
                    assert!(fields.len() <= limits::FIELDS);
                    for f in fields {
                        assert!(chars(&f["text"]) <= limits::FIELD_TEXT);
                    }
                }
                assert!(b.get("text").is_some() || b.get("fields").is_some());
            }
            "actions" => {
                let elements = b["elements"].as_array().unwrap();
                assert!(elements.len() <= 25);
                for e in elements {
                    assert!(chars(&e["text"]["text"]) <= limits::BUTTON_LABEL);
                    assert!(chars(&e["value"]) <= limits::BUTTON_VALUE);
                    assert!(chars(&e["action_id"]) <= 255);
                    if let Some(confirm) = e.get("confirm") {
                        assert!(chars(&confirm["title"]["text"]) <= 100);
                        assert!(chars(&confirm["text"]["text"]) <= 300);
                        assert!(chars(&confirm["confirm"]["text"]) <= 30);
                        assert!(chars(&confirm["deny"]["text"]) <= 30);
                    }
                }
            }
            other => panic!("unexpected block type {other}"),
        }
    }
}

/// Every `mrkdwn` text in `value` (plain text is shown as written).
fn mrkdwn_texts(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if map.get("type").and_then(Value::as_str) == Some("mrkdwn") {
                out.push(map["text"].as_str().unwrap().to_owned());
            }
            map.values().for_each(|v| mrkdwn_texts(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| mrkdwn_texts(v, out)),
        _ => {}
    }
}

/// Slack reads `<…>` as links and mentions (`<!channel>` pings a whole
/// channel) in `mrkdwn` and in the notification text: request text must
/// arrive escaped there.
fn assert_no_raw_markup(text: &str, blocks: &[Value]) {
    let mut texts = vec![text.to_owned()];
    mrkdwn_texts(&Value::Array(blocks.to_vec()), &mut texts);
    assert!(texts.len() > 1, "no mrkdwn at all");
    for t in texts {
        for raw in ["<!channel>", "<@U0123>", "<script>", "<https://evil"] {
            assert!(!t.contains(raw), "{raw} reached Slack unescaped in {t}");
        }
    }
}

#[test]
fn every_slack_message_is_within_limits_and_escaped() {
    for v in [ordinary(), hostile(), bare()] {
        let (text, b) = blocks::approval_message(&v);
        assert_within_slack_limits(&text, &b);
        assert_no_raw_markup(&text, &b);
        for closure in closures() {
            let (text, b) = blocks::closed_message(&v, &closure);
            assert_within_slack_limits(&text, &b);
            assert_no_raw_markup(&text, &b);
            assert!(!serde_json::to_string(&b).unwrap().contains("\"actions\""));
        }
        let (text, b) = blocks::notice_message(&v.summary, &v.summary);
        assert_within_slack_limits(&text, &b);
        assert_no_raw_markup(&text, &b);
    }
}

#[test]
fn slack_approval_message_has_both_buttons_and_a_confirm_on_reject() {
    let v = ordinary();
    let (text, b) = blocks::approval_message(&v);
    assert!(text.contains("RITM0010042"));
    let actions = b.iter().find(|b| b["type"] == "actions").unwrap();
    let elements = actions["elements"].as_array().unwrap();
    assert_eq!(elements[0]["action_id"], blocks::ACTION_APPROVE);
    assert_eq!(elements[0]["value"], v.approve_token);
    assert!(elements[0].get("confirm").is_none());
    assert_eq!(elements[1]["action_id"], blocks::ACTION_REJECT);
    assert_eq!(elements[1]["value"], v.reject_token);
    assert!(
        elements[1]["confirm"]["text"]["text"]
            .as_str()
            .unwrap()
            .contains("Ada Lovelace")
    );
    let all = serde_json::to_string(&b).unwrap();
    // The ticket link is a real link; its `|` label is the ticket.
    assert!(all.contains("|RITM0010042>"), "{all}");
    assert!(all.contains("Quarter-end close"));
}

#[test]
fn cutting_never_leaves_half_an_entity() {
    // `&amp;` repeated until the cut falls inside one.
    for shift in 0..5 {
        let justification = format!("{}{}", "x".repeat(shift), "&".repeat(3000));
        let v = view(Some(details(justification, vec![], "A".into())), "s".into());
        let (_, b) = blocks::approval_message(&v);
        for block in &b {
            if let Some(t) = block.get("text").and_then(|t| t["text"].as_str()) {
                let body = t.trim_end_matches('…');
                if let Some(amp) = body.rfind('&') {
                    assert!(
                        body[amp..].starts_with("&amp;"),
                        "half an entity: {}",
                        &body[amp..]
                    );
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever a request says, both platforms get a valid, bounded message.
    #[test]
    fn any_request_renders_within_the_rules(
        justification in "\\PC{0,4000}",
        reason in "[<>&*_~`\\[\\]()!@a-z é🙂]{0,400}",
        reasons in 0usize..40,
        name in "\\PC{0,300}",
        summary in "\\PC{0,800}",
    ) {
        let v = view(
            Some(details(justification, vec![reason; reasons], name)),
            summary,
        );
        for c in all_teams_cards(&v) {
            assert_valid_card(&c);
            prop_assert!(serde_json::to_vec(&c).unwrap().len() < TEAMS_MESSAGE_BYTES);
        }
        let (text, b) = blocks::approval_message(&v);
        assert_within_slack_limits(&text, &b);
    }
}

// ---------------------------------------------------------------- snapshots

/// Compares `value` with the committed snapshot `name` (written instead when
/// `GROUPGATE_UPDATE_SNAPSHOTS=1`); the docs show these files.
fn snapshot(name: &str, value: &Value) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    let text = serde_json::to_string_pretty(value).unwrap() + "\n";
    if std::env::var("GROUPGATE_UPDATE_SNAPSHOTS").as_deref() == Ok("1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (GROUPGATE_UPDATE_SNAPSHOTS=1 writes it)",
            path.display()
        )
    });
    assert_eq!(
        committed,
        text,
        "{} changed; review and run with GROUPGATE_UPDATE_SNAPSHOTS=1",
        path.display()
    );
}

#[test]
fn the_ordinary_request_renders_as_its_snapshots() {
    let v = ordinary();
    snapshot(
        "teams-approval.json",
        &card::approval_card(&v, &approvers()),
    );
    snapshot("teams-closed.json", &card::closed_card(&v, &closures()[0]));
    let (text, blocks) = blocks::approval_message(&v);
    snapshot(
        "slack-approval.json",
        &serde_json::json!({"text": text, "blocks": blocks}),
    );
}
