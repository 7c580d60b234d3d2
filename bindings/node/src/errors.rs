//! The one place Rust errors become JavaScript errors. Every error leaves
//! the addon as an `Error` whose message carries a marker and a JSON
//! payload (class, message, attributes); the package's entry points
//! (`index.cjs`) turn it into the matching `GroupgateError` subclass with a
//! `code` and the attributes as properties. A panic never crosses into
//! JavaScript: the synchronous entry points run under `catch_unwind`
//! (napi-rs turns a panic into a thrown error), the asynchronous ones on
//! Tokio tasks whose panic rejects the Promise, and the crates deny
//! `unwrap`, `expect` and `panic!` in the first place.

use groupgate::files::FileError;
use groupgate_core::PolicyError as RustPolicyError;
use groupgate_core::ports::{ErrorClass, PortError};
use groupgate_engine::EngineError;
use groupgate_service::ServiceError;
use serde_json::{Map, Value, json};

/// The marker in front of an error payload (`index.cjs` looks for it).
pub(crate) const MARKER: &str = "\u{1}groupgate:";

/// An error of `class` (a class name of `errors.d.ts`) with `attrs`.
pub(crate) fn error(class: &str, message: &str, attrs: Value) -> napi::Error {
    let mut payload = Map::new();
    payload.insert("class".to_owned(), Value::String(class.to_owned()));
    payload.insert("message".to_owned(), Value::String(message.to_owned()));
    if let Value::Object(extra) = attrs {
        payload.extend(extra);
    }
    napi::Error::new(
        napi::Status::GenericFailure,
        format!("{MARKER}{}", Value::Object(payload)),
    )
}

/// A policy that does not load: the first error's place, and every finding.
pub(crate) fn policy_error(e: &RustPolicyError) -> napi::Error {
    let first = e
        .diagnostics
        .iter()
        .find(|d| d.severity == groupgate_core::Severity::Error)
        .or_else(|| e.diagnostics.first());
    let location = first.and_then(|d| d.location);
    error(
        "PolicyError",
        &e.to_string(),
        json!({
            "file": e.source_name,
            "line": location.map(|l| l.line),
            "column": location.map(|l| l.column),
            "field": first.map(|d| d.field.clone()),
            "reasonCode": first.map(|d| d.code.clone()),
            "diagnostics": crate::decision::diagnostics_value(&e.diagnostics),
        }),
    )
}

/// An input file that cannot be used.
pub(crate) fn file_error(e: FileError) -> napi::Error {
    if let FileError::Policy(p) = &e {
        return policy_error(p);
    }
    let message = match e.help() {
        Some(help) => format!("{e} ({help})"),
        None => e.to_string(),
    };
    let (path, line, column, field) = match &e {
        FileError::Read { path, .. } => (path.clone(), None, None, None),
        FileError::Input { path, error } => (
            path.clone(),
            error.location.map(|l| l.line),
            error.location.map(|l| l.column),
            Some(error.field.clone()),
        ),
        FileError::Parse {
            path,
            location,
            field,
            ..
        } => (
            path.clone(),
            location.map(|l| l.0),
            location.map(|l| l.1),
            Some(field.clone()),
        ),
        FileError::Policy(_) => (String::new(), None, None, None),
    };
    error(
        "InputError",
        &message,
        json!({"path": path, "line": line, "column": column, "field": field}),
    )
}

/// A value passed in with the wrong shape, at `field`.
pub(crate) fn invalid(what: &str, field: &str, message: &str) -> napi::Error {
    let text = if field.is_empty() || field == "." {
        format!("invalid {what}: {message}")
    } else {
        format!("invalid {what}: `{field}`: {message}")
    };
    error("InvalidRequestError", &text, json!({"field": field}))
}

