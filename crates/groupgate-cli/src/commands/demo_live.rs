//! `groupgate demo`: the example policy and directory on real parts — the
//! project's Graph, ServiceNow, Slack and Teams emulators on 127.0.0.1, the
//! real adapters, the worker loop with its listener, and a SQLite store in
//! a temporary folder. Requests arrive as signed ServiceNow notifications,
//! approvers answer in Slack, Teams and ServiceNow, a throttled add is
//! retried, a contractor is offboarded; the timeline is read back from the
//! store's audit trail, which must verify. No network beyond loopback, no
//! tenant. (`--simulated` runs the same story on in-memory fakes with
//! simulated time, where expiry can be shown too.)

use crate::error::{CliError, Exit};
use crate::timeline;
use chrono::Utc;
use groupgate_core::ports::{Clock, Store, SystemClock};
use groupgate_core::{DirectorySnapshot, Secret, WorkflowId};
use groupgate_emulators::{
    GraphEmulator, LoopbackTenant, SlackEmuUser, SlackEmulator, SnowData, SnowEmulator, SnowRitm,
    SnowUser, TeamsEmuUser, TeamsEmulator,
};
use groupgate_service::{Service, ServiceSettings, WebhookKey};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CATALOG_ITEM: &str = "c0000000000000000000000000000001";
const CHAT_KEY: &str = "demo-chat-token-key-0123456789abcdefghijklmnopqrstuvwxyz";
const WEBHOOK_SECRET: &str = "demo-webhook-secret-0123456789abcdefghijklmnopqrstuvwxyz";

fn fail(what: impl std::fmt::Display) -> CliError {
    CliError::Argument(format!("the demo failed: {what}"))
}

/// Each request: number, requester, who it is for, the catalog text, an
/// end date (days from today).
const RITMS: [(&str, &str, &str, &str, Option<i64>); 4] = [
    (
        "RITM0010001",
        "ada.lovelace@contoso.com",
        "ada.lovelace@contoso.com",
        "Access to Finance BI",
        None,
    ),
    (
        "RITM0010002",
        "pat.lead@contoso.com",
        "carl.contractor@contoso.com",
        "Add contractor to Team Alpha",
        Some(40),
    ),
    (
        "RITM0010003",
        "grace.hopper@contoso.com",
        "ada.lovelace@contoso.com",
        "Helpdesk Admin",
        None,
    ),
    (
        "RITM0010004",
        "ada.lovelace@contoso.com",
        "pat.lead@contoso.com",
        "HR Portal",
        None,
    ),
];

struct Live {
    dir: PathBuf,
    graph: GraphEmulator,
    snow: SnowEmulator,
    slack: SlackEmulator,
    teams: TeamsEmulator,
    service: Arc<Service>,
    listener: std::net::SocketAddr,
    printed: usize,
    json: bool,
}

fn snow_data(dir: &DirectorySnapshot) -> SnowData {
    let sys_id = |i: usize| format!("{:032x}", i + 1);
    let user_id = |upn: &str| {
        dir.users
            .iter()
            .position(|u| u.upn == upn)
            .map(sys_id)
            .unwrap_or_default()
    };
    SnowData {
        users: dir
            .users
            .iter()
            .enumerate()
            .map(|(i, u)| SnowUser {
                sys_id: sys_id(i),
                user_name: u.upn.to_string(),
                email: u.upn.to_string(),
                fields: BTreeMap::new(),
            })
            .collect(),
        catalog_items: BTreeMap::from([(CATALOG_ITEM.to_owned(), "Request access".to_owned())]),
        ritms: RITMS
            .iter()
            .enumerate()
            .map(|(i, (number, requester, target, resource, end))| {
                let mut variables: BTreeMap<String, String> =
                    [("requested_resource".to_owned(), (*resource).to_owned())].into();
                if let Some(days) = end {
                    let date = Utc::now() + chrono::TimeDelta::days(*days);
                    variables.insert("end_date".to_owned(), date.format("%Y-%m-%d").to_string());
                }
                SnowRitm {
                    sys_id: format!("{:0>32}", i + 1),
                    number: (*number).to_owned(),
                    cat_item: CATALOG_ITEM.to_owned(),
                    requested_for: user_id(target),
                    opened_by: user_id(requester),
                    variables,
                }
            })
            .collect(),
    }
}

