//! `groupgate demo`: whole workflows on the simulated world, as a timeline.
//!
//! No network: the directory, tickets and approvers are the in-memory fakes
//! of `groupgate-sim`, and time is simulated.

use crate::error::{CliError, Exit};
use crate::timeline;
use chrono::{DateTime, TimeDelta, Utc};
use groupgate_core::Request;
use groupgate_core::audit::{CheckpointKey, verify_jsonl};
use groupgate_core::ports::PortError;
use groupgate_core::workflow::Verdict;
use groupgate_engine::EngineError;
use groupgate_sim::World;
use std::path::Path;

fn engine_error(e: EngineError) -> CliError {
    CliError::Argument(format!("the demo's engine failed: {e}"))
}

/// `approver` approves the ticket's current stage through `channel`.
async fn approve(
    world: &World,
    ticket: &str,
    approver: &str,
    channel: &str,
) -> Result<(), CliError> {
    world
        .answer(ticket, approver, Verdict::Approve, channel)
        .await
        .map(|_| ())
        .map_err(engine_error)
}

fn request(
    ticket: &str,
    requester: &str,
    target: &str,
    resource: &str,
    end: Option<&str>,
    why: &str,
) -> Result<Request, CliError> {
    serde_json::from_value(serde_json::json!({
        "ticket": ticket, "requester": requester, "target": target, "resource": resource,
        "end_date": end, "justification": why,
    }))
    .map_err(|e| CliError::Argument(format!("demo request: {e}")))
}

fn at(s: &str) -> Result<DateTime<Utc>, CliError> {
    s.parse()
        .map_err(|e| CliError::Argument(format!("demo time `{s}`: {e}")))
}

/// Prints the records added since the last call, under a heading.
struct Printer {
    json: bool,
    printed: usize,
}

impl Printer {
    async fn section(&mut self, world: &World, heading: &str) -> Result<(), CliError> {
        let records = world.engine.audit_trail().await.map_err(engine_error)?;
        let new = records.get(self.printed..).unwrap_or_default();
        self.printed = records.len();
        if self.json {
            for r in new {
                println!("{}", r.to_json_line());
            }
        } else {
            println!("\n== {heading}");
            for line in timeline::lines(new) {
                println!("{line}");
            }
        }
        Ok(())
    }
}

pub(crate) fn run(
    json: bool,
    audit_out: Option<&Path>,
    signing_key: Option<&Path>,
) -> Result<Exit, CliError> {
    let key = match signing_key {
        Some(path) => Some(
            CheckpointKey::from_text(&crate::files::read_text(path, crate::files::Input::Small)?)
                .map_err(|e| CliError::Argument(format!("{}: {e}", path.display())))?,
        ),
        None => None,
    };
    let runtime = super::runtime()?;
    runtime.block_on(scenarios(json, audit_out, key))
}

