//! `groupgate directory user|group`: look-ups through Microsoft Graph.

use crate::error::{CliError, Exit};
use crate::files;
use groupgate_core::GroupId;
use groupgate_core::ports::IdentityProvider;
use groupgate_graph::{GraphClient, GraphConfig};
use std::path::Path;

fn client(config_file: Option<&Path>) -> Result<GraphClient, CliError> {
    let text = config_file.map(files::read_text).transpose()?;
    let config = GraphConfig::from_file_and_vars(text.as_deref(), |k| std::env::var(k).ok())
        .map_err(|e| CliError::Argument(e.to_string()))?;
    GraphClient::new(config).map_err(|e| CliError::Argument(e.to_string()))
}

fn run<T: serde::Serialize>(
    lookup: impl std::future::Future<Output = Result<Option<T>, groupgate_core::ports::PortError>>,
) -> Result<Exit, CliError> {
    let runtime = super::runtime()?;
    match runtime.block_on(lookup) {
        Ok(Some(found)) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&found).unwrap_or_default()
            );
            Ok(Exit::Success)
        }
        Ok(None) => {
            println!("not found");
            Ok(Exit::Findings)
        }
        Err(e) => Err(CliError::Argument(format!("Microsoft Graph: {e}"))),
    }
}

pub(crate) fn user(key: &str, config: Option<&Path>) -> Result<Exit, CliError> {
    let graph = client(config)?;
    run(async move { graph.user(key).await })
}

pub(crate) fn group(id: &str, config: Option<&Path>) -> Result<Exit, CliError> {
    let graph = client(config)?;
    let id = GroupId::new(id);
    run(async move { graph.group(&id).await })
}
