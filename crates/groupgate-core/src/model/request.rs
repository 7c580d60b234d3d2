//! Access requests as they arrive from a ticket, a library call or the CLI.

use super::TicketRef;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// When requested access should end: an instant, or a day as people (and
/// ServiceNow date variables) write it, `2027-01-15`, which means the end of
/// that day in the policy's time zone.
///
/// ```
/// use groupgate_core::EndDate;
/// let day: EndDate = serde_json::from_str("\"2027-01-15\"").unwrap();
/// let berlin: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
/// assert_eq!(day.resolve(berlin).to_rfc3339(), "2027-01-15T23:00:00+00:00");
/// let at: EndDate = serde_json::from_str("\"2027-01-15T17:00:00Z\"").unwrap();
/// assert_eq!(at.resolve(berlin).to_rfc3339(), "2027-01-15T17:00:00+00:00");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndDate {
    /// An instant (RFC 3339).
    At(DateTime<Utc>),
    /// The whole of this day, in the policy's time zone.
    Day(NaiveDate),
}

impl EndDate {
    /// The instant access ends: for a day, the midnight that ends it in `tz`.
    pub fn resolve(self, tz: Tz) -> DateTime<Utc> {
        match self {
            EndDate::At(at) => at,
            EndDate::Day(day) => {
                let next = day.succ_opt().unwrap_or(day);
                let midnight = next.and_hms_opt(0, 0, 0).unwrap_or_default();
                // The earliest reading of a local midnight skipped or repeated
                // by a clock change.
                tz.from_local_datetime(&midnight)
                    .earliest()
                    .map(|t| t.with_timezone(&Utc))
                    .unwrap_or_else(|| midnight.and_utc())
            }
        }
    }
}

impl From<DateTime<Utc>> for EndDate {
    fn from(at: DateTime<Utc>) -> Self {
        EndDate::At(at)
    }
}

impl fmt::Display for EndDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EndDate::At(at) => {
                f.write_str(&at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
            }
            EndDate::Day(day) => write!(f, "{}", day.format("%Y-%m-%d")),
        }
    }
}

impl std::str::FromStr for EndDate {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let t = text.trim();
        if let Ok(at) = DateTime::parse_from_rfc3339(t) {
            return Ok(EndDate::At(at.with_timezone(&Utc)));
        }
        NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .map(EndDate::Day)
            .map_err(|_| {
                format!(
                    "`{}` is not a date; write `2027-01-15` (the end of that day) or an RFC 3339 time such as `2027-01-15T17:00:00Z`",
                    t.chars().take(40).collect::<String>()
                )
            })
    }
}

impl Serialize for EndDate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for EndDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for EndDate {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "EndDate".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "`YYYY-MM-DD` (the end of that day in the policy's time zone) or an RFC 3339 time",
        })
    }
}

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
    /// When access should end, if the requester gave a date: a day
    /// (`2027-01-15`, the end of that day in the policy's time zone) or an
    /// instant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<EndDate>,
    /// Why access is needed.
    #[serde(default)]
    pub justification: String,
    /// A group suggested by a triage step (for example an AI). Only a hint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<Suggestion>,
}

impl Request {
    /// The longest value each field may hold, in characters. A request with
    /// a longer one is denied (`REQUEST_FIELD_TOO_LONG`) before anything
    /// else is read from it; the catalog matches the whole of a resource text
    /// within its bound.
    pub const FIELD_LIMITS: [(&'static str, usize); 7] = [
        ("ticket", 64),
        ("requester", 256),
        ("target", 256),
        ("resource", 512),
        ("justification", 4000),
        ("suggestion.group", 256),
        ("suggestion.source", 128),
    ];

    /// The fields longer than their limit: (field, length, limit).
    ///
    /// ```
    /// # let mut r: groupgate_core::Request = serde_json::from_str(r#"{"ticket":"T","requester":"a","target":"b","resource":"x"}"#).unwrap();
    /// r.resource = "x".repeat(600);
    /// assert_eq!(r.oversized_fields(), [("resource", 600, 512)]);
    /// ```
    pub fn oversized_fields(&self) -> Vec<(&'static str, usize, usize)> {
        let value = |field: &str| -> Option<&str> {
            match field {
                "ticket" => Some(self.ticket.as_str()),
                "requester" => Some(&self.requester),
                "target" => Some(&self.target),
                "resource" => Some(&self.resource),
                "justification" => Some(&self.justification),
                "suggestion.group" => self.suggestion.as_ref().map(|s| s.group.as_str()),
                "suggestion.source" => self.suggestion.as_ref().map(|s| s.source.as_str()),
                _ => None,
            }
        };
        Self::FIELD_LIMITS
            .iter()
            .filter_map(|&(field, limit)| {
                let text = value(field)?;
                // Bytes bound characters from above: count only when needed.
                if text.len() <= limit {
                    return None;
                }
                let chars = text.chars().count();
                (chars > limit).then_some((field, chars, limit))
            })
            .collect()
    }
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
