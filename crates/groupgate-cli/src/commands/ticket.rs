//! `groupgate ticket show`: what groupgate reads from a ServiceNow RITM.

use crate::error::{CliError, Exit};
use crate::files;
use groupgate_core::TicketRef;
use groupgate_core::ports::{ErrorClass, TicketSystem};
use groupgate_servicenow::{ServiceNowClient, ServiceNowConfig, ritm_number};
use std::path::Path;

fn client(config_file: Option<&Path>) -> Result<ServiceNowClient, CliError> {
    let text = config_file.map(files::read_text).transpose()?;
    let config = ServiceNowConfig::from_file_and_vars(text.as_deref(), |k| std::env::var(k).ok())
        .map_err(|e| CliError::Argument(e.to_string()))?;
    ServiceNowClient::new(config).map_err(|e| CliError::Argument(e.to_string()))
}

/// Reads the RITM into a request with the configured variable mapping and
/// prints it as JSON: exactly what a workflow would start from.
pub(crate) fn show(number: &str, config: Option<&Path>) -> Result<Exit, CliError> {
    let number = ritm_number(number).map_err(|e| CliError::Argument(e.to_string()))?;
    let snow = client(config)?;
    let runtime = super::runtime()?;
    let ticket = TicketRef::from(number);
    match runtime.block_on(snow.read_request(&ticket)) {
        Ok(request) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&request).unwrap_or_default()
            );
            Ok(Exit::Success)
        }
        Err(e) if e.class == ErrorClass::NotFound => {
            println!("not found: {e}");
            Ok(Exit::Findings)
        }
        Err(e) => Err(CliError::Argument(format!("ServiceNow: {e}"))),
    }
}
