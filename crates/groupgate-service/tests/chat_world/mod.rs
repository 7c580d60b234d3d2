//! The world of the chat approval tests: the Graph, ServiceNow, Slack and
//! Teams emulators on loopback, a fresh store file, and a [`Service`]
//! built from a settings file naming them all, its listener serving on an
//! ephemeral port.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use groupgate_core::DirectorySnapshot;
use groupgate_core::ports::{Store, SystemClock};
use groupgate_emulators::{
    GraphEmulator, LoopbackTenant, SlackEmuUser, SlackEmulator, SnowData, SnowEmulator, SnowRitm,
    SnowUser, TeamsEmuUser, TeamsEmulator,
};
use groupgate_service::{Service, ServiceSettings};
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(crate) const FIN: &str = "aaaaaaaa-0000-0000-0000-000000000001";
pub(crate) const ADA: &str = "11111111-0000-0000-0000-00000000000a";
pub(crate) const GRACE: &str = "11111111-0000-0000-0000-00000000000b";
pub(crate) const DORA: &str = "11111111-0000-0000-0000-000000000011";
pub(crate) const IVAN: &str = "11111111-0000-0000-0000-000000000018";
pub(crate) const CATALOG_ITEM: &str = "c0000000000000000000000000000001";
pub(crate) const TOKEN_KEY: &str = "k3y-for-the-chat-tests-0123456789abcdefghijklmnop";
/// A catalog item the worker is not configured for (RITMs numbered 900 and up).
pub(crate) const OTHER_ITEM: &str = "c0000000000000000000000000000002";
/// The secret signing ServiceNow's notifications and offboarding requests.
pub(crate) const WEBHOOK_SECRET: &str = "webhook-secret-for-the-tests-0123456789abcdef";
/// Polling the configured catalog item every second, no signed events.
pub(crate) const POLLING: &str =
    "{catalog_items: [c0000000000000000000000000000001], poll_seconds: 1}";

/// Finance BI: the manager, then (financial data) the data owner; asked in
/// ServiceNow, Slack and Teams.
pub(crate) const POLICY: &str = "version: 1
groups:
  - id: GRP-FIN
    object_id: aaaaaaaa-0000-0000-0000-000000000001
    display_name: Finance BI Readers
    managed_via_itsm: true
    risk: high
    tags: [financial-data]
    data_owners: [dora.data@contoso.com]
    change_window: always
    max_duration: 365d
    approval: [{name: manager, approvers: [manager]}]
tag_rules:
  - tag: financial-data
    add_stages: [{name: data-owner, approvers: [data_owner]}]
catalog:
  - {name: Finance BI, group: GRP-FIN}
approvals:
  channels: [servicenow, slack, teams]
";

pub(crate) struct World {
    pub(crate) dir: PathBuf,
    pub(crate) graph: GraphEmulator,
    pub(crate) snow: SnowEmulator,
    pub(crate) slack: SlackEmulator,
    pub(crate) teams: TeamsEmulator,
    pub(crate) service: Arc<Service>,
    pub(crate) listener: SocketAddr,
    worker: tokio::task::JoinHandle<()>,
}

impl Drop for World {
    fn drop(&mut self) {
        self.service.engine().stop_signal().stop();
        self.worker.abort();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn directory() -> DirectorySnapshot {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/directory.yaml"),
    )
    .unwrap();
    groupgate_core::input::from_yaml(&text, &Default::default()).unwrap()
}

pub(crate) fn ritm_sys_id(n: u32) -> String {
    format!("{n:0>32}")
}

fn snow_data(dir: &DirectorySnapshot, ritms: &[(u32, &str)]) -> SnowData {
    let sys_id = |i: usize| format!("{:032x}", i + 1);
    let user_id = |upn: &str| sys_id(dir.users.iter().position(|u| u.upn == upn).unwrap());
    SnowData {
        users: dir
            .users
            .iter()
            .enumerate()
            .map(|(i, u)| SnowUser {
                sys_id: sys_id(i),
                user_name: u.upn.clone(),
                email: u.upn.clone(),
                fields: BTreeMap::new(),
            })
            .collect(),
        catalog_items: BTreeMap::from([
            (CATALOG_ITEM.to_owned(), "Request access".to_owned()),
            (OTHER_ITEM.to_owned(), "Request a laptop".to_owned()),
        ]),
        ritms: ritms
            .iter()
            .map(|(n, who)| SnowRitm {
                sys_id: ritm_sys_id(*n),
                number: format!("RITM{n:07}"),
                cat_item: if *n >= 900 { OTHER_ITEM } else { CATALOG_ITEM }.to_owned(),
                requested_for: user_id(who),
                opened_by: user_id(who),
                // RITMs 500 to 599 end three days from now.
                variables: [("requested_resource".to_owned(), "Finance BI".to_owned())]
                    .into_iter()
                    .chain((500..600).contains(n).then(|| {
                        (
                            "end_date".to_owned(),
                            (chrono::Utc::now() + chrono::TimeDelta::days(3))
                                .format("%Y-%m-%d")
                                .to_string(),
                        )
                    }))
                    .collect(),
            })
            .collect(),
    }
}

pub(crate) fn slack_user(id: &str, name: &str, email: &str) -> SlackEmuUser {
    SlackEmuUser {
        id: id.to_owned(),
        name: name.to_owned(),
        email: email.to_owned(),
    }
}

pub(crate) fn teams_user(aad: &str, name: &str) -> TeamsEmuUser {
    TeamsEmuUser {
        aad_object_id: aad.to_owned(),
        teams_id: format!("29:{aad}"),
        name: name.to_owned(),
    }
}

pub(crate) fn grace_in_slack() -> SlackEmuUser {
    slack_user("U0GRACE", "Grace Hopper", "grace.hopper@contoso.com")
}
pub(crate) fn ivan_in_slack() -> SlackEmuUser {
    slack_user("U0IVAN", "Ivan Invoices", "ivan.invoices@contoso.com")
}
pub(crate) fn dora_in_teams() -> TeamsEmuUser {
    teams_user(DORA, "Dora Data")
}
pub(crate) fn ivan_in_teams() -> TeamsEmuUser {
    teams_user(IVAN, "Ivan Invoices")
}

impl World {
    /// Ada asks for Finance BI in each of `ritms`; Grace (her manager) and
    /// Ivan are in Slack, Dora (the data owner) and Ivan in Teams.
    pub(crate) async fn start(name: &str, ritms: &[(u32, &str)]) -> Self {
        Self::start_with(name, ritms, POLLING).await
    }

