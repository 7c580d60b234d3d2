//! `groupgate worker`, `workflows` and `offboard` as an operator runs them:
//! the real binary against the Graph and ServiceNow emulators and a SQLite
//! file (the crash harness's world, without the crashes).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod crash;

use crash::{ADA, FIN, HR, IVAN, Run};
use std::collections::HashMap;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn once(run: &Run) -> Output {
    let out = run
        .groupgate(&["worker", "--config", "groupgate.yaml", "--once"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{:?}", text(&out));
    out
}

/// Passes (approvers answering between them) until `done` holds.
fn until(run: &mut Run, what: &str, done: impl Fn(&HashMap<String, String>) -> bool) {
    let began = Instant::now();
    loop {
        once(run);
        let phases = run.phases();
        if done(&phases) {
            return;
        }
        assert!(
            began.elapsed() < Duration::from_secs(60),
            "{what}: not reached in 60 s: {phases:?}"
        );
        run.answer_approvals();
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn is(phases: &HashMap<String, String>, ticket: &str, phase: &str) -> bool {
    phases.get(ticket).is_some_and(|p| p == phase)
}

#[test]
fn a_settings_file_with_a_mistake_is_refused_with_its_line_and_field() {
    let run = Run::start("settings", 0.0, 1);
    let cases = [
        (
            "policy: policy.yaml\nstore: {path: groupgate.db}\ngraph: {tenant_id: t}\nservicenow: {instance_url: https://x.service-now.com}\nworkers: {pass_seconds: 1}\n",
            vec!["bad.yaml", "line 5, column 1", "`workers`"],
        ),
        (
            "policy: policy.yaml\nstore: {path: groupgate.db, durability: sometimes}\ngraph: {tenant_id: t}\nservicenow: {instance_url: https://x.service-now.com}\n",
            vec!["bad.yaml", "line 2", "sometimes"],
        ),
        (
            "policy: policy.yaml\nstore: {path: groupgate.db}\ngraph: {tenant_id: t}\nservicenow: {instance_url: https://x.service-now.com}\nworker: {pass_seconds: 0}\n",
            vec!["bad.yaml", "pass_seconds", "0.01 to 3600"],
        ),
        ("", vec!["bad.yaml", "empty"]),
        (
            "policy: policy.yaml\nstore: {path: groupgate.db}\ngraph:\n  tenant_id: t\n  client_idd: x\nservicenow: {instance_url: https://x.service-now.com}\n",
            vec![
                "bad.yaml",
                "line 5, column 3",
                "`graph.client_idd`",
                "unknown setting",
            ],
        ),
        (
            "policy: missing.yaml\nstore: {path: groupgate.db}\ngraph: {tenant_id: t}\nservicenow: {instance_url: https://x.service-now.com}\n",
            vec!["bad.yaml", "missing.yaml"],
        ),
    ];
    for (settings, expected) in cases {
        std::fs::write(run.dir.join("bad.yaml"), settings).unwrap();
        let out = run
            .groupgate(&["worker", "--config", "bad.yaml", "--once"])
            .output()
            .unwrap();
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{settings}: {stderr}");
        for word in expected {
            assert!(
                stderr.contains(word),
                "{settings}: `{word}` not in {stderr}"
            );
        }
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    // Nothing was created by a refused start.
    assert!(!run.dir.join("groupgate.db").exists());
}

#[test]
fn passes_take_tickets_in_and_the_store_commands_show_them() {
    let mut run = Run::start("list", 0.0, 2);
    once(&run);
    let phases = run.phases();
    assert_eq!(
        phases.len(),
        6,
        "every RITM of the catalog item: {phases:?}"
    );
    assert!(is(&phases, "RITM0000004", "denied"), "{phases:?}");
    assert!(
        is(&phases, "RITM0000001", "awaiting_approval"),
        "{phases:?}"
    );
    until(&mut run, "RITM1 active", |p| is(p, "RITM0000001", "active"));
    assert!(run.graph.is_direct_member(FIN, ADA));

    let out = run
        .groupgate(&["workflows", "list", "--config", "groupgate.yaml"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let line = stdout
        .lines()
        .find(|l| l.starts_with("RITM0000001"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(line.contains("active") && line.contains(ADA), "{line}");
    assert!(stdout.contains("6 workflow(s)"), "{stdout}");

    let out = run
        .groupgate(&["workflows", "list", "--config", "groupgate.yaml", "--json"])
        .output()
        .unwrap();
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let ritm1 = rows.iter().find(|r| r["id"] == "RITM0000001").unwrap();
    assert_eq!(ritm1["phase"], "active");
    assert_eq!(ritm1["group"], FIN);
    // Its expiry (the group's one-year cap) is its next wake.
    assert!(ritm1["next_wake"].as_str().unwrap() > "2027");

    let out = run
        .groupgate(&[
            "workflows",
            "show",
            "RITM0000004",
            "--config",
            "groupgate.yaml",
        ])
        .output()
        .unwrap();
    let (stdout, _) = text(&out);
    assert!(out.status.success());
    assert!(stdout.contains("denied"), "{stdout}");
    assert!(
        stdout.contains("ROLE_ASSIGNABLE") || stdout.contains("role"),
        "{stdout}"
    );

    let out = run
        .groupgate(&[
            "workflows",
            "show",
            "RITM9999999",
            "--config",
            "groupgate.yaml",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{:?}", text(&out));

    // A backup is a checked, complete store.
    let out = run
        .groupgate(&[
            "store",
            "backup",
            "--config",
            "groupgate.yaml",
            "--to",
            "backup.db",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{:?}", text(&out));
    let copy = groupgate_sqlite::SqliteStore::open_existing(
        run.dir.join("backup.db"),
        groupgate_sqlite::SqliteOptions::default(),
    )
    .unwrap();
    use groupgate_core::ports::Store;
    let rows = crash::runtime()
        .block_on(copy.find(&Default::default()))
        .unwrap();
    assert_eq!(rows.len(), 6);
    let out = run
        .groupgate(&[
            "store",
            "backup",
            "--config",
            "groupgate.yaml",
            "--to",
            "backup.db",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "a backup never overwrites: {:?}",
        text(&out)
    );
    let out = run
        .groupgate(&["store", "check", "--config", "groupgate.yaml"])
        .output()
        .unwrap();
    assert!(
        out.status.success() && text(&out).0.contains(": ok"),
        "{:?}",
        text(&out)
    );

    // The trail exported whole as JSON Lines, as CSV, and from a time on.
    let records = crash::runtime()
        .block_on(run.store().trail(0, 1_000_000))
        .unwrap();
    let export = |args: &[&str]| {
        let mut all = vec!["audit", "export", "--config", "groupgate.yaml"];
        all.extend_from_slice(args);
        let out = run.groupgate(&all).output().unwrap();
        assert!(out.status.success(), "{args:?}: {:?}", text(&out));
        text(&out).0
    };
    let jsonl = export(&[]);
    assert_eq!(jsonl.lines().count(), records.len());
    groupgate_core::audit::verify_jsonl(&jsonl).unwrap();
    let csv_text = export(&["--format", "csv"]);
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "seq",
            "at",
            "workflow",
            "actor_kind",
            "actor_id",
            "entry",
            "event",
            "phase",
            "summary",
            "hash"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), records.len());
    for (row, record) in rows.iter().zip(&records) {
        assert_eq!(row[0], record.seq.to_string());
        assert_eq!(row[2], record.workflow.to_string());
        assert_eq!(row[9], record.hash);
    }
    // Summaries hold quotes and commas, and survive the CSV quoting.
    let opened = rows
        .iter()
        .find(|r| &r[5] == "started")
        .expect("a started record");
    assert!(
        opened[8].starts_with("ticket opened: \""),
        "{:?}",
        &opened[8]
    );
    assert!(
        rows.iter()
            .any(|r| &r[6] == "evaluated" && !r[8].is_empty())
    );
    let middle = &records[records.len() / 2];
    let since = middle
        .at
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let tail = export(&["--since", &since]);
    let expected = records.iter().filter(|r| r.at >= middle.at).count();
    assert_eq!(tail.lines().count(), expected);
    assert!(
        export(&["--since", "2999-01-01", "--format", "csv"])
            .lines()
            .count()
            == 1
    );
    let out = run
        .groupgate(&[
            "audit",
            "export",
            "--config",
            "groupgate.yaml",
            "--since",
            "yesterday",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).1.contains("--since `yesterday`"),
        "{:?}",
        text(&out)
    );

    // Reading commands never create a store at a mistyped path.
    let settings = std::fs::read_to_string(&run.settings).unwrap();
    std::fs::write(
        run.dir.join("typo.yaml"),
        settings.replace("path: groupgate.db", "path: groupgate-typo.db"),
    )
    .unwrap();
    for args in [
        vec!["workflows", "list", "--config", "typo.yaml"],
        vec!["audit", "export", "--config", "typo.yaml"],
        vec!["store", "check", "--config", "typo.yaml"],
    ] {
        let out = run.groupgate(&args).output().unwrap();
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("no store here"), "{stderr}");
    }
    assert!(!run.dir.join("groupgate-typo.db").exists());
}

#[test]
fn the_worker_finishes_its_pass_on_sigterm_and_exits_0() {
    let run = Run::start("sigterm", 0.0, 3);
    let mut child = run
        .groupgate(&[
            "worker",
            "--config",
            "groupgate.yaml",
            "--log-format",
            "json",
        ])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Each ticket's facts take a second to read, so the signal arrives in
    // the middle of the first pass.
    for _ in 0..6 {
        run.graph.slow_next("$batch", Duration::from_millis(700));
    }
    let began = Instant::now();
    while run.phases().is_empty() {
        if began.elapsed() > Duration::from_secs(30) || child.try_wait().unwrap().is_some() {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!("not all taken in: {:?}, {:?}", run.phases(), text(&out));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // Every log line is a JSON object; workflows log inside a span that
    // names their ticket.
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(lines.iter().any(|l| l["fields"]["message"] == "stopping"));
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["message"] == "stop requested; finishing the step in hand")
    );
    assert!(
        lines
            .iter()
            .any(|l| l["span"]["ticket"] == "RITM0000001" && l["fields"]["message"] == "taken in"),
        "{stderr}"
    );
    // It stopped before taking everything in; the file is consistent, and
    // the next start carries on.
    let taken = run.phases().len();
    assert!((1..6).contains(&taken), "{taken} taken in before stopping");
    run.store().check_integrity().unwrap();
    once(&run);
    assert_eq!(run.phases().len(), 6);
}

#[test]
fn a_queued_offboarding_waits_out_a_directory_outage_and_then_completes() {
    let mut run = Run::start("offboard", 0.0, 4);
    until(&mut run, "RITM3 active", |p| is(p, "RITM0000003", "active"));
    assert!(run.graph.is_direct_member(FIN, IVAN));
    assert!(run.graph.is_direct_member(HR, IVAN), "the hand-added drift");

    let out = run
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
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("queued as #1"), "{stdout}");

    // The directory cannot say who Ivan is for one pass: the offboarding
    // stays queued (it used to be marked refused and dropped).
    run.graph.fail_next("/users/ivan", 503, None);
    once(&run);
    assert!(is(&run.phases(), "RITM0000003", "active"));
    assert_eq!(run.store().pending_offboardings().unwrap().len(), 1);
    assert!(run.graph.is_direct_member(HR, IVAN));

    // The next pass carries it out: the granted membership and the drift.
    until(&mut run, "RITM3 removed", |p| {
        is(p, "RITM0000003", "removed")
    });
    assert!(run.store().pending_offboardings().unwrap().is_empty());
    assert!(!run.graph.is_direct_member(FIN, IVAN));
    assert!(!run.graph.is_direct_member(HR, IVAN));
    let changes = run.graph.membership_changes();
    assert_eq!(
        changes
            .iter()
            .filter(|c| c.starts_with("remove") && c.ends_with(IVAN))
            .count(),
        2,
        "{changes:?}"
    );
    // The ticket says so once.
    let ritm = run.snow.ritm("RITM0000003").unwrap();
    let sys_id = ritm["sys_id"].as_str().unwrap().to_owned();
    let notes = run.snow.journal(&sys_id, "work_notes");
    let removal_notes = notes
        .iter()
        .filter(|n| n.to_lowercase().contains("remov"))
        .count();
    assert!(removal_notes >= 1, "{notes:?}");
    let mut seen = std::collections::HashSet::new();
    assert!(
        notes.iter().all(|n| seen.insert(n)),
        "a note twice: {notes:?}"
    );
}

#[test]
fn sighup_reloads_the_policy_and_a_broken_file_leaves_the_old_one_in_force() {
    let run = Run::start("sighup", 0.0, 4);
    let mut child = run
        .groupgate(&[
            "worker",
            "--config",
            "groupgate.yaml",
            "--log-format",
            "json",
        ])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let began = Instant::now();
    while run.phases().is_empty() {
        assert!(
            began.elapsed() < Duration::from_secs(30),
            "nothing taken in"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let pid = child.id().to_string();
    let signal = |name: &str| {
        let status = std::process::Command::new("kill")
            .args([name, &pid])
            .status()
            .unwrap();
        assert!(status.success());
        std::thread::sleep(Duration::from_millis(700));
    };
    let policy = run.dir.join("policy.yaml");
    let original = std::fs::read_to_string(&policy).unwrap();
    // Broken, then SIGHUP: refused, the worker keeps running.
    std::fs::write(&policy, format!("{original}\nnot_a_key: 1\n")).unwrap();
    signal("-HUP");
    assert!(
        child.try_wait().unwrap().is_none(),
        "SIGHUP must not stop the worker"
    );
    // Valid and different, then SIGHUP: in force.
    std::fs::write(
        &policy,
        original.replace("max_duration: 365d", "max_duration: 180d"),
    )
    .unwrap();
    signal("-HUP");
    signal("-TERM");
    let out = child.wait_with_output().unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let messages: Vec<String> = lines
        .iter()
        .map(|l| {
            l["fields"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert!(
        messages
            .iter()
            .filter(|m| *m == "SIGHUP: reloading the policy")
            .count()
            >= 2,
        "{stderr}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("does not compile; the policy in force stays")),
        "{stderr}"
    );
    use groupgate_core::ports::Store;
    let records = crash::runtime()
        .block_on(run.store().trail(0, 100_000))
        .unwrap();
    let trail: Vec<String> = records.iter().map(|r| r.to_json_line()).collect();
    let trail = trail.join("\n");
    assert!(trail.contains("not_a_key"), "the refusal is in the trail");
    assert!(trail.contains("\"entry\":\"policy_changed\""), "{stderr}");
    assert!(messages.iter().any(|m| m == "policy reloaded"), "{stderr}");
}

#[test]
fn drift_reports_hand_made_members_and_memberships_gone_and_records_them() {
    let mut run = Run::start("drift", 0.0, 5);
    once(&run);
    until(&mut run, "RITM1 active", |p| is(p, "RITM0000001", "active"));
    // Outside groupgate: Ada's granted membership removed in the portal,
    // Grace added by hand (and Ivan was put into HR by hand at the start).
    const GRACE: &str = "11111111-0000-0000-0000-00000000000b";
    run.graph.edit_directory(|d| {
        let fin = d.find_group_mut(FIN).unwrap();
        fin.members.retain(|m| m != ADA);
        fin.members.push(GRACE.to_owned());
    });
    let out = run
        .groupgate(&["drift", "--config", "groupgate.yaml", "--json"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "findings exit 1: {stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let group = |id: &str| {
        report["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["group"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} not in {report}"))
    };
    let fin = group(FIN);
    assert_eq!(fin["complete"], true);
    let unaccounted: Vec<&str> = fin["unaccounted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(unaccounted, [GRACE], "{fin}");
    assert_eq!(fin["gone"], serde_json::json!(["RITM0000001"]), "{fin}");
    let hr = group(HR);
    assert!(hr["unaccounted"].to_string().contains(IVAN), "{hr}");
    // Nothing was changed.
    assert!(run.graph.is_direct_member(FIN, GRACE));
    assert!(!run.graph.is_direct_member(FIN, ADA));
    // The table says the same, and the trail holds each finding.
    let out = run
        .groupgate(&["drift", "--config", "groupgate.yaml"])
        .output()
        .unwrap();
    let (stdout, _) = text(&out);
    assert!(
        stdout.contains("unaccounted  grace.hopper@contoso.com"),
        "{stdout}"
    );
    assert!(stdout.contains("gone         RITM0000001"), "{stdout}");
    use groupgate_core::ports::Store;
    let records = crash::runtime()
        .block_on(run.store().trail(0, 1_000_000))
        .unwrap();
    let drift: Vec<_> = records
        .iter()
        .filter(|r| r.workflow.to_string() == format!("drift/{FIN}"))
        .collect();
    assert_eq!(drift.len(), 4, "two runs, two findings each: {drift:?}");
}
