//! ServiceNow answers classified for the engine.

use groupgate_core::ports::{ErrorClass, PortError};
use serde_json::Value;

/// `error.message` and `error.detail` of ServiceNow's envelope.
pub(crate) fn error_parts(body: &str) -> Option<(String, String)> {
    let v: Value = serde_json::from_str(body).ok()?;
    let e = v.get("error")?;
    let text = |k: &str| {
        e.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    Some((text("message"), text("detail")))
}

/// Classifies a non-success answer.
pub(crate) fn classify(
    status: u16,
    retry_after: Option<&str>,
    body: &str,
    what: &str,
) -> PortError {
    let (message, detail) = error_parts(body).unwrap_or_else(|| {
        let snippet: String = body.chars().take(200).collect();
        (
            "(no error envelope)".to_owned(),
            format!("unexpected answer body: {snippet}"),
        )
    });
    let text = if detail.is_empty() {
        format!("ServiceNow {status} on {what}: {message}")
    } else {
        format!("ServiceNow {status} on {what}: {message}: {detail}")
    };
    let class = match status {
        429 | 500 | 502 | 503 | 504 => ErrorClass::Transient {
            retry_after_seconds: retry_after.and_then(|v| v.trim().parse::<u64>().ok()),
        },
        404 => ErrorClass::NotFound,
        409 | 412 => ErrorClass::Conflict,
        401 | 403 => ErrorClass::Forbidden,
        400 | 405 | 406 | 415 => ErrorClass::Invalid,
        _ => ErrorClass::Permanent,
    };
    let text = match status {
        401 => format!(
            "{text} (the instance did not accept the credentials: check GROUPGATE_SNOW_USER and GROUPGATE_SNOW_PASSWORD, or the OAuth client; see docs/adapters/servicenow.md)"
        ),
        403 => format!(
            "{text} (the integration user probably lacks a role or an ACL on this table; see docs/adapters/servicenow.md)"
        ),
        _ => text,
    };
    PortError::new(class, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        let e = classify(
            404,
            None,
            r#"{"error":{"message":"No Record found","detail":"Record doesn't exist or ACL restricts the record retrieval"},"status":"failure"}"#,
            "GET sc_req_item",
        );
        assert_eq!(e.class, ErrorClass::NotFound);
        assert!(e.message.contains("ACL restricts"), "{}", e.message);
        assert_eq!(
            classify(429, Some("30"), "{}", "x").class,
            ErrorClass::Transient {
                retry_after_seconds: Some(30)
            }
        );
        assert_eq!(classify(403, None, "{}", "x").class, ErrorClass::Forbidden);
        assert!(classify(403, None, "{}", "x").message.contains("role"));
        let unauthenticated = classify(401, None, "{}", "x");
        assert_eq!(unauthenticated.class, ErrorClass::Forbidden);
        assert!(
            unauthenticated.message.contains("credentials"),
            "{}",
            unauthenticated.message
        );
        assert!(
            classify(500, None, "<html>", "x")
                .message
                .contains("unexpected answer body")
        );
    }
}
