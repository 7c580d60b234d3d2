//! `groupgate ticket show`: what groupgate reads from a ServiceNow RITM.

use super::{print_lookup, settings_text};
use crate::error::{CliError, Exit};
use groupgate_core::TicketRef;
use groupgate_core::ports::TicketSystem;
use groupgate_servicenow::{ServiceNowClient, ServiceNowConfig, ritm_number};
use std::path::Path;

fn client(config_file: Option<&Path>) -> Result<ServiceNowClient, CliError> {
    let text = settings_text(config_file)?;
    let config = ServiceNowConfig::from_file_and_vars(text.as_deref(), |k| std::env::var(k).ok())
        .map_err(|e| CliError::Argument(e.to_string()))?;
    ServiceNowClient::new(config).map_err(|e| CliError::Argument(e.to_string()))
}

/// Reads the RITM into a request with the configured variable mapping and
/// prints it as JSON: exactly what a workflow would start from.
pub(crate) fn show(number: &str, config: Option<&Path>) -> Result<Exit, CliError> {
    let number = ritm_number(number).map_err(|e| CliError::Argument(e.to_string()))?;
    let snow = client(config)?;
    let ticket = TicketRef::from(number);
    print_lookup("ServiceNow", async move {
        snow.read_request(&ticket).await.map(Some)
    })
}
