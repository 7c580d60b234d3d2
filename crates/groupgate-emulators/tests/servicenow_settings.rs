//! ServiceNow settings and records the adapter relies on: API-key
//! authentication, the page size, and the stage marker written durably on an
//! approval record that groupgate reuses, so answers survive a restart.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

mod snow_support;

use groupgate_core::Approver;
use groupgate_core::ports::{ApprovalAsk, ApprovalChannel, TicketSystem};
use groupgate_core::workflow::Verdict;
use groupgate_core::{TicketRef, UserId};
use groupgate_emulators::SnowEmulatorOptions;
use groupgate_servicenow::{Auth, ServiceNowClient, ServiceNowConfig};
use snow_support::{clock, emulator, user_id};

fn api_key_client(emu: &groupgate_emulators::SnowEmulator, key: &str) -> ServiceNowClient {
    ServiceNowClient::new(ServiceNowConfig::for_loopback_emulator(
        emu.instance_url(),
        Auth::ApiKey { key: key.into() },
    ))
    .unwrap()
}

#[tokio::test]
async fn an_api_key_is_sent_as_x_sn_apikey_and_a_wrong_one_is_refused() {
    let clock = clock();
    let options = SnowEmulatorOptions {
        api_key: Some("k3y-for-groupgate".into()),
        ..Default::default()
    };
    let emu = emulator(options, &clock).await;
    let good = api_key_client(&emu, "k3y-for-groupgate");
    let request = good
        .read_request(&TicketRef::new("RITM0010001"))
        .await
        .unwrap();
    assert_eq!(request.requester, "ada.lovelace@contoso.com");
    let bad = api_key_client(&emu, "guessed");
    let err = bad
        .read_request(&TicketRef::new("RITM0010001"))
        .await
        .unwrap_err();
    assert!(!err.class.is_transient(), "{err}");
    assert!(err.to_string().contains("401"), "{err}");
    assert!(!err.to_string().contains("guessed"), "{err}");
    assert!(emu.token_grants().is_empty(), "no OAuth round trip");
}

#[tokio::test]
async fn queries_page_with_the_configured_size() {
    let clock = clock();
    let emu = emulator(SnowEmulatorOptions::default(), &clock).await;
    let o = emu.options();
    let mut config = ServiceNowConfig::for_loopback_emulator(
        emu.instance_url(),
        Auth::Basic {
            user: o.user.clone(),
            password: o.password.clone().into(),
        },
    );
    config.page_size = 2;
    let snow = ServiceNowClient::new(config).unwrap();
    let new = snow
        .new_ritms(&[snow_support::CATALOG_ITEM.to_owned()])
        .await
        .unwrap();
    assert_eq!(new.len(), 5);
    let pages: Vec<String> = emu
        .requests()
        .into_iter()
        .filter(|r| r.contains("/sc_req_item?"))
        .collect();
    assert_eq!(pages.len(), 3, "{pages:#?}");
    assert!(
        pages.iter().all(|p| p.contains("sysparm_limit=2")),
        "{pages:#?}"
    );
}

#[tokio::test]
async fn a_reused_approval_record_is_marked_durably_and_its_answer_survives_a_restart() {
    let clock = clock();
    let emu = emulator(SnowEmulatorOptions::default(), &clock).await;
    // Someone (a flow, an agent) already opened an approval for Grace.
    emu.flow_requests_approval("RITM0010001", &["grace.hopper@contoso.com"]);
    let before = emu.approvals("RITM0010001");
    assert_eq!(before.len(), 1);
    let record = before[0]["sys_id"].as_str().unwrap().to_owned();

    let first = snow_support::client(&emu, false, "emulator-password");
    let ask = ApprovalAsk {
        ticket: TicketRef::new("RITM0010001"),
        stage: "manager".into(),
        approvers: vec![Approver {
            id: UserId::new("11111111-0000-0000-0000-00000000000b"),
            name: "grace.hopper@contoso.com".into(),
            role: "manager".into(),
        }],
        summary: "Add Ada Lovelace to Finance BI Readers".into(),
        binding: "sha256:finance-manager".into(),
        escalation: false,
        deadline: None,
        idempotency_key: "RITM0010001/ask/manager".into(),
        channels: Vec::new(),
        details: None,
    };
    let receipt = first.ask(&ask).await.unwrap();
    assert_eq!(
        receipt.references,
        vec![record.clone()],
        "reused, not doubled"
    );
    assert_eq!(emu.approvals("RITM0010001").len(), 1);
    let comments = emu.journal(&record, "comments").join("\n");
    assert!(
        comments.contains("binding=sha256:finance-manager")
            && comments.contains(&format!("approver={}", user_id("grace.hopper@contoso.com"))),
        "{comments}"
    );
    // Asking again (a retried ask) does not mark it twice.
    first.ask(&ask).await.unwrap();
    assert_eq!(emu.journal(&record, "comments").len(), 1);

    // Grace approves; an engine restarted meanwhile (a new client, nothing
    // in memory) still knows what the answer is for.
    emu.act_at(
        "RITM0010001",
        "grace.hopper@contoso.com",
        "approved",
        clock_now(&clock),
    );
    let restarted = snow_support::client(&emu, false, "emulator-password");
    let answers = restarted
        .answers(&TicketRef::new("RITM0010001"))
        .await
        .unwrap();
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert_eq!(&*answers[0].stage, "manager");
    assert_eq!(answers[0].binding, "sha256:finance-manager");
    assert_eq!(answers[0].verdict, Verdict::Approve);
    assert_eq!(
        answers[0].approver_id.as_ref().map(|i| i.as_str()),
        None,
        "the example instance has no object id field: matched by user name"
    );
    assert_eq!(&*answers[0].approver, "grace.hopper@contoso.com");
}

fn clock_now(clock: &groupgate_sim::SimClock) -> chrono::DateTime<chrono::Utc> {
    use groupgate_core::ports::Clock;
    clock.now()
}
