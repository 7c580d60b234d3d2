//! `groupgate check`: one request, one decision.

use super::parse_now;
use crate::cli::CheckArgs;
use crate::error::{CliError, Exit};
use crate::{files, render};
use groupgate_core::Request;

pub(crate) fn run(args: &CheckArgs) -> Result<Exit, CliError> {
    let policy = files::load_policy(&args.policy)?;
    let request: Request = files::load_as(
        &args.request,
        "a request (ticket, requester, target, resource, …)",
        files::Input::Small,
    )?;
    let facts = files::load_facts_source(&args.facts)?.facts_for(&policy, &request);
    let now = parse_now(args.now.as_deref())?;
    let decision = policy.evaluate(&request, &facts, now);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&decision).unwrap_or_default()
        );
    } else {
        print!("{}", render::decision(&request, &decision));
    }
    Ok(Exit::Success)
}