impl Live {
    async fn start(dir: PathBuf, json: bool) -> Result<Self, CliError> {
        std::fs::create_dir_all(&dir).map_err(fail)?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let directory: DirectorySnapshot =
            groupgate_core::input::from_yaml(groupgate_sim::EXAMPLE_DIRECTORY, &Default::default())
                .map_err(fail)?;
        let slack_user = |id: &str, name: &str, email: &str| SlackEmuUser {
            id: id.to_owned(),
            name: name.to_owned(),
            email: email.to_owned(),
        };
        let teams_user = |upn: &str, name: &str| {
            let id = directory
                .find_user(upn)
                .map(|u| u.id.to_string())
                .unwrap_or_default();
            TeamsEmuUser {
                teams_id: format!("29:{id}"),
                aad_object_id: id,
                name: name.to_owned(),
            }
        };
        let tenant = LoopbackTenant::start(
            directory.clone(),
            snow_data(&directory),
            vec![
                slack_user("U0GRACE", "Grace Hopper", "grace.hopper@contoso.com"),
                slack_user("U0MIA", "Mia Manager", "mia.manager@contoso.com"),
            ],
            vec![
                teams_user("dora.data@contoso.com", "Dora Data"),
                teams_user("hanna.hr@contoso.com", "Hanna HR"),
            ],
            clock,
        )
        .await
        .map_err(fail)?;
        // The demo runs on the wall clock: its changes may not wait for the
        // example's business hours (the simulated demo shows a request
        // waiting for its window).
        let business_hours = "default_change_window: business-hours";
        if !groupgate_sim::EXAMPLE_POLICY.contains(business_hours) {
            return Err(fail(
                "the example policy no longer names its default change window",
            ));
        }
        let policy =
            groupgate_sim::EXAMPLE_POLICY.replace(business_hours, "default_change_window: always");
        std::fs::write(dir.join("policy.yaml"), policy).map_err(fail)?;
        let settings = format!(
            "policy: policy.yaml
store: {{path: groupgate.db}}
intake: {{catalog_items: [], webhook: true}}
worker: {{pass_seconds: 0.2}}
workflow: {{verify_poll_seconds: 1, retry_base_seconds: 1}}
listen: 127.0.0.1:0
audit: {{sink: audit.jsonl}}
{}",
            tenant.settings_yaml(
                "https://contoso.service-now.com/nav_to.do?uri=sc_req_item.do%3Fsysparm_query=number%3D{ticket}"
            )
        );
        let origin = dir.join("groupgate.yaml");
        std::fs::write(&origin, settings).map_err(fail)?;
        let mut vars = tenant.secrets();
        vars.insert("GROUPGATE_CHAT_TOKEN_KEY", CHAT_KEY.to_owned());
        vars.insert("GROUPGATE_WEBHOOK_SECRET", WEBHOOK_SECRET.to_owned());
        let LoopbackTenant {
            graph,
            snow,
            slack,
            teams,
        } = tenant;
        let settings = ServiceSettings::load(&origin).map_err(CliError::Service)?;
        let service = Arc::new(
            Service::build(settings, &origin, |k| vars.get(k).cloned())
                .map_err(CliError::Service)?,
        );
        let listener = service
            .listen()
            .await
            .map_err(CliError::Service)?
            .ok_or_else(|| fail("no listener"))?;
        let worker = service.clone();
        tokio::spawn(async move {
            if let Err(e) = worker.run().await {
                eprintln!("the demo's worker stopped: {e}");
            }
        });
        Ok(Self {
            dir,
            graph,
            snow,
            slack,
            teams,
            service,
            listener,
            printed: 0,
            json,
        })
    }

    fn endpoint(&self, path: &str) -> String {
        format!("http://{}{path}", self.listener)
    }

    async fn phase(&self, ticket: &str) -> String {
        self.service
            .store()
            .summary(&WorkflowId::new(ticket))
            .await
            .ok()
            .flatten()
            .map(|s| s.phase)
            .unwrap_or_default()
    }

