//! One error classification shared by every port.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What kind of failure a port reported, which decides what the engine does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "class")]
pub enum ErrorClass {
    /// Try again later: throttling (429), 503/504, timeouts, dropped
    /// connections. `retry_after_seconds` is the service's own hint.
    Transient {
        /// The service's `Retry-After`, when it sent one.
        retry_after_seconds: Option<u64>,
    },
    /// The object does not exist (or is hidden from this caller).
    NotFound,
    /// The write clashes with the current state (for example a concurrent
    /// change); re-read before deciding.
    Conflict,
    /// The caller lacks a permission; retrying will not help.
    Forbidden,
    /// The request was malformed or refused as invalid; retrying will not help.
    Invalid,
    /// Any other failure that retrying will not fix.
    Permanent,
}

impl ErrorClass {
    /// Whether the engine may retry the same call.
    pub fn is_transient(&self) -> bool {
        matches!(self, ErrorClass::Transient { .. })
    }
}

/// A failure reported by a port: its class, what happened, and the service's
/// correlation id when there is one. Never carries secrets.
///
/// ```
/// use groupgate_core::ports::{ErrorClass, PortError};
/// let e = PortError::transient("graph: 429 TooManyRequests", Some(7));
/// assert!(e.class.is_transient());
/// assert_eq!(e.to_string(), "graph: 429 TooManyRequests (transient, retry after 7 s)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub struct PortError {
    /// The class.
    pub class: ErrorClass,
    /// What happened, for logs, audit and people.
    pub message: String,
    /// The service's request or correlation id, when it gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
}

/// The result of a port call.
pub type PortResult<T> = Result<T, PortError>;

impl PortError {
    /// An error of `class`.
    pub fn new(class: ErrorClass, message: impl Into<String>) -> Self {
        Self {
            class,
            message: message.into(),
            correlation_id: None,
        }
    }

    /// A transient error with an optional retry-after hint.
    pub fn transient(message: impl Into<String>, retry_after_seconds: Option<u64>) -> Self {
        Self::new(
            ErrorClass::Transient {
                retry_after_seconds,
            },
            message,
        )
    }

    /// A not-found error.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorClass::NotFound, message)
    }

    /// A permanent error.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self::new(ErrorClass::Permanent, message)
    }

    /// Attaches the service's correlation id.
    pub fn with_correlation(mut self, id: impl Into<String>) -> Self {
        self.correlation_id = Some(id.into());
        self
    }
}

impl fmt::Display for PortError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let class = match self.class {
            ErrorClass::Transient {
                retry_after_seconds: Some(s),
            } => format!("transient, retry after {s} s"),
            ErrorClass::Transient { .. } => "transient".to_owned(),
            ErrorClass::NotFound => "not found".to_owned(),
            ErrorClass::Conflict => "conflict".to_owned(),
            ErrorClass::Forbidden => "forbidden".to_owned(),
            ErrorClass::Invalid => "invalid".to_owned(),
            ErrorClass::Permanent => "permanent".to_owned(),
        };
        write!(f, "{} ({class})", self.message)?;
        if let Some(id) = &self.correlation_id {
            write!(f, " [correlation {id}]")?;
        }
        Ok(())
    }
}
