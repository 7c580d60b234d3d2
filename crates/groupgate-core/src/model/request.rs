//! Access requests as they arrive from a ticket, a library call or the CLI.

use super::TicketRef;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A request to add a person to the group behind an app, team or site.
///
/// ```
/// use groupgate_core::Request;
/// let request: Request = serde_json::from_str(r#"{
///     "ticket": "RITM0010001",
///     "requester": "grace@contoso.com",
///     "target": "ada@contoso.com",
///     "resource": "Access to Finance BI",
///     "justification": "Quarter-end reporting"
/// }"#).unwrap();
/// assert_eq!(request.resource, "Access to Finance BI");
/// assert!(request.suggestion.is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// The ticket this request belongs to.
    pub ticket: TicketRef,
    /// Who asked: object id or UPN.
    pub requester: String,
    /// Who should get access: object id or UPN.
    pub target: String,
    /// What the person asked for, as typed (an app, team or site name).
    pub resource: String,
    /// When access should end, if the requester gave a date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<DateTime<Utc>>,
    /// Why access is needed.
    #[serde(default)]
    pub justification: String,
    /// A group suggested by a triage step (for example an AI). Only a hint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<Suggestion>,
}

/// A suggested target group. groupgate never acts on it alone: the catalog wins,
/// and a suggestion can only ever add approvals, never remove them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Suggestion {
    /// The suggested group: a policy group key, an object id, or a catalog name.
    pub group: String,
    /// Where the suggestion came from, e.g. `ai-triage` or `service-desk`.
    pub source: String,
    /// The suggester's confidence in `[0, 1]`, recorded but never trusted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
}
