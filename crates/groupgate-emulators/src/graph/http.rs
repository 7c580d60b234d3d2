//! (see the parent module)

use super::*;

pub(super) async fn token(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let o = &shared.options;
    let now = shared.clock.now();
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    let refuse = |status: u16, error: &str, code: u32, text: &str| {
        let body = json!({"error": error,
            "error_description": format!("AADSTS{code}: {text}\r\nTrace ID: 0000aaaa-0000-0000-0000-000000000001\r\nCorrelation ID: 0000bbbb-0000-0000-0000-000000000002\r\nTimestamp: {}", now.format("%Y-%m-%d %H:%M:%SZ")),
            "error_codes": [code], "error_uri": format!("https://login.microsoftonline.com/error?code={code}")});
        (
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            axum::Json(body),
        )
            .into_response()
    };
    if tenant != o.tenant_id {
        return refuse(400, "invalid_request", 90002, "Tenant not found.");
    }
    if field("grant_type") != "client_credentials" {
        return refuse(
            400,
            "unsupported_grant_type",
            70003,
            "The app requested an unsupported grant type.",
        );
    }
    if !field("scope").ends_with("/.default") {
        return refuse(
            400,
            "invalid_scope",
            1002012,
            "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed.",
        );
    }
    if field("client_id") != o.client_id {
        return refuse(
            400,
            "unauthorized_client",
            700016,
            "Application was not found in the directory.",
        );
    }
    if field("client_secret") != o.client_secret {
        return refuse(
            401,
            "invalid_client",
            7000215,
            "Invalid client secret provided.",
        );
    }
    let mut t = lock(&shared);
    t.counter += 1;
    let token = format!("emulator-token-{:06}", t.counter);
    t.tokens.insert(
        token.clone(),
        now + TimeDelta::seconds(o.token_lifetime_seconds),
    );
    axum::Json(
        json!({"token_type": "Bearer", "expires_in": o.token_lifetime_seconds,
        "ext_expires_in": o.token_lifetime_seconds, "access_token": token}),
    )
    .into_response()
}

pub(super) async fn graph(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = shared.clock.now();
    let client_request_id = headers
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let line = match shared.script.admit(&method, &uri).await {
        Ok(line) => line,
        Err(dropped) => return dropped,
    };
    let mut t = lock(&shared);
    t.counter += 1;
    let request_id = format!("emu-{:06}", t.counter);
    let reply = |status: u16, body: Option<Value>| {
        let client = client_request_id.as_deref().unwrap_or(&request_id);
        answer(
            status,
            with_inner_error(body, &request_id, client, now),
            &request_id,
            client_request_id.as_deref(),
            None,
        )
    };
    let fail = |status: u16, code: &str, message: &str| {
        answer(
            status,
            Some(error_body(code, message, &request_id, now)),
            &request_id,
            client_request_id.as_deref(),
            None,
        )
    };

    // Authentication.
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    match t.tokens.get(bearer) {
        None if bearer.is_empty() => {
            return fail(401, "InvalidAuthenticationToken", "Access token is empty.");
        }
        None => {
            return fail(
                401,
                "InvalidAuthenticationToken",
                "Access token validation failure. Invalid audience.",
            );
        }
        Some(expiry) if *expiry <= now => {
            return fail(
                401,
                "InvalidAuthenticationToken",
                "Access token has expired or is not yet valid.",
            );
        }
        Some(_) => {}
    }
    // Throttling: a retry before Retry-After has passed is throttled again, and the window restarts.
    let throttle = |t: &mut Tenant| {
        let seconds = shared.options.retry_after_seconds;
        t.throttled_until = Some(now + TimeDelta::seconds(i64::try_from(seconds).unwrap_or(60)));
        let body = error_body(
            "TooManyRequests",
            "Please retry again later.",
            &request_id,
            now,
        );
        answer(
            429,
            Some(body),
            &request_id,
            client_request_id.as_deref(),
            Some(seconds),
        )
    };
    if t.throttled_until.is_some_and(|until| now < until) {
        return throttle(&mut t);
    }
    if let Some(ScriptedFailure {
        status,
        retry_after,
    }) = shared.script.take_failure(&line)
    {
        if status == 429 {
            if let Some(s) = retry_after {
                t.throttled_until = Some(now + TimeDelta::seconds(i64::try_from(s).unwrap_or(60)));
            }
            let body = error_body(
                "TooManyRequests",
                "Please retry again later.",
                &request_id,
                now,
            );
            return answer(
                429,
                Some(body),
                &request_id,
                client_request_id.as_deref(),
                retry_after,
            );
        }
        let code = match status {
            503 => "serviceNotAvailable",
            504 => "gatewayTimeout",
            _ => "generalException",
        };
        return answer(
            status,
            Some(error_body(code, "Injected failure.", &request_id, now)),
            &request_id,
            client_request_id.as_deref(),
            retry_after,
        );
    }
    if shared.options.fault_rate > 0.0 && t.rng.random::<f64>() < shared.options.fault_rate {
        return match t.rng.random_range(0..3) {
            0 => throttle(&mut t),
            1 => fail(
                503,
                "serviceNotAvailable",
                "The service is temporarily unavailable.",
            ),
            _ => fail(504, "gatewayTimeout", "The gateway timed out."),
        };
    }
    let path = uri.path().strip_prefix("/v1.0").unwrap_or("");
    let segments = path_segments(path);
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let body: Value = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).unwrap_or(Value::Null)
    };
    let eventual = headers
        .get("consistencylevel")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("eventual"));
    let (status, body) = serve(
        &shared, &mut t, &method, &segs, &query, &body, eventual, now,
    );
    reply(status, body)
}

pub(super) fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}
