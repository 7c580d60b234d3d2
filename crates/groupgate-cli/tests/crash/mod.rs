//! One run of the crash harness: the Graph and ServiceNow emulators in this
//! process, a fresh SQLite file, and the real `groupgate worker --once`
//! binary started again and again as the scenario unfolds — approvers act
//! when asked, an operator queues an offboarding once access is active,
//! time passes for an expiry — with one planned process death along the way.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use chrono::{TimeDelta, Utc};
use groupgate_core::ports::{Store, WorkflowFilter};
use groupgate_core::{DirectorySnapshot, WorkflowId};
use groupgate_emulators::{
    GraphEmulator, GraphEmulatorOptions, SnowData, SnowEmulator, SnowEmulatorOptions, SnowRitm,
    SnowUser,
};
use groupgate_sqlite::{SqliteOptions, SqliteStore};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

pub(crate) const FIN: &str = "aaaaaaaa-0000-0000-0000-000000000001";
pub(crate) const ALPHA: &str = "aaaaaaaa-0000-0000-0000-000000000002";
pub(crate) const HR: &str = "aaaaaaaa-0000-0000-0000-000000000003";
pub(crate) const ADMINS: &str = "aaaaaaaa-0000-0000-0000-000000000006";
pub(crate) const ADA: &str = "11111111-0000-0000-0000-00000000000a";
pub(crate) const CARL: &str = "11111111-0000-0000-0000-00000000000c";
pub(crate) const IVAN: &str = "11111111-0000-0000-0000-000000000018";
pub(crate) const VIC: &str = "11111111-0000-0000-0000-000000000019";
pub(crate) const PAT: &str = "11111111-0000-0000-0000-00000000000e";
const CATALOG_ITEM: &str = "c0000000000000000000000000000001";

/// The harness's policy: every group always open for changes, so the
/// scenario does not depend on the hour CI runs at.
const POLICY: &str = "version: 1
groups:
  - id: GRP-FIN
    object_id: aaaaaaaa-0000-0000-0000-000000000001
    managed_via_itsm: true
    risk: high
    change_window: always
    max_duration: 365d
    approval: [{name: manager, approvers: [manager]}]
  - id: GRP-ALPHA
    object_id: aaaaaaaa-0000-0000-0000-000000000002
    managed_via_itsm: true
    change_window: always
    approval: [{name: manager, approvers: [manager]}]
  - id: GRP-HR
    object_id: aaaaaaaa-0000-0000-0000-000000000003
    managed_via_itsm: true
    change_window: always
    approval: [{name: manager, approvers: [manager]}]
  - id: GRP-ADMINS
    object_id: aaaaaaaa-0000-0000-0000-000000000006
    managed_via_itsm: true
    change_window: always
    approval: [{name: manager, approvers: [manager]}]
catalog:
  - {name: Finance BI, group: GRP-FIN}
  - {name: Team Alpha, group: GRP-ALPHA}
  - {name: HR Portal, group: GRP-HR}
  - {name: Entra Admin Portal, group: GRP-ADMINS}
people:
  contractors: {employee_types: [Contractor], end_date_required: true, max_duration: 90d}
";

/// The tokio runtime the emulators serve on, shared by every run.
pub(crate) fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    })
}

fn directory() -> DirectorySnapshot {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/directory.yaml"),
    )
    .unwrap();
    groupgate_core::input::from_yaml(&text, &Default::default()).unwrap()
}

fn sys_id(i: usize) -> String {
    format!("{:032x}", i + 1)
}

fn snow_data(expiry: chrono::DateTime<Utc>) -> SnowData {
    let dir = directory();
    let user_id = |upn: &str| sys_id(dir.users.iter().position(|u| u.upn == upn).unwrap());
    let ritm = |n: u32, who: &str, by: &str, vars: &[(&str, String)]| SnowRitm {
        sys_id: format!("{:0>32}", n),
        number: format!("RITM{n:07}"),
        cat_item: CATALOG_ITEM.to_owned(),
        requested_for: user_id(who),
        opened_by: user_id(by),
        variables: vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
    };
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
        catalog_items: BTreeMap::from([(CATALOG_ITEM.to_owned(), "Request access".to_owned())]),
        ritms: vec![
            ritm(
                1,
                "ada.lovelace@contoso.com",
                "ada.lovelace@contoso.com",
                &[("requested_resource", "Finance BI".into())],
            ),
            ritm(
                2,
                "carl.contractor@contoso.com",
                "pat.lead@contoso.com",
                &[
                    ("requested_resource", "Team Alpha".into()),
                    ("end_date", expiry.to_rfc3339()),
                ],
            ),
            ritm(
                3,
                "ivan.invoices@contoso.com",
                "ivan.invoices@contoso.com",
                &[("requested_resource", "Finance BI".into())],
            ),
            ritm(
                4,
                "ada.lovelace@contoso.com",
                "ada.lovelace@contoso.com",
                &[("requested_resource", "Entra Admin Portal".into())],
            ),
            ritm(
                5,
                "vic.vendor@contoso.com",
                "vic.vendor@contoso.com",
                &[("requested_resource", "HR Portal".into())],
            ),
            ritm(
                6,
                "pat.lead@contoso.com",
                "pat.lead@contoso.com",
                &[("requested_resource", "Finance BI".into())],
            ),
        ],
    }
}