    /// As [`World::start`], with `intake` (a YAML mapping) as the intake
    /// settings.
    pub(crate) async fn start_with(name: &str, ritms: &[(u32, &str)], intake: &str) -> Self {
        Self::start_full(name, ritms, intake, "").await
    }

    /// As [`World::start_with`], with `extra` (YAML lines) added to the
    /// settings file.
    pub(crate) async fn start_full(
        name: &str,
        ritms: &[(u32, &str)],
        intake: &str,
        extra: &str,
    ) -> Self {
        Self::start_on(name, ritms, intake, extra, Arc::new(SystemClock)).await
    }

    /// As [`World::start_full`], with every emulator and the service on
    /// `clock`.
    pub(crate) async fn start_on(
        name: &str,
        ritms: &[(u32, &str)],
        intake: &str,
        extra: &str,
        clock: Arc<dyn groupgate_core::ports::Clock>,
    ) -> Self {
        groupgate_service::install_prometheus();
        let dir =
            std::env::temp_dir().join(format!("groupgate-chat-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let directory = directory();
        let tenant = LoopbackTenant::start(
            directory.clone(),
            snow_data(&directory, ritms),
            vec![grace_in_slack(), ivan_in_slack()],
            vec![dora_in_teams(), ivan_in_teams()],
            clock.clone(),
        )
        .await
        .unwrap();
        std::fs::write(dir.join("policy.yaml"), POLICY).unwrap();
        let settings_text = format!(
            "policy: policy.yaml
store: {{path: groupgate.db, durability: normal}}
intake: {intake}
worker: {{pass_seconds: 0.2}}
workflow: {{verify_poll_seconds: 1}}
listen: 127.0.0.1:0
{}{extra}",
            tenant.settings_yaml(
                "https://contoso.service-now.com/nav_to.do?uri=sc_req_item.do?sysparm_query=number={ticket}"
            ),
        );
        let origin = dir.join("groupgate.yaml");
        std::fs::write(&origin, settings_text).unwrap();
        let settings = ServiceSettings::load(&origin).unwrap();
        let mut vars = tenant.secrets();
        vars.insert("GROUPGATE_CHAT_TOKEN_KEY", TOKEN_KEY.to_owned());
        vars.insert("GROUPGATE_WEBHOOK_SECRET", WEBHOOK_SECRET.to_owned());
        let LoopbackTenant {
            graph,
            snow,
            slack,
            teams,
        } = tenant;
        let var = |k: &str| vars.get(k).cloned();
        let service = Arc::new(Service::build_with_clock(settings, &origin, var, clock).unwrap());
        let listener = service.listen().await.unwrap().unwrap();
        let worker = {
            let service = service.clone();
            tokio::spawn(async move {
                service.run().await.unwrap();
            })
        };
        Self {
            dir,
            graph,
            snow,
            slack,
            teams,
            service,
            listener,
            worker,
        }
    }

    pub(crate) fn slack_endpoint(&self) -> String {
        format!("http://{}/slack/interactions", self.listener)
    }

    /// `path` on the worker's listener.
    pub(crate) fn endpoint(&self, path: &str) -> String {
        format!("http://{}{path}", self.listener)
    }

    pub(crate) fn teams_endpoint(&self) -> String {
        format!("http://{}/teams/messages", self.listener)
    }

    /// The phase of `ticket`'s workflow, `-` when it has none.
    pub(crate) async fn phase(&self, ticket: &str) -> String {
        self.service
            .store()
            .summary(&groupgate_core::WorkflowId::new(ticket))
            .await
            .unwrap()
            .map(|s| {
                if s.pending > 0 {
                    format!("{} (pending)", s.phase)
                } else {
                    s.phase
                }
            })
            .unwrap_or_else(|| "-".to_owned())
    }

    /// The audit trail as JSON lines, its chain checked.
    pub(crate) async fn trail(&self) -> Vec<String> {
        let records = self.service.store().trail(0, 100_000).await.unwrap();
        let lines: Vec<String> = records.iter().map(|r| r.to_json_line()).collect();
        let text = lines.join("\n");
        groupgate_core::audit::verify_jsonl(&text).unwrap();
        lines
    }

    /// The RITM's work notes, oldest first.
    pub(crate) fn work_notes(&self, n: u32) -> Vec<String> {
        self.snow.journal(&ritm_sys_id(n), "work_notes")
    }

    /// Bot Framework credentials for a click, as Teams sends them.
    pub(crate) fn bot_token(&self) -> String {
        self.teams.bot_token(
            &self.teams.options().app_id,
            &self.teams.service_url(),
            chrono::Utc::now(),
        )
    }
}

/// Waits (up to 30 s) until `check` returns `Some`.
pub(crate) async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let began = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            began.elapsed() < Duration::from_secs(30),
            "not reached in 30 s: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The text of a Slack message's blocks (to look for words in).
pub(crate) fn slack_text(blocks: &[Value]) -> String {
    serde_json::to_string(blocks).unwrap()
}