async fn scenarios(
    json: bool,
    audit_out: Option<&Path>,
    key: Option<CheckpointKey>,
) -> Result<Exit, CliError> {
    let mut world = World::example().map_err(CliError::Argument)?;
    if let Some(key) = key {
        world = world.map_engine(|e| e.with_checkpoints(key, 25));
    }
    let mut out = Printer { json, printed: 0 };
    if !json {
        println!("groupgate demo: the example policy and directory on a simulated world");
        println!(
            "(no network: directory, tickets and approvers are in-memory fakes; time is simulated)"
        );
    }
    let e = engine_error;

    // 1. Mini example 1.
    world
        .submit(request(
            "RITM0010001",
            "ada.lovelace@contoso.com",
            "ada.lovelace@contoso.com",
            "Access to Finance BI",
            None,
            "Quarter-end reporting",
        )?)
        .await
        .map_err(e)?;
    approve(&world, "RITM0010001", "ada.lovelace@contoso.com", "teams").await?;
    approve(&world, "RITM0010001", "grace.hopper@contoso.com", "teams").await?;
    approve(&world, "RITM0010001", "dora.data@contoso.com", "slack").await?;
    out.section(
        &world,
        "1. Finance BI: the manager and the data owner approve in chat; added and verified",
    )
    .await?;

    // 2. Mini example 2 (its expiry shows at the end, when the clock passes the end date).
    world
        .submit(request(
            "RITM0010002",
            "pat.lead@contoso.com",
            "carl.contractor@contoso.com",
            "Add contractor to Team Alpha",
            Some("2027-01-31T17:00:00Z"),
            "Alpha data pipeline",
        )?)
        .await
        .map_err(e)?;
    approve(
        &world,
        "RITM0010002",
        "mia.manager@contoso.com",
        "servicenow",
    )
    .await?;
    out.section(
        &world,
        "2. A contractor joins Team Alpha until 2027-01-31; the manager approves",
    )
    .await?;

    // 3. Role-assignable: denied from the directory's facts.
    world
        .submit(request(
            "RITM0010003",
            "grace.hopper@contoso.com",
            "ada.lovelace@contoso.com",
            "Helpdesk Admin",
            None,
            "Reset passwords",
        )?)
        .await
        .map_err(e)?;
    out.section(
        &world,
        "3. A role-assignable group: denied, whatever the policy file says",
    )
    .await?;

    // 4. A throttled add (429 with Retry-After), retried.
    world.directory.faults().fail_next(
        "add_member",
        PortError::transient("Graph 429 TooManyRequests", Some(7)),
    );
    world
        .submit(request(
            "RITM0010004",
            "ada.lovelace@contoso.com",
            "pat.lead@contoso.com",
            "HR Portal",
            None,
            "Team lead duties",
        )?)
        .await
        .map_err(e)?;
    approve(&world, "RITM0010004", "mia.manager@contoso.com", "teams").await?;
    approve(&world, "RITM0010004", "hanna.hr@contoso.com", "teams").await?;
    world
        .run_until(world.now() + TimeDelta::minutes(1))
        .await
        .map_err(e)?;
    out.section(
        &world,
        "4. Graph throttles the add (429, Retry-After 7 s); retried after the wait, it succeeds",
    )
    .await?;

    // 5. The add never becomes visible: rolled back.
    world
        .directory
        .never_visible("aaaaaaaa-0000-0000-0000-000000000004");
    world
        .submit(request(
            "RITM0010005",
            "pat.lead@contoso.com",
            "ada.lovelace@contoso.com",
            "AP Clerks",
            None,
            "Invoice backlog",
        )?)
        .await
        .map_err(e)?;
    approve(&world, "RITM0010005", "grace.hopper@contoso.com", "teams").await?;
    approve(&world, "RITM0010005", "dora.data@contoso.com", "teams").await?;
    world
        .run_until(world.now() + TimeDelta::minutes(10))
        .await
        .map_err(e)?;
    out.section(
        &world,
        "5. The new membership never shows up in the directory: rolled back, a person is called",
    )
    .await?;

    // 6. Early offboarding.
    world
        .submit(request(
            "RITM0010006",
            "pat.lead@contoso.com",
            "vic.vendor@contoso.com",
            "Team Alpha",
            Some("2027-02-28T17:00:00Z"),
            "Vendor support",
        )?)
        .await
        .map_err(e)?;
    approve(
        &world,
        "RITM0010006",
        "mia.manager@contoso.com",
        "servicenow",
    )
    .await?;
    world
        .run_until(at("2026-12-10T09:00:00Z")?)
        .await
        .map_err(e)?;
    world
        .engine
        .offboard("vic.vendor@contoso.com", "hr-offboarding")
        .await
        .map_err(e)?;
    out.section(
        &world,
        "6. A vendor's time-bound access, ended early by offboarding on 2026-12-10",
    )
    .await?;

    // Mini example 2's end date passes.
    world
        .run_until(at("2027-02-01T09:00:00Z")?)
        .await
        .map_err(e)?;
    out.section(
        &world,
        "2 (continued). The contractor's end date passes: access removed automatically",
    )
    .await?;

    let trail = world.audit_jsonl().await.map_err(e)?;
    if let Some(path) = audit_out {
        std::fs::write(path, &trail).map_err(|source| CliError::Read {
            path: path.display().to_string(),
            source,
        })?;
    }
    match verify_jsonl(&trail) {
        Ok(n) if !json => {
            let rows = world
                .engine
                .summaries(&Default::default())
                .await
                .map_err(e)?;
            println!("\n== Summary");
            for row in &rows {
                let ticket = world.tickets.ticket(row.ticket.as_str());
                let state = ticket
                    .and_then(|t| t.state)
                    .map(|s| format!("{s:?}"))
                    .unwrap_or_default();
                println!("{:<12} {:<22} ticket {}", row.id, row.phase, state);
            }
            println!("audit trail: {n} records, hash chain verified");
            Ok(Exit::Success)
        }
        Ok(_) => Ok(Exit::Success),
        Err(err) => Err(CliError::Argument(format!(
            "the demo's own audit trail does not verify: {err}"
        ))),
    }
}