/// A planned death: in the `invocation`-th worker process of the run (from
/// 0), at `point` (`POINT@N`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct KillPoint {
    pub(crate) invocation: usize,
    pub(crate) point: String,
}

impl std::fmt::Display for KillPoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "process {} at {}", self.invocation, self.point)
    }
}

/// What a run ended with, and what it counted.
#[derive(Debug, Default)]
pub(crate) struct RunReport {
    pub(crate) crashed: bool,
    pub(crate) invocations: usize,
    pub(crate) problems: Vec<String>,
    /// Invariants checked, by name.
    pub(crate) checks: BTreeMap<&'static str, usize>,
    /// Crash points reached, per invocation (trace runs only).
    pub(crate) traces: Vec<Vec<String>>,
}

pub(crate) struct Run {
    pub(crate) dir: PathBuf,
    pub(crate) settings: PathBuf,
    pub(crate) graph: GraphEmulator,
    pub(crate) snow: SnowEmulator,
    offboard_queued: bool,
}

impl Run {
    pub(crate) fn start(name: &str, fault_rate: f64, seed: u64) -> Self {
        let dir =
            std::env::temp_dir().join(format!("groupgate-crash-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let clock: Arc<dyn groupgate_core::ports::Clock> =
            Arc::new(groupgate_core::ports::SystemClock);
        let graph = runtime()
            .block_on(GraphEmulator::start(
                "127.0.0.1:0",
                directory(),
                GraphEmulatorOptions {
                    fault_rate,
                    seed,
                    retry_after_seconds: if fault_rate > 0.0 { 0 } else { 1 },
                    ..Default::default()
                },
                clock.clone(),
            ))
            .unwrap();
        let expiry = Utc::now() + TimeDelta::seconds(if fault_rate > 0.0 { 30 } else { 4 });
        let snow = runtime()
            .block_on(SnowEmulator::start(
                "127.0.0.1:0",
                snow_data(expiry),
                SnowEmulatorOptions {
                    fault_rate,
                    seed: seed + 1,
                    retry_after_seconds: if fault_rate > 0.0 { 0 } else { 1 },
                    ..Default::default()
                },
                clock,
            ))
            .unwrap();
        // Ivan holds the HR portal by hand: drift that offboarding must find.
        graph.edit_directory(|d| d.find_group_mut(HR).unwrap().members.push(IVAN.to_owned()));
        std::fs::write(dir.join("policy.yaml"), POLICY).unwrap();
        let o = graph.options();
        let settings = dir.join("groupgate.yaml");
        std::fs::write(
            &settings,
            format!(
                "policy: policy.yaml
store: {{path: groupgate.db, durability: normal}}
graph:
  tenant_id: {}
  client_id: {}
  base_url: {}
  authority_url: {}
  allow_insecure_loopback: true
servicenow:
  instance_url: {}
  user: {}
  allow_insecure_loopback: true
intake: {{catalog_items: [{CATALOG_ITEM}], poll_seconds: 1}}
worker: {{pass_seconds: 0.1}}
workflow: {{retry_base_seconds: 1, retry_max_delay_seconds: 2, retry_attempts: 30, verify_poll_seconds: 1, verify_timeout_seconds: 60}}
",
                o.tenant_id,
                o.client_id,
                graph.base_url(),
                graph.authority_url(),
                snow.instance_url(),
                snow.options().user,
            ),
        )
        .unwrap();
        Self {
            dir,
            settings,
            graph,
            snow,
            offboard_queued: false,
        }
    }

    pub(crate) fn groupgate(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_groupgate"));
        cmd.args(args)
            .current_dir(&self.dir)
            .env(
                "GROUPGATE_GRAPH_CLIENT_SECRET",
                &self.graph.options().client_secret,
            )
            .env("GROUPGATE_SNOW_PASSWORD", &self.snow.options().password)
            .env("RUST_LOG", "warn")
            .env_remove("GROUPGATE_TEST_CRASH_AT")
            .env_remove("GROUPGATE_TEST_CRASH_TRACE");
        cmd
    }

    /// One `worker --once`; whether it died, and the crash points it traced.
    fn invoke(&self, kill: Option<&str>, trace: bool) -> (bool, Vec<String>) {
        let mut cmd = self.groupgate(&["worker", "--config", "groupgate.yaml", "--once"]);
        if let Some(k) = kill {
            cmd.env("GROUPGATE_TEST_CRASH_AT", k);
        }
        if trace {
            cmd.env("GROUPGATE_TEST_CRASH_TRACE", "1");
        }
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let died = !out.status.success();
        if died && !stderr.contains("groupgate: test crash at") {
            panic!("the worker failed without a planned crash: {stderr}");
        }
        let points = stderr
            .lines()
            .filter_map(|l| l.strip_prefix("groupgate-crash-point "))
            .map(str::to_owned)
            .collect();
        (died, points)
    }

    pub(crate) fn store(&self) -> SqliteStore {
        SqliteStore::open(self.dir.join("groupgate.db"), SqliteOptions::default()).unwrap()
    }

    pub(crate) fn phases(&self) -> HashMap<String, String> {
        let store = self.store();
        runtime()
            .block_on(store.find(&WorkflowFilter::default()))
            .unwrap()
            .into_iter()
            // A phase counts as reached once its closing effects are done.
            .map(|r| {
                let phase = if r.pending > 0 {
                    format!("{} (pending)", r.phase)
                } else {
                    r.phase
                };
                (r.id.to_string(), phase)
            })
            .collect()
    }

    /// What people do between passes: approvers approve what they are asked
    /// (and Pat's manager rejects his request); once Ivan's access is
    /// active, an operator offboards him.
    pub(crate) fn react(&mut self, phases: &HashMap<String, String>) {
        self.answer_approvals();
        if !self.offboard_queued && phases.get("RITM0000003").is_some_and(|p| p == "active") {
            let out = self
                .groupgate(&[
                    "offboard",
                    "ivan.invoices@contoso.com",
                    "--config",
                    "groupgate.yaml",
                    "--operator",
                    "hr",
                ])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            self.offboard_queued = true;
        }
    }

    /// Approvers answer what they are asked in ServiceNow (Pat's manager
    /// rejects RITM6, everyone else approves).
    pub(crate) fn answer_approvals(&self) {
        for n in [1, 2, 3, 5, 6] {
            let number = format!("RITM{n:07}");
            for record in self.snow.approvals(&number) {
                if record.get("state").and_then(|s| s.as_str()) != Some("requested") {
                    continue;
                }
                let approver = record
                    .get("approver")
                    .and_then(|a| a.as_str())
                    .unwrap_or("");
                let Some(user) = self.snow.record("sys_user", approver) else {
                    continue;
                };
                let email = user
                    .get("email")
                    .and_then(|e| e.as_str())
                    .unwrap_or("")
                    .to_owned();
                let verdict = if n == 6 { "rejected" } else { "approved" };
                self.snow.act_at(&number, &email, verdict, Utc::now());
            }
        }
    }

    fn finished(phases: &HashMap<String, String>) -> bool {
        let is = |t: &str, p: &str| phases.get(t).is_some_and(|x| x == p);
        is("RITM0000001", "active")
            && is("RITM0000002", "removed")
            && is("RITM0000003", "removed")
            && is("RITM0000004", "denied")
            && is("RITM0000005", "completed")
            && is("RITM0000006", "rejected")
    }

    /// Runs the scenario to its end, dying once at `kill` (when the run
    /// reaches it); with `trace`, records every crash point reached.
    pub(crate) fn play(
        mut self,
        kill: Option<&KillPoint>,
        trace: bool,
        patience: Duration,
    ) -> RunReport {
        let mut report = RunReport::default();
        let began = Instant::now();
        loop {
            // Armed from its process on, until it fires: a point reached a
            // process later than in the traced run (timing) still counts.
            let planned = kill
                .filter(|k| !report.crashed && report.invocations >= k.invocation)
                .map(|k| k.point.as_str());
            let (died, points) = self.invoke(planned, trace);
            report.invocations += 1;
            report.crashed |= died;
            if trace {
                report.traces.push(points);
            }
            let phases = self.phases();
            if Self::finished(&phases) {
                break;
            }
            if began.elapsed() > patience {
                let store = self.store();
                let rows = runtime()
                    .block_on(store.find(&WorkflowFilter::default()))
                    .unwrap();
                let errors: Vec<String> = rows
                    .iter()
                    .filter_map(|r| r.last_error.as_ref().map(|e| format!("{}: {e}", r.id)))
                    .collect();
                report.problems.push(format!(
                    "did not finish in {patience:?}: {phases:?}; last errors: {errors:?}"
                ));
                return report;
            }
            self.react(&phases);
            std::thread::sleep(Duration::from_millis(100));
        }
        self.check(&mut report);
        report
    }

    fn check(&self, report: &mut RunReport) {
        let mut ok = |name: &'static str, holds: bool, problem: String| {
            *report.checks.entry(name).or_default() += 1;
            if !holds {
                report.problems.push(problem);
            }
        };
        // Memberships exactly right.
        let member = |g: &str, u: &str| self.graph.is_direct_member(g, u);
        ok(
            "memberships",
            member(FIN, ADA),
            "Ada lost Finance BI".into(),
        );
        ok(
            "memberships",
            !member(ALPHA, CARL),
            "Carl kept Team Alpha past its end date".into(),
        );
        ok(
            "memberships",
            !member(FIN, IVAN),
            "Ivan kept Finance BI after offboarding".into(),
        );
        ok(
            "memberships",
            !member(HR, IVAN),
            "Ivan's drift (HR portal) was left behind".into(),
        );
        ok(
            "memberships",
            !member(ADMINS, ADA),
            "Ada reached the admins group".into(),
        );
        ok(
            "memberships",
            member(HR, VIC),
            "Vic lost the HR portal".into(),
        );
        ok(
            "memberships",
            !member(FIN, PAT),
            "Pat got Finance BI although rejected".into(),
        );
        // Each membership added once, removed at most once.
        let changes = self.graph.membership_changes();
        let count = |what: &str| changes.iter().filter(|c| c.as_str() == what).count();
        for (g, u, adds, removes) in [
            (FIN, ADA, 1, 0),
            (ALPHA, CARL, 1, 1),
            (FIN, IVAN, 1, 1),
            (HR, IVAN, 0, 1),
            (ADMINS, ADA, 0, 0),
            (HR, VIC, 1, 0),
            (FIN, PAT, 0, 0),
        ] {
            let a = count(&format!("add {g} {u}"));
            let r = count(&format!("remove {g} {u}"));
            ok(
                "no double writes",
                a == adds && r == removes,
                format!("{g}/{u}: {a} adds, {r} removals: {changes:?}"),
            );
        }
        // Tickets: every note once, the right final state.
        for (n, state) in [(1, "3"), (2, "3"), (4, "4"), (5, "3"), (6, "4")] {
            let number = format!("RITM{n:07}");
            let ritm = self.snow.ritm(&number).unwrap();
            let sys = ritm
                .get("sys_id")
                .and_then(|s| s.as_str())
                .unwrap()
                .to_owned();
            let notes = self.snow.journal(&sys, "work_notes");
            let mut seen = std::collections::HashSet::new();
            let dupes: Vec<&String> = notes.iter().filter(|n| !seen.insert(n.as_str())).collect();
            ok(
                "notes once",
                dupes.is_empty(),
                format!("{number}: notes twice: {dupes:?}"),
            );
            let got = ritm
                .get("state")
                .and_then(|s| s.as_str())
                .unwrap_or("")
                .to_owned();
            ok(
                "ticket states",
                got == state,
                format!("{number}: state {got}, expected {state}"),
            );
        }
        // The expiry that is still to come is scheduled.
        let store = self.store();
        let row = runtime()
            .block_on(store.summary(&WorkflowId::new("RITM0000001")))
            .unwrap()
            .unwrap();
        ok(
            "expiries",
            row.next_wake
                .is_some_and(|w| w > Utc::now() + TimeDelta::days(300)),
            format!("RITM1 has no expiry: {row:?}"),
        );
        // The trail verifies.
        let trail = self.dir.join("trail.jsonl");
        let out = self
            .groupgate(&[
                "audit",
                "export",
                "--config",
                "groupgate.yaml",
                "--out",
                "trail.jsonl",
            ])
            .output()
            .unwrap();
        ok(
            "audit export",
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        );
        let out = self
            .groupgate(&["audit", "verify", trail.to_str().unwrap()])
            .output()
            .unwrap();
        ok(
            "audit verify",
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        );
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        // GROUPGATE_HARNESS_KEEP=1 keeps the run's folder for a look.
        if std::env::var_os("GROUPGATE_HARNESS_KEEP").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
