//! (see the parent module)

use super::*;

/// A handler's answer: status and JSON body.
pub(super) type Reply = (u16, Option<Value>);

/// An answer with Graph's error envelope.
pub(super) fn graph_error(status: u16, code: &str, message: impl Into<String>) -> Reply {
    let message: String = message.into();
    (
        status,
        Some(json!({"error": {"code": code, "message": message}})),
    )
}

/// Graph's 404 for a missing object (or reference).
pub(super) fn not_found(id: &str) -> Reply {
    graph_error(
        404,
        "Request_ResourceNotFound",
        format!(
            "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
        ),
    )
}

/// Graph's 400 for a request it cannot serve.
pub(super) fn bad(message: &str) -> Reply {
    graph_error(400, "Request_BadRequest", message)
}

pub(super) fn error_body(code: &str, message: &str, request_id: &str, now: DateTime<Utc>) -> Value {
    json!({"error": {"code": code, "message": message, "innerError": {
        "date": now.format("%Y-%m-%dT%H:%M:%S").to_string(), "request-id": request_id, "client-request-id": request_id }}})
}

/// Graph's error bodies carry `innerError` with the date and the ids of the
/// request: added to an error body that has none.
pub(super) fn with_inner_error(
    body: Option<Value>,
    request_id: &str,
    client_request_id: &str,
    now: DateTime<Utc>,
) -> Option<Value> {
    let mut body = body?;
    if let Some(error) = body.get_mut("error").and_then(Value::as_object_mut)
        && !error.contains_key("innerError")
    {
        error.insert(
            "innerError".to_owned(),
            json!({"date": now.format("%Y-%m-%dT%H:%M:%S").to_string(),
                   "request-id": request_id, "client-request-id": client_request_id}),
        );
    }
    Some(body)
}

/// A Graph-shaped answer with its id headers.
pub(super) fn answer(
    status: u16,
    body: Option<Value>,
    request_id: &str,
    client_request_id: Option<&str>,
    retry_after: Option<u64>,
) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = match body {
        Some(v) => (status, axum::Json(v)).into_response(),
        None => status.into_response(),
    };
    let headers = response.headers_mut();
    let set = |headers: &mut HeaderMap, name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    };
    set(headers, "request-id", request_id);
    set(
        headers,
        "client-request-id",
        client_request_id.unwrap_or(request_id),
    );
    set(headers, "cache-control", "no-store");
    if let Some(s) = retry_after {
        set(headers, "retry-after", &s.to_string());
    }
    response
}
