//! `groupgate drift`: the drift report, as a table or JSON.

use crate::error::{CliError, Exit};
use groupgate_engine::DriftReport;
use groupgate_service::Service;
use std::path::Path;

fn table(report: &DriftReport) -> String {
    let mut out = String::new();
    for g in &report.groups {
        let name = g.name.as_deref().unwrap_or(&g.key);
        let state = match (&g.error, g.complete) {
            (Some(e), _) => format!("not read: {e}"),
            (None, false) => format!("{} members read (more not read)", g.members),
            (None, true) => format!("{} members", g.members),
        };
        out.push_str(&format!("{} ({name}, {}): {state}\n", g.key, g.group));
        for m in &g.unaccounted {
            let done = match (m.action.as_str(), &m.detail) {
                ("removed", _) => "; removed (enforce)".to_owned(),
                ("failed", Some(why)) => format!("; the removal failed: {why}"),
                _ => String::new(),
            };
            out.push_str(&format!(
                "  unaccounted  {} ({}): a direct member no workflow accounts for{done}\n",
                m.upn, m.id
            ));
        }
        for wf in &g.gone {
            out.push_str(&format!(
                "  gone         {wf}: holds a membership the directory no longer shows\n"
            ));
        }
    }
    let unaccounted: usize = report.groups.iter().map(|g| g.unaccounted.len()).sum();
    let gone: usize = report.groups.iter().map(|g| g.gone.len()).sum();
    out.push_str(&format!(
        "{} groups: {unaccounted} unaccounted members, {gone} memberships gone\n",
        report.groups.len()
    ));
    out
}

pub(crate) fn drift(config: &Path, json: bool) -> Result<Exit, CliError> {
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let service = Service::from_settings_file(config).map_err(CliError::Service)?;
        let report = service.drift_report().await.map_err(CliError::Stopped)?;
        if json {
            println!(
                "{}",
                serde_json::to_string_pretty(&report).unwrap_or_default()
            );
        } else {
            print!("{}", table(&report));
        }
        Ok(if report.has_findings() {
            Exit::Findings
        } else {
            Exit::Success
        })
    })
}
