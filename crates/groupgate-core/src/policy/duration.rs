//! Durations written the way people write them: `90d`, `12h`, `2w`, `1d 12h`.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

/// A duration in a policy file, parsed with `humantime` (`90d`, `36h`, `2w 3d`).
///
/// ```
/// use groupgate_core::PolicyDuration;
/// let d: PolicyDuration = "2w".parse().unwrap();
/// assert_eq!(d.as_seconds(), 14 * 24 * 3600);
/// assert_eq!(d.to_string(), "14days");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PolicyDuration(Duration);

impl PolicyDuration {
    /// A duration of whole seconds.
    pub fn from_seconds(seconds: u64) -> Self {
        Self(Duration::from_secs(seconds))
    }

    /// Whole seconds.
    pub fn as_seconds(&self) -> i64 {
        i64::try_from(self.0.as_secs()).unwrap_or(i64::MAX)
    }

    /// As a `chrono` duration, for date arithmetic.
    pub fn to_chrono(&self) -> chrono::TimeDelta {
        chrono::TimeDelta::try_seconds(self.as_seconds()).unwrap_or(chrono::TimeDelta::MAX)
    }
}

/// A duration string that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a duration: {reason}; write it like `90d`, `12h` or `2w 3d`")]
pub struct DurationParseError {
    input: String,
    reason: String,
}

impl std::str::FromStr for PolicyDuration {
    type Err = DurationParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parsed = humantime::parse_duration(s.trim()).map_err(|e| DurationParseError {
            input: s.to_owned(),
            reason: e.to_string(),
        })?;
        if parsed.is_zero() {
            return Err(DurationParseError {
                input: s.to_owned(),
                reason: "a duration must be longer than zero".to_owned(),
            });
        }
        Ok(Self(Duration::from_secs(parsed.as_secs())))
    }
}

impl fmt::Display for PolicyDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

impl Serialize for PolicyDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PolicyDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for PolicyDuration {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("Duration")
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A duration such as `90d`, `12h`, `2w` or `1d 12h` (humantime syntax).",
            "pattern": "^\\s*[0-9]+\\s*[a-zA-Z]+(\\s*[0-9]+\\s*[a-zA-Z]+)*\\s*$"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_forms() {
        assert_eq!(
            "90d".parse::<PolicyDuration>().unwrap().as_seconds(),
            90 * 86400
        );
        assert_eq!(
            "1d 12h".parse::<PolicyDuration>().unwrap().as_seconds(),
            36 * 3600
        );
    }

    #[test]
    fn rejects_zero_and_garbage() {
        let err = "0d".parse::<PolicyDuration>().unwrap_err().to_string();
        assert!(err.contains("longer than zero"), "{err}");
        let err = "ninety days"
            .parse::<PolicyDuration>()
            .unwrap_err()
            .to_string();
        assert!(err.contains("`ninety days` is not a duration"), "{err}");
    }
}
