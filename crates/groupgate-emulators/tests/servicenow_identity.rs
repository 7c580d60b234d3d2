//! Approver identity in ServiceNow cannot be borrowed: e-mail is never used
//! to find a person (ServiceNow does not keep it unique), a look-up that
//! matches several `sys_user` records is refused, and an approval record
//! answers only for the `sys_user` it was created for.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

mod snow_support;

use chrono::TimeDelta;
use groupgate_core::TicketRef;
use groupgate_core::audit::Entry;
use groupgate_core::workflow::{Event, Phase};
use groupgate_emulators::{SnowData, SnowEmulator, SnowEmulatorOptions};
use groupgate_servicenow::{ApproverIdentity, Auth, ServiceNowClient, ServiceNowConfig};
use groupgate_sim::{EXAMPLE_POLICY, World};
use serde_json::json;
use snow_support::*;
use std::sync::Arc;

const IMPOSTER: &str = "ffffffffffffffffffffffffffffff01";

fn work_notes(emu: &SnowEmulator, number: &str) -> String {
    let ritm = emu.ritm(number).unwrap();
    emu.journal(ritm["sys_id"].as_str().unwrap(), "work_notes")
        .join("\n")
}

/// Finance BI up to the data-owner stage (Grace approved in ServiceNow).
async fn to_the_data_owner(world: &World, emu: &SnowEmulator) {
    world
        .engine
        .intake(&TicketRef::new("RITM0010001"))
        .await
        .unwrap();
    emu.act_at(
        "RITM0010001",
        "grace.hopper@contoso.com",
        "approved",
        world.now(),
    );
    let wf = world
        .engine
        .collect_answers(&"RITM0010001".into())
        .await
        .unwrap();
    assert_eq!(
        wf.phase,
        Phase::AwaitingApproval {
            stage: 1,
            escalated: false
        }
    );
}

#[tokio::test]
async fn a_second_sys_user_with_the_approvers_e_mail_never_answers_for_them() {
    let clock = clock();
    let emu = emulator(SnowEmulatorOptions::default(), &clock).await;
    // Someone creates a sys_user carrying the data owner's e-mail.
    emu.insert_record(
        "sys_user",
        json!({"sys_id": IMPOSTER, "user_name": "mallory", "email": "dora.data@contoso.com", "active": "true"}),
    );
    let world = world(&emu, &clock);
    to_the_data_owner(&world, &emu).await;
    // The record goes to Dora's own sys_user (found by user name = UPN).
    let record = emu
        .approvals("RITM0010001")
        .into_iter()
        .find(|a| a["state"] == "requested")
        .unwrap();
    assert_eq!(record["approver"], user_id("dora.data@contoso.com"));
    // The imposter re-points the record to themselves and approves it.
    let id = record["sys_id"].as_str().unwrap().to_owned();
    emu.update_record(
        "sysapproval_approver",
        &id,
        json!({"approver": IMPOSTER, "state": "approved"}),
    );
    clock.advance(TimeDelta::minutes(1));
    let wf = world
        .engine
        .collect_answers(&"RITM0010001".into())
        .await
        .unwrap();
    assert_eq!(
        wf.phase,
        Phase::AwaitingApproval {
            stage: 1,
            escalated: false
        },
        "the answer did not count"
    );
    assert!(!world.directory.is_direct_member(
        "aaaaaaaa-0000-0000-0000-000000000001",
        "11111111-0000-0000-0000-00000000000a"
    ));
    let notes = work_notes(&emu, "RITM0010001");
    assert!(
        notes.contains(&format!(
            "refused an answer from `sys_user {IMPOSTER} (the record was created for {})`",
            user_id("dora.data@contoso.com")
        )),
        "{notes}"
    );
    assert!(!notes.contains("executed at"), "{notes}");
    // The refusal is in the audit trail.
    let trail = world.engine.audit_trail().await.unwrap();
    assert!(trail.iter().any(|r| matches!(&r.entry, Entry::Applied { event, .. }
        if matches!(&**event, Event::Answered { answer } if answer.approver_id.is_none() && answer.approver.contains(IMPOSTER)))));
}