/// The class name and `kind` of a port failure.
fn port_class(class: &ErrorClass) -> (&'static str, &'static str) {
    match class {
        ErrorClass::Transient { .. } => ("TransientError", "transient"),
        ErrorClass::NotFound => ("NotFoundError", "not_found"),
        ErrorClass::Conflict => ("ConflictError", "conflict"),
        ErrorClass::Forbidden => ("ForbiddenError", "forbidden"),
        ErrorClass::Invalid => ("InvalidError", "invalid"),
        ErrorClass::Permanent => ("PermanentError", "permanent"),
    }
}

/// A port failure, as the error of its class; `message` says what failed.
pub(crate) fn port_error(e: &PortError, message: &str) -> napi::Error {
    let (class, kind) = port_class(&e.class);
    let retry_after = match e.class {
        ErrorClass::Transient {
            retry_after_seconds,
        } => retry_after_seconds,
        _ => None,
    };
    error(
        class,
        message,
        json!({"kind": kind, "retryAfter": retry_after, "correlationId": e.correlation_id}),
    )
}

/// An engine failure.
pub(crate) fn engine_error(e: EngineError) -> napi::Error {
    let message = e.to_string();
    match e {
        EngineError::Store(p) => error(
            "StoreError",
            &format!("{message} [{}]", port_class(&p.class).1),
            json!({}),
        ),
        EngineError::Intake { error: p, .. }
        | EngineError::Approvals(p)
        | EngineError::Directory(p) => port_error(&p, &message),
        EngineError::Conflict(id) | EngineError::UnknownWorkflow(id) => error(
            "WorkflowError",
            &message,
            json!({"workflow": id.to_string()}),
        ),
        EngineError::Corrupt { workflow, .. } => error(
            "WorkflowError",
            &message,
            json!({"workflow": workflow.to_string()}),
        ),
        EngineError::UnknownUser(_) => error(
            "NotFoundError",
            &message,
            json!({"kind": "not_found", "retryAfter": null, "correlationId": null}),
        ),
    }
}

/// A service (settings, store, adapters) failure.
pub(crate) fn service_error(e: ServiceError) -> napi::Error {
    match e {
        ServiceError::Policy(p) => policy_error(&p),
        ServiceError::Engine(e) => engine_error(e),
        ServiceError::Store(s) => error("StoreError", &s.to_string(), json!({})),
        ServiceError::Port(p) => error("StoreError", &p.to_string(), json!({})),
        other => error("SettingsError", &other.to_string(), json!({})),
    }
}

/// The port failure a JavaScript port's error stands for: groupgate's
/// adapter errors by their `code`, Node's network errors (`ETIMEDOUT`,
/// `ECONNRESET`, `ECONNREFUSED`, …) as transient, anything else as
/// permanent — always naming the port and method.
pub(crate) fn from_javascript(thrown: &Value, port: &str, method: &str) -> PortError {
    let name = thrown["name"].as_str().unwrap_or("Error");
    let text = thrown["message"].as_str().unwrap_or("");
    let code = thrown["code"].as_str().unwrap_or("");
    let message = format!("the {port} port's `{method}` threw {name}: {text}");
    let class = match code {
        "GROUPGATE_TRANSIENT"
        | "ETIMEDOUT"
        | "ECONNRESET"
        | "ECONNREFUSED"
        | "EPIPE"
        | "EAI_AGAIN"
        | "UND_ERR_CONNECT_TIMEOUT"
        | "UND_ERR_SOCKET" => {
            let retry_after = thrown["retryAfter"]
                .as_f64()
                .filter(|r| r.is_finite() && *r >= 0.0)
                .map(|r| r.ceil() as u64);
            ErrorClass::Transient {
                retry_after_seconds: retry_after,
            }
        }
        "GROUPGATE_NOT_FOUND" => ErrorClass::NotFound,
        "GROUPGATE_FORBIDDEN" | "EACCES" | "EPERM" => ErrorClass::Forbidden,
        "GROUPGATE_CONFLICT" => ErrorClass::Conflict,
        "GROUPGATE_INVALID" => ErrorClass::Invalid,
        _ => ErrorClass::Permanent,
    };
    PortError::new(class, message)
}
