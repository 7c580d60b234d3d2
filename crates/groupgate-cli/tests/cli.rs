//! The `groupgate` binary end to end: output, JSON and exit codes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn groupgate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_groupgate"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the binary runs")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

const NOW: &str = "2026-11-25T10:00:00Z";

fn check(request: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "check",
        "--policy",
        "examples/policy.yaml",
        "--request",
        request,
        "--facts",
        "examples/directory.yaml",
        "--now",
        NOW,
    ];
    args.extend_from_slice(extra);
    groupgate(&args)
}

#[test]
fn check_prints_the_finance_bi_decision_with_the_data_owner_stage() {
    let out = check("examples/requests/finance-bi.yaml", &[]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("outcome     NEEDS APPROVAL"), "{stdout}");
    assert!(stdout.contains("GRP-FINANCE-BI-READ"), "{stdout}");
    assert!(
        stdout.contains("2. data-owner   1 of: dora.data@contoso.com [data_owner]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("from tag_rules[financial-data]"),
        "{stdout}"
    );
}

#[test]
fn check_json_is_the_decision() {
    let out = check("examples/requests/role-assignable.yaml", &["--json"]);
    assert_eq!(out.status.code(), Some(0));
    let decision: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(decision["outcome"], "deny");
    let codes: Vec<&str> = decision["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"GROUP_ROLE_ASSIGNABLE"), "{codes:?}");
    // A deny is still a decision: exit 0.
}

#[test]
fn check_accepts_explicit_facts_too() {
    let dir = std::env::temp_dir().join(format!("groupgate-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let facts = dir.join("facts.json");
    std::fs::write(
        &facts,
        r#"{"requester": {"id": "u1", "upn": "ada.lovelace@contoso.com", "enabled": true, "user_type": "Member"},
            "target": {"id": "u1", "upn": "ada.lovelace@contoso.com", "enabled": false, "user_type": "Member"}}"#,
    )
    .unwrap();
    let out = groupgate(&[
        "check",
        "--policy",
        "examples/policy.yaml",
        "--request",
        "examples/requests/finance-bi.yaml",
        "--facts",
        facts.to_str().unwrap(),
        "--now",
        NOW,
        "--json",
    ]);
    let decision: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(decision["outcome"], "deny");
    assert!(decision.to_string().contains("TARGET_DISABLED"));
}

#[test]
fn bad_input_exits_2_with_a_located_message() {
    let dir = std::env::temp_dir().join(format!("groupgate-cli-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad_request = dir.join("request.yaml");
    std::fs::write(
        &bad_request,
        "ticket: T1\nrequester: a\ntarget: b\nresource: x\nend_date: next tuesday\n",
    )
    .unwrap();
    let out = check(bad_request.to_str().unwrap(), &[]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("request.yaml:5:"), "{stderr}");
    assert!(stderr.contains("`end_date`"), "{stderr}");

    let bad_policy = dir.join("policy.yaml");
    std::fs::write(
        &bad_policy,
        "version: 1\ngroups:\n  - {id: G, object_id: o}\ncatalog:\n  - {name: X, group: NOPE}\n",
    )
    .unwrap();
    let out = groupgate(&[
        "check",
        "--policy",
        bad_policy.to_str().unwrap(),
        "--request",
        "examples/requests/finance-bi.yaml",
        "--facts",
        "examples/directory.yaml",
    ]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("policy.yaml:5:15: error[unknown-group]"),
        "{stderr}"
    );

    let out = check("examples/requests/does-not-exist.yaml", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("cannot read"));

    let out = groupgate(&[
        "check",
        "--policy",
        "examples/policy.yaml",
        "--request",
        "examples/requests/finance-bi.yaml",
        "--facts",
        "examples/directory.yaml",
        "--now",
        "yesterday",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("RFC 3339"));
}

#[test]
fn lint_reports_warnings_and_strict_turns_them_into_findings() {
    let out = groupgate(&["policy", "lint", "examples/policy.yaml"]);
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("warning[catalog-unmanaged-group]"),
        "{stdout}"
    );
    assert!(stdout.contains("0 error(s), 1 warning(s)"), "{stdout}");
    let out = groupgate(&["policy", "lint", "--strict", "examples/policy.yaml"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn policy_test_runs_the_shipped_expectations() {
    let out = groupgate(&["policy", "test", "examples/policy.yaml"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("8 passed, 0 failed"), "{stdout}");
    // The proposal shortens contractor access to 60 days: the shipped
    // expectation about the contractor's end date catches it.
    let out = groupgate(&[
        "policy",
        "test",
        "examples/policy-proposed.yaml",
        "--tests",
        "examples/policy.tests.yaml",
    ]);
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL a contractor joins Team Alpha until the requested end date"),
        "{stdout}"
    );
    assert!(
        stdout.contains("unexpected reason `EXPIRY_CAPPED`"),
        "{stdout}"
    );
    assert!(stdout.contains("7 passed, 1 failed"), "{stdout}");
}

#[test]
fn policy_test_reports_failures_with_exit_1() {
    let dir = std::env::temp_dir().join(format!("groupgate-cli-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let tests = dir.join("t.yaml");
    let directory = root().join("examples/directory.yaml");
    std::fs::write(
        &tests,
        format!(
            "directory: {}\nnow: 2026-11-25T10:00:00Z\ncases:\n  - name: wrong on purpose\n    request: {{ticket: T, requester: ada.lovelace@contoso.com, target: ada.lovelace@contoso.com, resource: Finance BI}}\n    expect: {{outcome: pre_approved, stages: [manager]}}\n",
            directory.display()
        ),
    )
    .unwrap();
    let out = groupgate(&[
        "policy",
        "test",
        "examples/policy.yaml",
        "--tests",
        tests.to_str().unwrap(),
    ]);
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout.contains("FAIL wrong on purpose"), "{stdout}");
    assert!(
        stdout.contains("outcome: expected `pre_approved`, got `needs_approval`"),
        "{stdout}"
    );
    assert!(
        stdout.contains("stages: expected [manager], got [manager, data-owner]"),
        "{stdout}"
    );
    assert!(stdout.contains("0 passed, 1 failed"), "{stdout}");
}

#[test]
fn policy_diff_reports_changed_decisions() {
    let out = groupgate(&[
        "policy",
        "diff",
        "--old",
        "examples/policy.yaml",
        "--new",
        "examples/policy-proposed.yaml",
        "--requests",
        "examples/history.jsonl",
        "--directory",
        "examples/directory.yaml",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let changes: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let tickets: Vec<&str> = changes
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["ticket"].as_str().unwrap())
        .collect();
    assert_eq!(tickets, ["RITM0009002", "RITM0009004"]);
    assert_eq!(changes[0]["changed"][0], "expiry");
    assert_eq!(changes[1]["changed"][0], "approvers");
    // Comparing a policy with itself changes nothing.
    let out = groupgate(&[
        "policy",
        "diff",
        "--old",
        "examples/policy.yaml",
        "--new",
        "examples/policy.yaml",
        "--requests",
        "examples/history.jsonl",
        "--directory",
        "examples/directory.yaml",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out).0.contains("0 of 5 request(s)"));
}

#[test]
fn schema_command_prints_the_published_schema() {
    let out = groupgate(&["policy", "schema"]);
    let committed = std::fs::read_to_string(root().join("docs/policy.schema.json")).unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), committed);
}

#[test]
fn the_simulated_demo_prints_the_timeline_and_verifies_its_trail() {
    let dir = std::env::temp_dir().join(format!("groupgate-cli-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let trail = dir.join("audit.jsonl");
    let out = groupgate(&[
        "demo",
        "--simulated",
        "--audit-out",
        trail.to_str().unwrap(),
    ]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    for expected in [
        "dora.data@contoso.com approves stage `data-owner` via slack",
        "GROUP_ROLE_ASSIGNABLE",
        "timer set: retry at 2026-11-25 10:00:07",
        "RITM0010005 rolled_back",
        "offboarding requested",
        "access expired",
        "hash chain verified",
    ] {
        assert!(
            stdout.contains(expected),
            "missing `{expected}` in:\n{stdout}"
        );
    }
    // The written trail verifies, and fails once tampered with.
    let out = groupgate(&["audit", "verify", trail.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).0);
    assert!(text(&out).0.contains("hash chain intact"));
    let tampered = dir.join("tampered.jsonl");
    let original = std::fs::read_to_string(&trail).unwrap();
    std::fs::write(&tampered, original.replacen("\"approve\"", "\"reject\"", 1)).unwrap();
    let out = groupgate(&["audit", "verify", tampered.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).0.contains("its hash does not match its content"),
        "{}",
        text(&out).0
    );
    // Every recorded decision replays identically against the same policy...
    let out = groupgate(&[
        "audit",
        "replay",
        trail.to_str().unwrap(),
        "--policy",
        "examples/policy.yaml",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).0);
    assert!(text(&out).0.contains("0 differ"), "{}", text(&out).0);
    // ...and the proposed policy changes some, which the digest explains.
    let out = groupgate(&[
        "audit",
        "replay",
        trail.to_str().unwrap(),
        "--policy",
        "examples/policy-proposed.yaml",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).0.contains("policy changed"), "{}", text(&out).0);
}

#[test]
fn the_demo_runs_on_real_parts_and_keeps_what_it_made() {
    let dir = std::env::temp_dir().join(format!("groupgate-cli-live-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let trail = dir.join("exported.jsonl");
    std::fs::create_dir_all(&dir).unwrap();
    let out = groupgate(&[
        "demo",
        "--keep",
        dir.to_str().unwrap(),
        "--audit-out",
        trail.to_str().unwrap(),
    ]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    for expected in [
        "on real parts",
        "grace.hopper@contoso.com approves stage `manager` via slack",
        "Dora Data approves stage `data-owner` via teams",
        "GROUP_ROLE_ASSIGNABLE",
        "429",
        "timer: retry",
        "offboarding requested",
        "RITM0010002  removed",
        "RITM0010003  denied",
        "hash chain verified",
    ] {
        assert!(
            stdout.contains(expected),
            "missing `{expected}` in:\n{stdout}"
        );
    }
    // A chat answer's record in ServiceNow is not a second answer.
    assert!(
        !stdout.contains("another stage than the one open"),
        "{stdout}"
    );
    // What it kept: the store, the audit sink, the exported trail.
    let out = groupgate(&["audit", "verify", dir.join("audit.jsonl").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    let out = groupgate(&["audit", "verify", trail.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    let settings = dir.join("groupgate.yaml");
    let out = groupgate(&["workflows", "list", "--config", settings.to_str().unwrap()]);
    assert!(text(&out).0.contains("4 workflow(s)"), "{:?}", text(&out));
    // A second run into the same folder is refused, not mixed in.
    let out = groupgate(&["demo", "--keep", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn demo_json_is_the_audit_trail() {
    let out = groupgate(&["demo", "--simulated", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        groupgate_core::audit::verify_jsonl(&text).unwrap(),
        text.lines().count()
    );
}

#[test]
fn the_graph_emulator_runs_standalone_and_directory_lookups_go_through_graph() {
    use std::io::{BufRead, BufReader};
    let mut child = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_groupgate"))
            .args([
                "sim",
                "graph",
                "--tenant",
                "examples/directory.yaml",
                "--port",
                "0",
                "--client-secret",
                "cli-test-secret",
            ])
            .current_dir(root())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut vars = Vec::new();
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some((k, v)) = line.split_once('=') {
            vars.push((k.to_owned(), v.to_owned()));
        }
        if line.starts_with("(the client secret") {
            break;
        }
    }
    assert_eq!(vars.len(), 5, "{vars:?}");
    // Without the explicit loopback setting, plain http is refused before
    // the secret goes anywhere.
    let out = Command::new(env!("CARGO_BIN_EXE_groupgate"))
        .args(["directory", "user", "ada.lovelace@contoso.com"])
        .current_dir(root())
        .envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env_remove("GROUPGATE_GRAPH_ALLOW_INSECURE_LOOPBACK")
        .env("GROUPGATE_GRAPH_CLIENT_SECRET", "cli-test-secret")
        .output()
        .unwrap();
    let stderr = text(&out).1;
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("must use https"), "{stderr}");
    assert!(!stderr.contains("cli-test-secret"), "{stderr}");
    let lookup = |args: &[&str], secret: &str| {
        Command::new(env!("CARGO_BIN_EXE_groupgate"))
            .args(args)
            .current_dir(root())
            .envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("GROUPGATE_GRAPH_CLIENT_SECRET", secret)
            .output()
            .unwrap()
    };
    let out = lookup(
        &["directory", "user", "ada.lovelace@contoso.com"],
        "cli-test-secret",
    );
    let user: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out).1));
    assert_eq!(user["id"], "11111111-0000-0000-0000-00000000000a");
    assert_eq!(user["enabled"], true);
    let out = lookup(
        &["directory", "group", "aaaaaaaa-0000-0000-0000-000000000006"],
        "cli-test-secret",
    );
    let group: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(group["role_assignable"], true);
    let out = lookup(
        &["directory", "user", "nobody@contoso.com"],
        "cli-test-secret",
    );
    assert_eq!(out.status.code(), Some(1));
    let out = lookup(&["directory", "user", "ada.lovelace@contoso.com"], "wrong");
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out).1;
    assert!(stderr.contains("invalid_client"), "{stderr}");
    assert!(
        !stderr.contains("wrong"),
        "the secret is not echoed: {stderr}"
    );
}

/// A child process killed when dropped, also when a test fails midway.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `groupgate sim servicenow` on an ephemeral port with the example data;
/// killed when dropped.
struct SnowSim {
    child: std::process::Child,
    url: String,
}

impl SnowSim {
    fn start(password: &str) -> Self {
        use std::io::{BufRead, BufReader};
        let mut child = Command::new(env!("CARGO_BIN_EXE_groupgate"))
            .args([
                "sim",
                "servicenow",
                "--data",
                "examples/servicenow.yaml",
                "--port",
                "0",
                "--password",
                password,
            ])
            .current_dir(root())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut url = String::new();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(u) = line.strip_prefix("GROUPGATE_SNOW_INSTANCE_URL=") {
                url = u.to_owned();
            }
            if line.starts_with("(the password") {
                break;
            }
        }
        // Keep reading what the emulator prints later, so it never writes
        // into a closed pipe.
        std::thread::spawn(move || lines.for_each(drop));
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        Self { child, url }
    }

    /// `groupgate ticket show` against this emulator, credentials from the
    /// environment and the rest from `settings` (written to a file) when given.
    /// `ticket show RITM0010001` without settings, with the loopback http
    /// exception set or not.
    fn ticket_show_over_http(&self, allowed: bool) -> Output {
        Command::new(env!("CARGO_BIN_EXE_groupgate"))
            .args(["ticket", "show", "RITM0010001"])
            .current_dir(root())
            .env("GROUPGATE_SNOW_INSTANCE_URL", &self.url)
            .env(
                "GROUPGATE_SNOW_ALLOW_INSECURE_LOOPBACK",
                allowed.to_string(),
            )
            .env("GROUPGATE_SNOW_USER", "groupgate.integration")
            .env("GROUPGATE_SNOW_PASSWORD", "bad-pass")
            .env_remove("GROUPGATE_SNOW_CLIENT_ID")
            .env_remove("GROUPGATE_SNOW_CLIENT_SECRET")
            .output()
            .expect("the binary runs")
    }

    fn ticket_show(&self, number: &str, password: &str, settings: Option<&str>) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_groupgate"));
        cmd.args(["ticket", "show", number])
            .current_dir(root())
            .env("GROUPGATE_SNOW_INSTANCE_URL", &self.url)
            .env("GROUPGATE_SNOW_ALLOW_INSECURE_LOOPBACK", "true")
            .env("GROUPGATE_SNOW_USER", "groupgate.integration")
            .env("GROUPGATE_SNOW_PASSWORD", password)
            .env_remove("GROUPGATE_SNOW_CLIENT_ID")
            .env_remove("GROUPGATE_SNOW_CLIENT_SECRET");
        static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("groupgate-cli-snow-{}-{call}", std::process::id()));
        if let Some(settings) = settings {
            std::fs::create_dir_all(&dir).unwrap();
            let file = dir.join("servicenow.settings.yaml");
            std::fs::write(&file, settings).unwrap();
            cmd.arg("--servicenow-config").arg(file);
        }
        let out = cmd.output().expect("the binary runs");
        let _ = std::fs::remove_dir_all(&dir);
        out
    }
}

impl Drop for SnowSim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_servicenow_emulator_runs_standalone() {
    let sim = SnowSim::start("cli-pass");
    let config = groupgate_servicenow::ServiceNowConfig::for_loopback_emulator(
        sim.url.clone(),
        groupgate_servicenow::Auth::Basic {
            user: "groupgate.integration".into(),
            password: "cli-pass".into(),
        },
    );
    let snow = groupgate_servicenow::ServiceNowClient::new(config).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let request = rt
        .block_on(groupgate_core::ports::TicketSystem::read_request(
            &snow,
            &"RITM0010002".into(),
        ))
        .unwrap();
    assert_eq!(request.target, "carl.contractor@contoso.com");
    assert_eq!(request.resource, "Add contractor to Team Alpha");
}

#[test]
fn ticket_show_prints_the_request_groupgate_would_act_on() {
    let sim = SnowSim::start("show-pass");
    let out = sim.ticket_show("RITM0010002", "show-pass", None);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    let request: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(request["ticket"], "RITM0010002");
    assert_eq!(request["target"], "carl.contractor@contoso.com");
    assert_eq!(request["resource"], "Add contractor to Team Alpha");
    assert_eq!(request["justification"], "Alpha data pipeline");
    assert!(!stdout.contains("show-pass") && !stderr.contains("show-pass"));
}

#[test]
fn ticket_show_follows_the_settings_file_mapping() {
    let sim = SnowSim::start("map-pass");
    // The justification read from another variable: the resource is still there.
    let remapped =
        "catalog:\n  Request access to application:\n    justification: requested_resource\n";
    let out = sim.ticket_show("RITM0010001", "map-pass", Some(remapped));
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    let request: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(request["justification"], "Access to Finance BI");

    // A mapping to a variable the item does not have: refused, naming it.
    let missing = "default_mapping:\n  resource: app_name\n";
    let out = sim.ticket_show("RITM0010001", "map-pass", Some(missing));
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(
        stderr.contains("RITM0010001") && stderr.contains("app_name"),
        "{stderr}"
    );
}

#[test]
fn ticket_show_refuses_bad_numbers_settings_and_unknown_tickets() {
    let sim = SnowSim::start("bad-pass");
    let out = sim.ticket_show("RITM0010001^ORnumber!=x", "bad-pass", None);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("RITM"), "{stderr}");

    // Without the loopback exception: refused before the password is sent
    // over plain http.
    let out = sim.ticket_show_over_http(false);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("must use https"), "{stderr}");

    let out = sim.ticket_show("RITM0010001", "bad-pass", Some("password: hunter2\n"));
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("GROUPGATE_SNOW_PASSWORD") && !stderr.contains("hunter2"),
        "{stderr}"
    );

    let out = sim.ticket_show("RITM0010001", "bad-pass", Some("aprovals: create\n"));
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("unknown field `aprovals`"), "{stderr}");

    let out = sim.ticket_show("RITM0099999", "bad-pass", None);
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("not found"), "{stdout}");

    let out = sim.ticket_show("RITM0010001", "wrong-pass", None);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("credentials"), "{stderr}");
}

#[test]
fn audit_verify_catches_a_cut_a_rewrite_and_a_repeated_key_with_anchors_and_keys() {
    let dir = std::env::temp_dir().join(format!("groupgate-cli-anchor-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("signing.key");
    let out = groupgate(&["audit", "keygen", "--out", key.to_str().unwrap()]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let public = stdout
        .lines()
        .find_map(|l| l.strip_prefix("public key: "))
        .unwrap()
        .to_owned();
    let secret = std::fs::read_to_string(&key).unwrap();
    assert!(
        !stdout.contains(secret.trim()),
        "the secret is never printed"
    );
    // A second keygen never overwrites a key.
    let out = groupgate(&["audit", "keygen", "--out", key.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));

    let trail = dir.join("audit.jsonl");
    let out = groupgate(&[
        "demo",
        "--audit-out",
        trail.to_str().unwrap(),
        "--signing-key",
        key.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    let original = std::fs::read_to_string(&trail).unwrap();
    let lines: Vec<&str> = original.lines().collect();
    let report = groupgate(&[
        "audit",
        "verify",
        trail.to_str().unwrap(),
        "--public-key",
        &public,
        "--json",
    ]);
    assert_eq!(report.status.code(), Some(0), "{}", text(&report).0);
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    assert!(
        report["report"]["checkpoints_verified"].as_u64().unwrap() >= 3,
        "{report}"
    );
    // An anchor from a ticket's work note: the closing note carries one.
    let anchor = "2:".to_owned()
        + serde_json::from_str::<serde_json::Value>(lines[2]).unwrap()["hash"]
            .as_str()
            .unwrap();
    let head = format!(
        "{}:{}",
        report["report"]["head"]["seq"],
        report["report"]["head"]["hash"].as_str().unwrap()
    );

    // 1. The tail is cut: the chain alone says intact; the head anchor does not.
    let cut = dir.join("cut.jsonl");
    std::fs::write(&cut, lines[..lines.len() - 10].join("\n") + "\n").unwrap();
    let out = groupgate(&["audit", "verify", cut.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text(&out).0.contains("no anchor or key given"),
        "{}",
        text(&out).0
    );
    let out = groupgate(&[
        "audit",
        "verify",
        cut.to_str().unwrap(),
        "--expect-head",
        &head,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).0.contains("cut from its end"),
        "{}",
        text(&out).0
    );

    // 2. A record is rewritten and every hash after it recomputed.
    let records: Vec<groupgate_core::audit::AuditRecord> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut forged = String::new();
    let mut prev: Option<groupgate_core::audit::ChainHead> = None;
    // The forger drops the checkpoints they cannot re-sign.
    for (i, r) in records
        .iter()
        .filter(|r| !matches!(r.entry, groupgate_core::audit::Entry::Checkpoint { .. }))
        .enumerate()
    {
        let mut entry = r.entry.clone();
        if i == 0
            && let groupgate_core::audit::Entry::Started { request, .. } = &mut entry
        {
            request.justification = "forged".into();
        }
        let sealed = groupgate_core::audit::AuditRecord::seal(
            prev.as_ref(),
            r.at,
            r.workflow.clone(),
            r.actor.clone(),
            entry,
        );
        prev = Some(sealed.head());
        forged.push_str(&(sealed.to_json_line() + "\n"));
    }
    let forged_path = dir.join("forged.jsonl");
    std::fs::write(&forged_path, &forged).unwrap();
    let anchors = dir.join("anchors.txt");
    std::fs::write(
        &anchors,
        format!("# from RITM0010001's work notes\n{anchor}\n"),
    )
    .unwrap();
    let out = groupgate(&[
        "audit",
        "verify",
        forged_path.to_str().unwrap(),
        "--anchors",
        anchors.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out).0);
    assert!(text(&out).0.contains("rewritten"), "{}", text(&out).0);
    let out = groupgate(&[
        "audit",
        "verify",
        forged_path.to_str().unwrap(),
        "--public-key",
        &public,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out).0);
    assert!(text(&out).0.contains("checkpoint"), "{}", text(&out).0);

    // 3. A repeated key in one record.
    let dup = dir.join("dup.jsonl");
    std::fs::write(
        &dup,
        original.replacen("{\"seq\":0,", "{\"seq\":0,\"seq\":0,", 1),
    )
    .unwrap();
    let out = groupgate(&["audit", "verify", dup.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).0.contains("duplicate key `seq`"),
        "{}",
        text(&out).0
    );

    // An empty file proves nothing.
    let empty = dir.join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    let out = groupgate(&["audit", "verify", empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).0.contains("no records"), "{}", text(&out).0);
}

#[test]
fn a_reader_that_stops_early_is_not_a_crash() {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_groupgate"))
        .args(["demo", "--simulated", "--json"])
        .current_dir(root())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader is gone (as `| head -1` would be).
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(141), "{stderr}");
    assert!(first.starts_with('{'));
}