fn object_id_world(emu: &SnowEmulator, clock: &groupgate_sim::SimClock) -> World {
    let o = emu.options();
    let mut config = ServiceNowConfig::for_loopback_emulator(
        emu.instance_url(),
        Auth::Basic {
            user: o.user.clone(),
            password: "emulator-password".into(),
        },
    );
    config.approver_identity = ApproverIdentity::ObjectIdField("u_entra_object_id".into());
    let snow = Arc::new(ServiceNowClient::new(config).unwrap());
    let policy =
        groupgate_core::CompiledPolicy::from_yaml_str(EXAMPLE_POLICY, "examples/policy.yaml")
            .unwrap();
    World::with_ticketing(policy, directory(), clock.clone(), 4, snow.clone(), snow)
}

/// The seed data with every sys_user carrying its Entra object id.
fn data_with_object_ids() -> SnowData {
    let mut data = data();
    for (u, d) in data.users.iter_mut().zip(directory().users) {
        u.fields.insert("u_entra_object_id".into(), d.id.clone());
        // The user name is not the UPN here: only the object id links them.
        u.user_name = u.user_name.split('@').next().unwrap().to_owned();
    }
    data
}

#[tokio::test]
async fn an_identity_matched_through_the_object_id_field_works_end_to_end() {
    let clock = clock();
    let emu = SnowEmulator::start(
        "127.0.0.1:0",
        data_with_object_ids(),
        SnowEmulatorOptions::default(),
        Arc::new(clock.clone()),
    )
    .await
    .unwrap();
    let world = object_id_world(&emu, &clock);
    to_the_data_owner(&world, &emu).await;
    emu.act_at(
        "RITM0010001",
        "dora.data@contoso.com",
        "approved",
        world.now(),
    );
    clock.advance(TimeDelta::minutes(1));
    let wf = world
        .engine
        .collect_answers(&"RITM0010001".into())
        .await
        .unwrap();
    assert!(matches!(wf.phase, Phase::Active { .. }), "{:?}", wf.phase);
    assert!(wf.approvals.iter().all(|a| a.approver_id.is_some()));
    assert!(work_notes(&emu, "RITM0010001").contains("executed at"));
}

#[tokio::test]
async fn an_identity_that_matches_several_sys_users_is_refused() {
    let clock = clock();
    let emu = SnowEmulator::start(
        "127.0.0.1:0",
        data_with_object_ids(),
        SnowEmulatorOptions::default(),
        Arc::new(clock.clone()),
    )
    .await
    .unwrap();
    // A second record carries the data owner's object id.
    emu.insert_record(
        "sys_user",
        json!({"sys_id": IMPOSTER, "user_name": "mallory", "email": "mallory@contoso.com",
               "u_entra_object_id": "11111111-0000-0000-0000-000000000011", "active": "true"}),
    );
    let world = object_id_world(&emu, &clock);
    world
        .engine
        .intake(&TicketRef::new("RITM0010001"))
        .await
        .unwrap();
    emu.act_at(
        "RITM0010001",
        "grace.hopper@contoso.com",
        "approved",
        world.now(),
    );
    let wf = world
        .engine
        .collect_answers(&"RITM0010001".into())
        .await
        .unwrap();
    // Asking the data owner is refused: no approval record for anyone.
    assert_eq!(wf.phase, Phase::ManualIntervention, "{:?}", wf.phase);
    assert!(
        !emu.approvals("RITM0010001")
            .iter()
            .any(|a| a["approver"] == IMPOSTER)
    );
    let ritm = emu.ritm("RITM0010001").unwrap();
    assert_eq!(ritm["stage"], "manual_intervention");
    let notes = work_notes(&emu, "RITM0010001");
    assert!(
        notes.contains(
            "2 sys_user records have u_entra_object_id `11111111-0000-0000-0000-000000000011`"
        ),
        "{notes}"
    );
    let trail = world.engine.audit_trail().await.unwrap();
    assert!(trail.iter().any(|r| matches!(&r.entry, Entry::Applied { event, .. }
        if matches!(&**event, Event::EffectFailed { error, .. } if error.message.contains("not unique")))));
}
