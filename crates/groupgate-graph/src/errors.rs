//! Graph answers classified for the engine.

use groupgate_core::ports::{ErrorClass, PortError};
use serde_json::Value;

/// What a failed call was doing, to name the permission a 403 probably lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    ReadUser,
    ReadGroup,
    ReadMembership,
    WriteMembership,
    Token,
}

impl Operation {
    fn permission(self) -> &'static str {
        match self {
            Operation::ReadUser => "User.Read.All",
            Operation::ReadGroup | Operation::ReadMembership => {
                "GroupMember.Read.All (or GroupMember.ReadWrite.All)"
            }
            Operation::WriteMembership => {
                "GroupMember.ReadWrite.All (role-assignable groups would also need RoleManagement.ReadWrite.Directory, which groupgate deliberately never holds)"
            }
            Operation::Token => "a valid client secret",
        }
    }
}

/// Graph's error `code` and `message`, read case-insensitively.
pub(crate) fn error_parts(body: &str) -> Option<(String, String)> {
    let value: Value = serde_json::from_str(body).ok()?;
    let error = value
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("error"))?
        .1;
    let field = |name: &str| {
        error
            .as_object()
            .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
            .and_then(|(_, v)| v.as_str())
            .map(str::to_owned)
    };
    Some((
        field("code").unwrap_or_default(),
        field("message").unwrap_or_default(),
    ))
}

/// A `Retry-After` value in seconds (integer or fractional, rounded up).
pub(crate) fn retry_after_seconds(value: Option<&str>) -> Option<u64> {
    let v = value?.trim();
    v.parse::<u64>().ok().or_else(|| {
        v.parse::<f64>()
            .ok()
            .filter(|f| f.is_finite() && *f >= 0.0)
            .map(|f| f.ceil() as u64)
    })
}

/// Classifies a non-success answer.
pub(crate) fn classify(
    status: u16,
    retry_after: Option<&str>,
    body: &str,
    request_id: Option<&str>,
    op: Operation,
) -> PortError {
    let (code, message) = error_parts(body).unwrap_or_else(|| {
        let snippet: String = body.chars().take(200).collect();
        (
            "(no error envelope)".to_owned(),
            format!("unexpected answer body: {snippet}"),
        )
    });
    let what = format!("Graph {status} {code}: {message}");
    let class = match status {
        429 | 500 | 502 | 503 | 504 => ErrorClass::Transient {
            retry_after_seconds: retry_after_seconds(retry_after),
        },
        404 => ErrorClass::NotFound,
        409 | 412 => ErrorClass::Conflict,
        403 => ErrorClass::Forbidden,
        400 => ErrorClass::Invalid,
        _ => ErrorClass::Permanent,
    };
    let message = if class == ErrorClass::Forbidden {
        format!(
            "{what} (the app registration probably lacks {})",
            op.permission()
        )
    } else {
        what
    };
    let error = PortError::new(class, message);
    match request_id {
        Some(id) => error.with_correlation(id),
        None => error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_follow_the_status() {
        let body = r#"{"error":{"code":"TooManyRequests","message":"Please retry again later.","innerError":{"request-id":"r-9"}}}"#;
        let e = classify(
            429,
            Some("2.128"),
            body,
            Some("r-9"),
            Operation::WriteMembership,
        );
        assert_eq!(
            e.class,
            ErrorClass::Transient {
                retry_after_seconds: Some(3)
            }
        );
        assert_eq!(e.correlation_id.as_deref(), Some("r-9"));
        let e = classify(
            403,
            None,
            r#"{"ERROR":{"CODE":"Authorization_RequestDenied","MESSAGE":"Insufficient privileges to complete the operation."}}"#,
            None,
            Operation::WriteMembership,
        );
        assert_eq!(e.class, ErrorClass::Forbidden);
        assert!(
            e.message.contains("GroupMember.ReadWrite.All"),
            "{}",
            e.message
        );
        assert_eq!(
            classify(404, None, "{}", None, Operation::ReadUser).class,
            ErrorClass::NotFound
        );
        assert_eq!(
            classify(400, None, "{}", None, Operation::ReadUser).class,
            ErrorClass::Invalid
        );
        assert_eq!(
            classify(418, None, "{}", None, Operation::ReadUser).class,
            ErrorClass::Permanent
        );
        assert_eq!(
            classify(504, None, "", None, Operation::ReadUser).class,
            ErrorClass::Transient {
                retry_after_seconds: None
            }
        );
    }

    #[test]
    fn a_malformed_body_says_so() {
        let e = classify(500, None, "<html>oops", None, Operation::ReadGroup);
        assert!(
            e.message.contains("unexpected answer body: <html>oops"),
            "{}",
            e.message
        );
    }

    proptest::proptest! {
        #[test]
        fn any_answer_is_classified_with_a_message(
            status in 100u16..600,
            retry_after in proptest::option::of("\\PC{0,8}"),
            body in "\\PC{0,200}",
        ) {
            for op in [
                Operation::ReadUser,
                Operation::ReadGroup,
                Operation::ReadMembership,
                Operation::WriteMembership,
                Operation::Token,
            ] {
                let e = classify(status, retry_after.as_deref(), &body, Some("req-1"), op);
                proptest::prop_assert!(!e.message.is_empty());
                if status == 429 {
                    proptest::prop_assert!(e.class.is_transient());
                }
            }
        }
    }
}
