//! `groupgate directory user|group`: look-ups through Microsoft Graph.

use super::{print_lookup, settings_text};
use crate::error::{CliError, Exit};
use groupgate_core::GroupId;
use groupgate_core::ports::IdentityProvider;
use groupgate_graph::{GraphClient, GraphConfig};
use std::path::Path;

fn client(config_file: Option<&Path>) -> Result<GraphClient, CliError> {
    let text = settings_text(config_file)?;
    let config = GraphConfig::from_file_and_vars(text.as_deref(), |k| std::env::var(k).ok())
        .map_err(|e| CliError::Argument(e.to_string()))?;
    GraphClient::new(config).map_err(|e| CliError::Argument(e.to_string()))
}

pub(crate) fn user(key: &str, config: Option<&Path>) -> Result<Exit, CliError> {
    let graph = client(config)?;
    print_lookup("Microsoft Graph", async move { graph.user(key).await })
}

pub(crate) fn group(id: &str, config: Option<&Path>) -> Result<Exit, CliError> {
    let graph = client(config)?;
    let id = GroupId::new(id);
    print_lookup("Microsoft Graph", async move { graph.group(&id).await })
}
