//! Approvals from Slack and Teams end to end: the worker's listener takes
//! real signed clicks from the Slack and Teams emulators, the answers count
//! once and only for the right person, ServiceNow gets the decision written
//! back (the approval record and a work note), stale cards are redrawn when
//! their stage ends, and everything refused is in the audit trail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod chat_world;

use chat_world::*;
use groupgate_chat::slack::blocks::{ACTION_APPROVE, ACTION_REJECT};
use groupgate_chat::teams::card::{VERB_APPROVE, VERB_REJECT};
use serde_json::{Value, json};

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The Slack message asking `user_or_channel`, once posted.
async fn slack_ask(w: &World, to: &str) -> groupgate_emulators::SlackPosted {
    eventually(&format!("a Slack message to {to}"), async || {
        w.slack.messages().into_iter().find(|m| m.channel == to)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_manager_approves_in_slack_the_data_owner_in_teams_and_access_is_granted() {
    let w = World::start("both", &[(1, "ada.lovelace@contoso.com")]).await;

    // The manager stage is asked in ServiceNow, in Grace's Slack DMs and
    // in the Teams approvals channel.
    let grace_dm = slack_ask(&w, "U0GRACE").await;
    let text = slack_text(&grace_dm.blocks);
    assert!(
        text.contains("Finance BI Readers") && text.contains("RITM0000001"),
        "{text}"
    );
    let manager_card = eventually("the manager's Teams card", async || {
        w.teams.activities().into_iter().find(|a| !a.reply)
    })
    .await;
    assert_eq!(w.snow.approvals("RITM0000001").len(), 1);
    assert_eq!(w.phase("RITM0000001").await, "awaiting_approval");

    // Ivan is not Ada's manager: his click does not count.
    let (body, _) = w.slack.click_body(&grace_dm, ACTION_APPROVE, "U0IVAN");
    let (status, _) = w.slack.deliver(&w.slack_endpoint(), &body, now()).await;
    assert_eq!(status, 200);
    eventually("Ivan told his answer did not count", async || {
        w.slack.responses().into_iter().find(|(_, b)| {
            b["text"]
                .as_str()
                .is_some_and(|t| t.contains("not recorded"))
        })
    })
    .await;

    // A forged click (another signing secret) is refused outright.
    let (body, _) = w.slack.click_body(&grace_dm, ACTION_APPROVE, "U0GRACE");
    let forged = groupgate_emulators::slack_sign("not-the-secret", now(), body.as_bytes());
    let status = reqwest::Client::new()
        .post(w.slack_endpoint())
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-slack-request-timestamp", now().to_string())
        .header("x-slack-signature", forged)
        .body(body.clone())
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);
    // So is a genuine one replayed ten minutes late.
    let (status, _) = w
        .slack
        .deliver(&w.slack_endpoint(), &body, now() - 600)
        .await;
    assert_eq!(status, 401);
    assert!(!w.graph.is_direct_member(FIN, ADA));

    // Grace approves in Slack.
    let (status, _) = w.slack.deliver(&w.slack_endpoint(), &body, now()).await;
    assert_eq!(status, 200);
    // Her message is redrawn as decided, without buttons.
    eventually("Grace's message closed", async || {
        let m = w
            .slack
            .messages()
            .into_iter()
            .find(|m| m.ts == grace_dm.ts)?;
        let t = slack_text(&m.blocks);
        (t.contains("Approved") && !t.contains(ACTION_APPROVE)).then_some(())
    })
    .await;
    // ServiceNow: her approval record answered, and a work note.
    let grace_record = eventually("Grace's ServiceNow record approved", async || {
        w.snow
            .approvals("RITM0000001")
            .into_iter()
            .find(|r| r.get("state").and_then(Value::as_str) == Some("approved"))
    })
    .await;
    assert!(
        grace_record
            .get("comments")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .contains("via slack")
            || w.snow
                .journal(grace_record["sys_id"].as_str().unwrap(), "comments")
                .iter()
                .any(|c| c.contains("via slack")),
        "{grace_record:?}"
    );
    // The manager's Teams card is redrawn: the stage is approved, by Grace
    // via Slack, so nobody clicks a dead button.
    eventually("the Teams manager card closed", async || {
        let a = w
            .teams
            .activities()
            .into_iter()
            .find(|a| a.activity_id == manager_card.activity_id)?;
        let card = a.card.to_string();
        (a.updates > 0 && !card.contains(VERB_APPROVE) && card.contains("slack")).then_some(())
    })
    .await;

    // Replaying Grace's click changes nothing.
    let (status, _) = w.slack.deliver(&w.slack_endpoint(), &body, now()).await;
    assert_eq!(status, 200);
    eventually("the replay refused", async || {
        w.slack.responses().into_iter().find(|(_, b)| {
            b["text"]
                .as_str()
                .is_some_and(|t| t.contains("already used") || t.contains("already recorded"))
        })
    })
    .await;

    // The data owner stage: a new Teams card; Dora has no Slack account,
    // so Slack asks in the fallback channel.
    let owner_card = eventually("the data-owner Teams card", async || {
        w.teams
            .activities()
            .into_iter()
            .find(|a| !a.reply && a.activity_id != manager_card.activity_id)
    })
    .await;
    let fallback = slack_ask(&w, "C0APPROVALS").await;

    // Ivan clicks Dora's card in Teams: authenticated, but not the data owner.
    let ivan_click = w
        .teams
        .invoke(&owner_card, VERB_APPROVE, &ivan_in_teams(), None);
    let (status, answer) = w
        .teams
        .deliver(&w.teams_endpoint(), &ivan_click, Some(&w.bot_token()))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer.to_string().contains("not recorded"), "{answer}");

    // A click with a token signed by another key, for another bot, or
    // expired: 401, and nothing recorded.
    let dora_click = w.teams.invoke(
        &owner_card,
        VERB_APPROVE,
        &dora_in_teams(),
        Some("ok for Q4 reporting"),
    );
    let t = w.teams.options();
    let base = json!({"iss": groupgate_emulators::TEAMS_ISSUER, "aud": t.app_id, "serviceurl": w.teams.service_url(), "nbf": now() - 5, "exp": now() + 3600});
    let mut other_bot = base.clone();
    other_bot["aud"] = json!("00000000-0000-0000-0000-0000000000ff");
    let mut expired = base.clone();
    expired["exp"] = json!(now() - 600);
    expired["nbf"] = json!(now() - 4000);
    for (what, token) in [
        (
            "unknown key",
            groupgate_emulators::teams_mint(&base, "another-key"),
        ),
        (
            "another bot",
            groupgate_emulators::teams_mint(&other_bot, groupgate_emulators::TEAMS_KEY_ID),
        ),
        (
            "expired",
            groupgate_emulators::teams_mint(&expired, groupgate_emulators::TEAMS_KEY_ID),
        ),
    ] {
        let (status, _) = w
            .teams
            .deliver(&w.teams_endpoint(), &dora_click, Some(&token))
            .await;
        assert_eq!(status, 401, "{what}");
    }
    let (status, _) = w
        .teams
        .deliver(&w.teams_endpoint(), &dora_click, None)
        .await;
    assert_eq!(status, 401, "no token");
    // From another tenant: refused.
    let mut elsewhere = dora_click.clone();
    elsewhere["channelData"]["tenant"]["id"] = json!("00000000-0000-0000-0000-0000000000aa");
    let (status, answer) = w
        .teams
        .deliver(&w.teams_endpoint(), &elsewhere, Some(&w.bot_token()))
        .await;
    assert_eq!(status, 200);
    assert!(answer.to_string().contains("tenant"), "{answer}");
    assert!(!w.graph.is_direct_member(FIN, ADA));

    // Dora approves in Teams: the card she clicked comes back closed.
    let (status, answer) = w
        .teams
        .deliver(&w.teams_endpoint(), &dora_click, Some(&w.bot_token()))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["statusCode"], 200, "{answer}");
    assert_eq!(
        answer["type"], "application/vnd.microsoft.card.adaptive",
        "{answer}"
    );
    let closed = answer["value"].to_string();
    assert!(
        closed.contains("Dora Data") && !closed.contains(VERB_APPROVE),
        "{closed}"
    );

    // The change runs: Ada is a member, the ticket is closed complete.
    eventually("access active", async || {
        (w.phase("RITM0000001").await == "active").then_some(())
    })
    .await;
    assert!(w.graph.is_direct_member(FIN, ADA));
    let ritm = w.snow.ritm("RITM0000001").unwrap();
    assert_eq!(ritm["state"], "3", "{ritm:?}");
    // A chat answer's record in ServiceNow, read back, is not a second
    // answer: no refusal noted on the ticket.
    assert!(
        !w.work_notes(1)
            .iter()
            .any(|n| n.contains("another stage than the one open")),
        "{:?}",
        w.work_notes(1)
    );
    let notes = w.work_notes(1).join("\n");
    for expected in [
        "approval: `grace.hopper@contoso.com` approved stage `manager` via slack",
        "stage `data-owner` via teams",
        "refused an answer from `ivan.invoices@contoso.com` via slack",
    ] {
        assert!(notes.contains(expected), "`{expected}` not in\n{notes}");
    }
    // The Slack fallback message for the data-owner stage was closed too.
    eventually("the Slack fallback closed", async || {
        let m = w
            .slack
            .messages()
            .into_iter()
            .find(|m| m.ts == fallback.ts)?;
        (m.updates > 0 && !slack_text(&m.blocks).contains(ACTION_APPROVE)).then_some(())
    })
    .await;
    // Dora's ServiceNow approval record is answered too, with her comment
    // in the work notes' trail.
    let approvals = w.snow.approvals("RITM0000001");
    assert_eq!(
        approvals
            .iter()
            .filter(|r| r.get("state").and_then(Value::as_str) == Some("approved"))
            .count(),
        2,
        "{approvals:?}"
    );

    // The audit trail: every answer and every refusal, chain intact.
    let trail = w.trail().await.join("\n");
    for expected in [
        "\"channel\":\"slack\"",
        "\"channel\":\"teams\"",
        "Slack request refused",
        "Teams request refused",
        "tenant",
    ] {
        assert!(trail.contains(expected), "`{expected}` not in the trail");
    }
    // Secrets never reach the trail.
    for secret in [
        TOKEN_KEY,
        w.slack.options().signing_secret.as_str(),
        w.teams.options().app_secret.as_str(),
    ] {
        assert!(!trail.contains(secret));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejection_in_teams_ends_the_request_everywhere_and_buttons_of_another_ticket_do_not_cross_over()
 {
    let w = World::start(
        "reject",
        &[
            (1, "ada.lovelace@contoso.com"),
            (2, "ada.lovelace@contoso.com"),
        ],
    )
    .await;
    // Both tickets ask Grace in Slack.
    let asks = eventually("two Slack asks", async || {
        let m: Vec<_> = w
            .slack
            .messages()
            .into_iter()
            .filter(|m| m.channel == "U0GRACE")
            .collect();
        (m.len() == 2).then_some(m)
    })
    .await;
    let for_ticket = |n: &str| {
        asks.iter()
            .find(|m| slack_text(&m.blocks).contains(n))
            .unwrap()
            .clone()
    };
    let first = for_ticket("RITM0000001");
    let second = for_ticket("RITM0000002");
    // The reject button of RITM1 spliced into a click on RITM2's message:
    // it still only speaks for RITM1 (its token names its workflow), so
    // RITM2 is untouched. And a token altered by one character is refused.
    let (mut body, _) = w.slack.click_body(&second, ACTION_REJECT, "U0GRACE");
    let (first_body, _) = w.slack.click_body(&first, ACTION_REJECT, "U0GRACE");
    let token_of = |b: &str| {
        let payload: String = url::form_urlencoded::parse(b.as_bytes())
            .find(|(k, _)| k == "payload")
            .unwrap()
            .1
            .into_owned();
        serde_json::from_str::<Value>(&payload).unwrap()["actions"][0]["value"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let altered = {
        let t = token_of(&body);
        let mut chars: Vec<char> = t.chars().collect();
        let i = chars.len() / 2;
        chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
        chars.into_iter().collect::<String>()
    };
    body = body.replace(
        &url::form_urlencoded::byte_serialize(token_of(&body).as_bytes()).collect::<String>(),
        &url::form_urlencoded::byte_serialize(altered.as_bytes()).collect::<String>(),
    );
    let (status, _) = w.slack.deliver(&w.slack_endpoint(), &body, now()).await;
    assert_eq!(status, 200);
    eventually("the altered token refused", async || {
        w.slack
            .responses()
            .into_iter()
            .find(|(_, b)| b["text"].as_str().is_some_and(|t| t.contains("altered")))
    })
    .await;
    assert_eq!(w.phase("RITM0000002").await, "awaiting_approval");

    // Grace rejects RITM1 in Teams, with a reason.
    let card = eventually("RITM1's Teams card", async || {
        w.teams
            .activities()
            .into_iter()
            .find(|a| !a.reply && a.card.to_string().contains("RITM0000001"))
    })
    .await;
    let grace = teams_user(GRACE, "Grace Hopper");
    let click = w
        .teams
        .invoke(&card, VERB_REJECT, &grace, Some("Ada moved to sales"));
    let (status, answer) = w
        .teams
        .deliver(&w.teams_endpoint(), &click, Some(&w.bot_token()))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer["value"].to_string().contains("Rejected"), "{answer}");
    eventually("RITM1 rejected", async || {
        (w.phase("RITM0000001").await == "rejected").then_some(())
    })
    .await;
    // Her Slack message for RITM1 is redrawn as ended; RITM2's is untouched.
    eventually("RITM1's Slack message closed", async || {
        let m = w.slack.messages().into_iter().find(|m| m.ts == first.ts)?;
        (m.updates > 0 && slack_text(&m.blocks).contains("Grace Hopper")).then_some(())
    })
    .await;
    let untouched = w
        .slack
        .messages()
        .into_iter()
        .find(|m| m.ts == second.ts)
        .unwrap();
    assert_eq!(untouched.updates, 0);
    assert_eq!(w.phase("RITM0000002").await, "awaiting_approval");
    // The reject click in Slack for RITM1 after the end changes nothing.
    let (status, _) = w
        .slack
        .deliver(&w.slack_endpoint(), &first_body, now())
        .await;
    assert_eq!(status, 200);
    // ServiceNow: RITM1 closed incomplete with Grace's reason; no change.
    let ritm = w.snow.ritm("RITM0000001").unwrap();
    assert_eq!(ritm["state"], "4", "{ritm:?}");
    let notes = w.work_notes(1).join("\n");
    assert!(notes.contains("Ada moved to sales"), "{notes}");
    assert!(!w.graph.is_direct_member(FIN, ADA));
    let trail = w.trail().await.join("\n");
    assert!(
        trail.contains("altered"),
        "the altered token is in the trail"
    );
}
