//! Shared set-up of the ServiceNow tests: the example directory's people as
//! `sys_user` records, RITMs for the mini examples, an emulator, a client
//! and a world whose tickets and approvals go through ServiceNow.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)] // shared test code

use chrono::{DateTime, Utc};
use groupgate_core::{CompiledPolicy, DirectorySnapshot};
use groupgate_emulators::{SnowData, SnowEmulator, SnowEmulatorOptions, SnowRitm, SnowUser};
use groupgate_servicenow::{Auth, ServiceNowClient, ServiceNowConfig};
use groupgate_sim::{EXAMPLE_DIRECTORY, EXAMPLE_POLICY, SimClock, World};
use std::collections::BTreeMap;
use std::sync::Arc;

pub(crate) const CATALOG_ITEM: &str = "c0000000000000000000000000000001";

pub(crate) fn directory() -> DirectorySnapshot {
    groupgate_core::input::from_yaml(EXAMPLE_DIRECTORY, &Default::default()).unwrap()
}

pub(crate) fn user_id(email: &str) -> String {
    let i = directory()
        .users
        .iter()
        .position(|u| u.upn == email)
        .unwrap();
    format!("{:032x}", i + 1)
}

pub(crate) fn ritm(
    number: &str,
    opened_by: &str,
    requested_for: &str,
    vars: &[(&str, &str)],
) -> SnowRitm {
    SnowRitm {
        sys_id: format!("{:0>32}", number.trim_start_matches("RITM")),
        number: number.to_owned(),
        cat_item: CATALOG_ITEM.to_owned(),
        requested_for: user_id(requested_for),
        opened_by: user_id(opened_by),
        variables: vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

pub(crate) fn data() -> SnowData {
    SnowData {
        users: directory()
            .users
            .iter()
            .enumerate()
            .map(|(i, u)| SnowUser {
                sys_id: format!("{:032x}", i + 1),
                user_name: u.upn.clone(),
                email: u.upn.clone(),
                fields: BTreeMap::new(),
            })
            .collect(),
        catalog_items: BTreeMap::from([(
            CATALOG_ITEM.to_owned(),
            "Request access to application".to_owned(),
        )]),
        ritms: vec![
            ritm(
                "RITM0010001",
                "ada.lovelace@contoso.com",
                "ada.lovelace@contoso.com",
                &[
                    ("requested_resource", "Access to Finance BI"),
                    ("justification", "Quarter-end"),
                ],
            ),
            ritm(
                "RITM0010002",
                "pat.lead@contoso.com",
                "carl.contractor@contoso.com",
                &[
                    ("requested_resource", "Team Alpha"),
                    ("end_date", "2027-01-31"),
                ],
            ),
            ritm(
                "RITM0010003",
                "ada.lovelace@contoso.com",
                "ada.lovelace@contoso.com",
                &[("justification", "forgot to say what")],
            ),
            ritm(
                "RITM0010004",
                "ada.lovelace@contoso.com",
                "ada.lovelace@contoso.com",
                &[
                    ("requested_resource", "Finance BI"),
                    ("end_date", "next week"),
                ],
            ),
            ritm(
                "RITM0010005",
                "ada.lovelace@contoso.com",
                "ada.lovelace@contoso.com",
                &[("requested_resource", "Finance BI")],
            ),
        ],
    }
}

pub(crate) fn clock() -> SimClock {
    SimClock::at("2026-11-25T10:00:00Z".parse().unwrap())
}

pub(crate) async fn emulator(options: SnowEmulatorOptions, clock: &SimClock) -> SnowEmulator {
    SnowEmulator::start("127.0.0.1:0", data(), options, Arc::new(clock.clone()))
        .await
        .unwrap()
}

pub(crate) fn client(emu: &SnowEmulator, oauth: bool, password: &str) -> ServiceNowClient {
    let o = emu.options();
    let auth = if oauth {
        Auth::OAuthPassword {
            client_id: o.client_id.clone(),
            client_secret: o.client_secret.clone().into(),
            user: o.user.clone(),
            password: password.into(),
        }
    } else {
        Auth::Basic {
            user: o.user.clone(),
            password: password.into(),
        }
    };
    ServiceNowClient::new(ServiceNowConfig::for_loopback_emulator(
        emu.instance_url(),
        auth,
    ))
    .unwrap()
}

pub(crate) fn world(emu: &SnowEmulator, clock: &SimClock) -> World {
    let snow = Arc::new(client(emu, true, "emulator-password"));
    let policy = CompiledPolicy::from_yaml_str(EXAMPLE_POLICY, "examples/policy.yaml").unwrap();
    World::with_ticketing(policy, directory(), clock.clone(), 4, snow.clone(), snow)
}

pub(crate) fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}
