//! The emulators answer as the services document it, in the places
//! groupgate and other clients lean on: Graph error bodies with
//! `innerError`, `$top` and `@odata.nextLink`, nested groups among members;
//! ServiceNow display values (names for references, labels for choices),
//! `sysparm_display_value=true|all`, writes shaped by `sysparm_fields`, and
//! 400 "Invalid table" for a table that does not exist.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

mod snow_support;

use groupgate_emulators::{GraphEmulator, GraphEmulatorOptions, SnowEmulatorOptions};
use serde_json::{Value, json};
use snow_support::{clock, emulator, user_id};
use std::sync::Arc;

async fn snow_get(emu: &groupgate_emulators::SnowEmulator, path: &str) -> (u16, Value) {
    let o = emu.options();
    let r = reqwest::Client::new()
        .get(format!("{}{path}", emu.instance_url()))
        .basic_auth(&o.user, Some(&o.password))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn servicenow_shows_names_for_references_and_labels_for_choices() {
    let clock = clock();
    let emu = emulator(SnowEmulatorOptions::default(), &clock).await;
    let ada = user_id("ada.lovelace@contoso.com");
    let (status, v) = snow_get(
        &emu,
        "/api/now/table/sc_req_item?sysparm_query=number=RITM0010001&sysparm_fields=number,requested_for,state,cat_item&sysparm_display_value=true",
    )
    .await;
    assert_eq!(status, 200);
    let row = &v["result"][0];
    assert_eq!(
        row["requested_for"]["display_value"],
        "ada.lovelace@contoso.com"
    );
    assert!(
        row["requested_for"]["link"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/api/now/table/sys_user/{ada}"))
    );
    assert!(
        row["requested_for"].get("value").is_none(),
        "true: no raw value"
    );
    assert_eq!(row["state"], "Open");
    assert_eq!(
        row["cat_item"]["display_value"],
        "Request access to application"
    );

    let (_, v) = snow_get(
        &emu,
        "/api/now/table/sc_req_item?sysparm_query=number=RITM0010001&sysparm_fields=requested_for,state&sysparm_display_value=all&sysparm_exclude_reference_link=true",
    )
    .await;
    let row = &v["result"][0];
    assert_eq!(
        row["requested_for"],
        json!({"display_value": "ada.lovelace@contoso.com", "value": ada})
    );
    assert_eq!(row["state"], json!({"display_value": "Open", "value": "1"}));

    let (_, v) = snow_get(
        &emu,
        "/api/now/table/sc_req_item?sysparm_query=number=RITM0010001&sysparm_fields=requested_for,state",
    )
    .await;
    let row = &v["result"][0];
    assert_eq!(row["requested_for"]["value"], Value::String(ada));
    assert_eq!(row["state"], "1");
}

#[tokio::test]
async fn servicenow_writes_answer_as_asked_and_unknown_tables_are_invalid() {
    let clock = clock();
    let emu = emulator(SnowEmulatorOptions::default(), &clock).await;
    let o = emu.options();
    let ritm = emu.ritm("RITM0010001").unwrap();
    let id = ritm["sys_id"].as_str().unwrap().to_owned();
    let r = reqwest::Client::new()
        .patch(format!(
            "{}/api/now/table/sc_req_item/{id}?sysparm_fields=number,state&sysparm_display_value=true",
            emu.instance_url()
        ))
        .basic_auth(&o.user, Some(&o.password))
        .json(&json!({"state": "2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v["result"],
        json!({"number": "RITM0010001", "state": "Work in Progress"})
    );

    let (status, v) = snow_get(&emu, "/api/now/table/u_no_such_table?sysparm_limit=1").await;
    assert_eq!(status, 400);
    assert_eq!(v["error"]["message"], "Invalid table u_no_such_table");
    assert_eq!(v["status"], "failure");
}

#[tokio::test]
async fn graph_errors_carry_inner_error_and_lists_page_with_top() {
    let clock = clock();
    let directory: groupgate_core::DirectorySnapshot =
        groupgate_core::input::from_yaml(groupgate_sim::EXAMPLE_DIRECTORY, &Default::default())
            .unwrap();
    let emu = GraphEmulator::start(
        "127.0.0.1:0",
        directory,
        GraphEmulatorOptions::default(),
        Arc::new(clock.clone()),
    )
    .await
    .unwrap();
    let o = emu.options();
    let http = reqwest::Client::new();
    let token: Value = http
        .post(format!(
            "{}/{}/oauth2/v2.0/token",
            emu.authority_url(),
            o.tenant_id
        ))
        .form(&[
            ("client_id", o.client_id.as_str()),
            ("client_secret", o.client_secret.as_str()),
            ("scope", "https://graph.microsoft.com/.default"),
            ("grant_type", "client_credentials"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = token["access_token"].as_str().unwrap().to_owned();
    let get = |path: String| {
        let http = http.clone();
        let bearer = bearer.clone();
        async move {
            let r = http
                .get(path)
                .bearer_auth(bearer)
                .header("client-request-id", "c0ffee00-0000-0000-0000-000000000001")
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, v) = get(format!("{}/users/nobody@contoso.com", emu.base_url())).await;
    assert_eq!(status, 404);
    let inner = &v["error"]["innerError"];
    assert!(
        inner["date"].is_string() && inner["request-id"].is_string(),
        "{v}"
    );
    assert_eq!(
        inner["client-request-id"],
        "c0ffee00-0000-0000-0000-000000000001"
    );

    // Team Alpha: Pat directly and the nested Team Alpha Core group.
    let (_, first) = get(format!(
        "{}/groups/aaaaaaaa-0000-0000-0000-000000000002/members?$top=1",
        emu.base_url()
    ))
    .await;
    assert_eq!(first["value"].as_array().unwrap().len(), 1);
    let next = first["@odata.nextLink"]
        .as_str()
        .expect("a next page")
        .to_owned();
    assert!(next.starts_with(&emu.base_url()), "{next}");
    let (_, second) = get(next).await;
    assert_eq!(second["value"][0]["@odata.type"], "#microsoft.graph.group");
    assert!(second.get("@odata.nextLink").is_none());
}
