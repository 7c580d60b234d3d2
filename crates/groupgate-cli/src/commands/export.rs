//! `groupgate audit export`: the store's trail as JSON Lines or CSV, whole
//! or from a time on, streamed page by page (memory does not grow with the
//! trail).

use crate::cli::ExportFormat;
use crate::error::{CliError, Exit};
use crate::timeline::Narrator;
use chrono::{DateTime, NaiveDate, Utc};
use groupgate_core::audit::{Actor, AuditRecord, Entry};
use groupgate_core::ports::Store;
use std::io::Write;
use std::path::Path;

/// The CSV columns, in order (documented in `docs/audit.md`; stable).
pub(crate) const CSV_COLUMNS: [&str; 10] = [
    "seq",
    "at",
    "workflow",
    "actor_kind",
    "actor_id",
    "entry",
    "event",
    "phase",
    "summary",
    "hash",
];

/// `--since`: RFC 3339, or a date (its start, UTC).
fn parse_since(text: &str) -> Result<DateTime<Utc>, CliError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| {
            CliError::Argument(format!(
                "--since `{text}` is neither an RFC 3339 time nor a date; write e.g. 2026-12-01 or 2026-12-01T08:00:00Z"
            ))
        })
}

fn csv_row(record: &AuditRecord, narrator: &mut Narrator) -> [String; 10] {
    let (actor_kind, actor_id) = match &record.actor {
        Actor::System => ("system", String::new()),
        Actor::Requester(id) => ("requester", id.clone()),
        Actor::Approver(id) => ("approver", id.clone()),
        Actor::Operator(id) => ("operator", id.clone()),
    };
    let (entry, event, phase) = match &record.entry {
        Entry::Started { .. } => ("started", "", ""),
        Entry::Applied { event, phase } => ("applied", event.name(), phase.as_str()),
        Entry::Refused { event, .. } => ("refused", event.name(), ""),
        Entry::Incident { .. } => ("incident", "", ""),
        Entry::Drift { .. } => ("drift", "", ""),
        Entry::Checkpoint { .. } => ("checkpoint", "", ""),
        Entry::PolicyChanged { .. } => ("policy_changed", "", ""),
        Entry::Reminded { .. } => ("reminded", "", ""),
    };
    [
        record.seq.to_string(),
        record
            .at
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        record.workflow.to_string(),
        actor_kind.to_owned(),
        actor_id,
        entry.to_owned(),
        event.to_owned(),
        phase.to_owned(),
        narrator.narrate(record).join("; "),
        record.hash.clone(),
    ]
}

/// Where records go, in the chosen format.
enum Output {
    Jsonl(Box<dyn Write>),
    Csv(Box<csv::Writer<Box<dyn Write>>>, Narrator),
}

impl Output {
    fn write(&mut self, record: &AuditRecord, shown: bool) -> std::io::Result<()> {
        match self {
            Output::Jsonl(w) if shown => writeln!(w, "{}", record.to_json_line()),
            Output::Jsonl(_) => Ok(()),
            Output::Csv(w, narrator) => {
                // Narrated from the start even when not shown, so timers set
                // earlier are known to later rows.
                let row = csv_row(record, narrator);
                if shown {
                    w.write_record(&row)?;
                }
                Ok(())
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Output::Jsonl(w) => w.flush(),
            Output::Csv(w, _) => w.flush(),
        }
    }
}

pub(crate) fn export(
    config: &Path,
    out: Option<&Path>,
    format: ExportFormat,
    since: Option<&str>,
) -> Result<Exit, CliError> {
    let since = since.map(parse_since).transpose()?;
    let store = super::worker::store_of(config, false)?;
    let runtime = super::runtime()?;
    let target = out
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "standard output".into());
    let failed = |e: std::io::Error| CliError::Read {
        path: target.clone(),
        source: e,
    };
    let sink: Box<dyn Write> = match out {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).map_err(failed)?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let mut output = match format {
        ExportFormat::Jsonl => Output::Jsonl(sink),
        ExportFormat::Csv => {
            let mut w = csv::Writer::from_writer(sink);
            w.write_record(CSV_COLUMNS).map_err(|e| failed(e.into()))?;
            Output::Csv(Box::new(w), Narrator::default())
        }
    };
    let mut from = 0u64;
    loop {
        let page = runtime
            .block_on(store.trail(from, 10_000))
            .map_err(|e| CliError::Service(e.into()))?;
        let Some(last) = page.last() else { break };
        from = last.seq + 1;
        for record in &page {
            let shown = since.is_none_or(|t| record.at >= t);
            output.write(record, shown).map_err(failed)?;
        }
    }
    output.flush().map_err(failed)?;
    Ok(Exit::Success)
}