    /// Waits (up to 30 s) until `ticket` is in one of `phases`.
    async fn until(&self, ticket: &str, phases: &[&str]) -> Result<String, CliError> {
        let began = Instant::now();
        loop {
            let phase = self.phase(ticket).await;
            if phases.contains(&phase.as_str()) {
                return Ok(phase);
            }
            if began.elapsed() > Duration::from_secs(30) {
                return Err(fail(format!("{ticket} is `{phase}`, not {phases:?}")));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits (up to 30 s) for `found` to give something.
    async fn wait<T>(
        &self,
        what: &str,
        mut found: impl FnMut() -> Option<T>,
    ) -> Result<T, CliError> {
        let began = Instant::now();
        loop {
            if let Some(v) = found() {
                return Ok(v);
            }
            if began.elapsed() > Duration::from_secs(30) {
                return Err(fail(format!("not seen in 30 s: {what}")));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Posts a signed event to the worker, as ServiceNow's business rule
    /// (or an HR system) would.
    async fn signed(&self, path: &str, body: serde_json::Value) -> Result<(), CliError> {
        let key = WebhookKey::new(Secret::new(WEBHOOK_SECRET)).map_err(fail)?;
        let body = body.to_string();
        let at = Utc::now().timestamp().to_string();
        let status = reqwest::Client::new()
            .post(self.endpoint(path))
            .header("content-type", "application/json")
            .header(groupgate_service::TIMESTAMP_HEADER, &at)
            .header(
                groupgate_service::SIGNATURE_HEADER,
                key.sign(&at, body.as_bytes()),
            )
            .body(body)
            .send()
            .await
            .map_err(fail)?
            .status();
        if status.is_success() {
            Ok(())
        } else {
            Err(fail(format!("{path} answered {status}")))
        }
    }

    async fn notify_created(&self, n: usize) -> Result<(), CliError> {
        let (number, ..) = RITMS[n];
        self.signed(
            "/servicenow/ritm",
            serde_json::json!({"event": "sc_req_item.inserted", "sys_id": format!("{:0>32}", n + 1),
                "number": number, "sys_updated_on": Utc::now().format("%Y-%m-%d %H:%M:%S").to_string()}),
        )
        .await
    }

    /// `approver` approves their open ServiceNow record of `ticket`.
    async fn approve_in_servicenow(&self, ticket: &str, approver: &str) -> Result<(), CliError> {
        self.wait(&format!("{approver}'s approval record of {ticket}"), || {
            self.snow
                .approvals(ticket)
                .iter()
                .any(|r| r.get("state").and_then(|v| v.as_str()) == Some("requested"))
                .then_some(())
        })
        .await?;
        self.snow.act_at(ticket, approver, "approved", Utc::now());
        Ok(())
    }

    /// Prints the records added since the last call, under a heading.
    async fn section(&mut self, heading: &str) -> Result<(), CliError> {
        // The worker may still be writing the step in hand.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let records = self
            .service
            .store()
            .trail(self.printed as u64, 100_000)
            .await
            .map_err(fail)?;
        self.printed += records.len();
        if self.json {
            for r in &records {
                println!("{}", r.to_json_line());
            }
        } else {
            println!("\n== {heading}");
            for line in timeline::lines(&records) {
                println!("{line}");
            }
        }
        Ok(())
    }
}

async fn story(live: &mut Live) -> Result<(), CliError> {
    // The approve button's action id (Slack) and verb (Teams).
    const ACTION_APPROVE: &str = "groupgate.approve";
    const VERB_APPROVE: &str = "groupgate.approve";

    // 1. Finance BI: the manager approves in Slack, the data owner in Teams.
    live.notify_created(0).await?;
    live.until("RITM0010001", &["awaiting_approval"]).await?;
    let grace_dm = live
        .wait("Grace's Slack message", || {
            live.slack
                .messages()
                .into_iter()
                .find(|m| m.channel == "U0GRACE")
        })
        .await?;
    let (body, _) = live.slack.click_body(&grace_dm, ACTION_APPROVE, "U0GRACE");
    live.slack
        .deliver(
            &live.endpoint("/slack/interactions"),
            &body,
            Utc::now().timestamp(),
        )
        .await;
    let first_card = grace_card_id(live);
    let dora = live.teams.options().users[0].clone();
    let card = live
        .wait("the data owner's Teams card", || {
            live.teams.activities().into_iter().find(|a| {
                !a.reply
                    && Some(&a.activity_id) != first_card.as_ref()
                    && a.card.to_string().contains("data-owner")
            })
        })
        .await?;
    let click = live
        .teams
        .invoke(&card, VERB_APPROVE, &dora, Some("ok for quarter-end"));
    let token = live.teams.bot_token(
        &live.teams.options().app_id,
        &live.teams.service_url(),
        Utc::now(),
    );
    live.teams
        .deliver(&live.endpoint("/teams/messages"), &click, Some(&token))
        .await;
    live.until("RITM0010001", &["active", "completed"]).await?;
    live.section("1. Finance BI, notified by ServiceNow: the manager approves in Slack, the data owner in Teams; added and verified").await?;

    // 2. A role-assignable group: denied from the directory's facts.
    live.notify_created(2).await?;
    live.until("RITM0010003", &["denied"]).await?;
    live.section("2. A role-assignable group: denied, whatever the policy file says")
        .await?;

    // 3. A contractor joins Team Alpha with an end date; the manager
    //    approves in ServiceNow.
    live.notify_created(1).await?;
    live.until("RITM0010002", &["awaiting_approval"]).await?;
    live.approve_in_servicenow("RITM0010002", "mia.manager@contoso.com")
        .await?;
    live.until("RITM0010002", &["active"]).await?;
    live.section("3. A contractor joins Team Alpha until the end date; the manager approves in ServiceNow; the expiry timer is set")
        .await?;

    // 4. Graph throttles the add (429, Retry-After): retried.
    live.graph.fail_next("members/$ref", 429, Some(1));
    live.notify_created(3).await?;
    live.until("RITM0010004", &["awaiting_approval"]).await?;
    live.approve_in_servicenow("RITM0010004", "mia.manager@contoso.com")
        .await?;
    live.wait("the app owner asked", || {
        (live.snow.approvals("RITM0010004").len() >= 2).then_some(())
    })
    .await?;
    live.approve_in_servicenow("RITM0010004", "hanna.hr@contoso.com")
        .await?;
    live.until("RITM0010004", &["active", "completed"]).await?;
    live.section(
        "4. HR Portal: Graph throttles the add (429, Retry-After 1 s); retried, added, verified",
    )
    .await?;

    // 5. The contractor leaves: an HR system posts a signed offboarding.
    live.signed(
        "/offboard",
        serde_json::json!({"user": "carl.contractor@contoso.com", "operator": "hr-system"}),
    )
    .await?;
    live.until("RITM0010002", &["removed"]).await?;
    live.section(
        "5. The contractor is offboarded (POST /offboard, signed): Team Alpha membership removed",
    )
    .await?;
    Ok(())
}

fn grace_card_id(live: &Live) -> Option<String> {
    live.teams
        .activities()
        .into_iter()
        .find(|a| !a.reply)
        .map(|a| a.activity_id)
}

/// Runs the demo; `keep` keeps the folder (settings, store, audit sink).
pub(crate) fn run(
    json: bool,
    keep: Option<&Path>,
    audit_out: Option<&Path>,
) -> Result<Exit, CliError> {
    let dir = match keep {
        Some(d) => d.to_owned(),
        None => std::env::temp_dir().join(format!("groupgate-demo-{}", std::process::id())),
    };
    if keep.is_some() && dir.join("groupgate.db").exists() {
        return Err(CliError::Argument(format!(
            "{} already holds a demo store; give an empty or new folder",
            dir.display()
        )));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(fail)?;
    let outcome = runtime.block_on(async {
        if !json {
            println!("groupgate demo: the example policy and directory on real parts");
            println!("(the Graph, ServiceNow, Slack and Teams emulators on 127.0.0.1, the real adapters, the worker loop, a SQLite store;");
            println!(" on the wall clock, so the example's business-hours change window is opened: `--simulated` shows it)");
        }
        let mut live = Live::start(dir.clone(), json).await?;
        let told = story(&mut live).await;
        live.service.engine().stop_signal().stop();
        tokio::time::sleep(Duration::from_millis(300)).await;
        told?;
        let records = live.service.store().trail(0, 1_000_000).await.map_err(fail)?;
        let text: String = records.iter().map(|r| r.to_json_line() + "\n").collect();
        let count = groupgate_core::audit::verify_jsonl(&text).map_err(fail)?;
        if let Some(path) = audit_out {
            std::fs::write(path, &text).map_err(|source| CliError::Read {
                path: path.display().to_string(),
                source,
            })?;
        }
        if !json {
            println!("\n== Where things stand");
            for (number, ..) in RITMS {
                let state = live
                    .snow
                    .ritm(number)
                    .and_then(|r| r.get("state").and_then(|s| s.as_str()).map(str::to_owned))
                    .unwrap_or_default();
                println!("{number}  {:<10} ServiceNow state {state}", live.phase(number).await);
            }
            println!("directory changes: {}", live.graph.membership_changes().join("; "));
            println!("audit trail: {count} records, hash chain verified");
            if keep.is_some() {
                println!("\nkept in {}:", live.dir.display());
                println!("  groupgate workflows list --config {}/groupgate.yaml", live.dir.display());
                println!("  groupgate audit verify {}/audit.jsonl", live.dir.display());
            }
        }
        Ok::<(), CliError>(())
    });
    if keep.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    outcome.map(|()| Exit::Success)
}
