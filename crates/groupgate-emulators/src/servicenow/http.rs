//! (see the parent module)

use super::*;

pub(super) fn row(v: Value) -> Row {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

pub(super) fn envelope_error(status: u16, message: &str, detail: &str) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        code,
        axum::Json(json!({"error": {"message": message, "detail": detail}, "status": "failure"})),
    )
        .into_response()
}

pub(super) async fn token(
    State(shared): State<Arc<Shared>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let o = &shared.options;
    let now = shared.clock.now();
    let f = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    let client_ok = f("client_id") == o.client_id && f("client_secret") == o.client_secret;
    let mut i = lock(&shared);
    i.grants.push(f("grant_type").to_owned());
    let granted = match f("grant_type") {
        "password" => client_ok && f("username") == o.user && f("password") == o.password,
        "client_credentials" => client_ok,
        "refresh_token" => client_ok && i.refresh_tokens.contains(f("refresh_token")),
        _ => false,
    };
    if !granted {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error_description": "access_denied", "error": "server_error"})),
        )
            .into_response();
    }
    i.counter += 1;
    let token = format!("snow-token-{:06}", i.counter);
    i.tokens.insert(
        token.clone(),
        now + chrono::TimeDelta::seconds(o.token_lifetime_seconds),
    );
    let refresh = format!("refresh-{:06}", i.counter);
    i.refresh_tokens.insert(refresh.clone());
    axum::Json(json!({"access_token": token, "refresh_token": refresh, "scope": "useraccount", "token_type": "Bearer", "expires_in": o.token_lifetime_seconds})).into_response()
}

pub(super) fn authorized(
    shared: &Shared,
    i: &Instance,
    headers: &HeaderMap,
    now: DateTime<Utc>,
) -> bool {
    if let Some(key) = headers.get("x-sn-apikey").and_then(|v| v.to_str().ok()) {
        return shared.options.api_key.as_deref() == Some(key);
    }
    let Some(auth) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return false;
    };
    if let Some(token) = auth.strip_prefix("Bearer ") {
        return i.tokens.get(token).is_some_and(|until| *until > now);
    }
    if let Some(basic) = auth.strip_prefix("Basic ") {
        let expected = format!("{}:{}", shared.options.user, shared.options.password);
        return decode_base64(basic).as_deref() == Some(expected.as_str());
    }
    false
}

pub(super) fn decode_base64(s: &str) -> Option<String> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .ok()?;
    String::from_utf8(bytes).ok()
}

pub(super) async fn table(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = shared.clock.now();
    let line = match shared.script.admit(&method, &uri).await {
        Ok(line) => line,
        Err(dropped) => return dropped,
    };
    let mut i = lock(&shared);
    apply_acts(&mut i, now);
    if !authorized(&shared, &i, &headers, now) {
        return envelope_error(
            401,
            "User Not Authenticated",
            "Required to provide Auth information",
        );
    }
    if let Some(ScriptedFailure {
        status,
        retry_after,
    }) = shared.script.take_failure(&line)
    {
        return limited(status, retry_after, now);
    }
    if shared.options.fault_rate > 0.0 && i.rng.random::<f64>() < shared.options.fault_rate {
        let retry = shared.options.retry_after_seconds;
        return if i.rng.random_bool(0.5) {
            limited(429, Some(retry), now)
        } else {
            limited(503, None, now)
        };
    }
    let segs: Vec<&str> = uri
        .path()
        .trim_start_matches("/api/now/table/")
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let body: Value = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).unwrap_or(Value::Null)
    };
    let base = shared.base.lock().map(|b| b.clone()).unwrap_or_default();
    if let Some(table) = segs.first()
        && !TABLES.contains(table)
    {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": {"message": format!("Invalid table {table}"), "detail": null}, "status": "failure"})),
        )
            .into_response();
    }
    match (method.as_str(), segs.as_slice()) {
        ("GET", [table]) => list(&shared, &i, table, &query, &base, &uri),
        ("GET", [table, id]) => match find(&i, table, id) {
            Some(r) => {
                axum::Json(json!({"result": shape(&i, table, r, &query, &base)})).into_response()
            }
            None => envelope_error(
                404,
                "No Record found",
                "Record doesn't exist or ACL restricts the record retrieval",
            ),
        },
        ("POST", [table]) => {
            let Some(fields) = body.as_object() else {
                return envelope_error(400, "Invalid request", "the body is not a JSON object");
            };
            i.counter += 1;
            let id = format!("{:032x}", i.counter);
            let mut r = Row::new();
            r.insert("sys_id".into(), Value::String(id.clone()));
            r.insert("sys_created_on".into(), Value::String(stamp(now)));
            write_fields(&mut i, table, &mut r, fields, now);
            i.tables
                .entry((*table).to_owned())
                .or_default()
                .push(r.clone());
            roll_up(&mut i, table, &r, now);
            (
                StatusCode::CREATED,
                axum::Json(json!({"result": shape(&i, table, &r, &query, &base)})),
            )
                .into_response()
        }
        ("PATCH" | "PUT", [table, id]) => {
            let Some(fields) = body.as_object().cloned() else {
                return envelope_error(400, "Invalid request", "the body is not a JSON object");
            };
            let Some(mut r) = find(&i, table, id).cloned() else {
                return envelope_error(
                    404,
                    "No Record found",
                    "Record doesn't exist or ACL restricts the record retrieval",
                );
            };
            write_fields(&mut i, table, &mut r, &fields, now);
            if let Some(stored) = i
                .tables
                .get_mut(*table)
                .and_then(|rows| rows.iter_mut().find(|x| text(x, "sys_id") == *id))
            {
                *stored = r.clone();
            }
            roll_up(&mut i, table, &r, now);
            axum::Json(json!({"result": shape(&i, table, &r, &query, &base)})).into_response()
        }
        _ => envelope_error(
            400,
            "Invalid request",
            &format!("the emulator does not serve {line}"),
        ),
    }
}

pub(super) fn limited(status: u16, retry_after: Option<u64>, now: DateTime<Utc>) -> Response {
    let mut r = if status == 429 {
        envelope_error(429, "Too Many Requests", "Rate limit exceeded")
    } else {
        envelope_error(status, "Injected failure", "")
    };
    if let Some(s) = retry_after {
        let h = r.headers_mut();
        for (k, v) in [
            ("retry-after", s.to_string()),
            ("x-ratelimit-limit", "100".to_owned()),
            (
                "x-ratelimit-reset",
                (now.timestamp() + i64::try_from(s).unwrap_or(0)).to_string(),
            ),
            (
                "x-ratelimit-rule",
                "0000aaaa00000000000000000000rule".to_owned(),
            ),
        ] {
            if let Ok(v) = HeaderValue::from_str(&v) {
                h.insert(k, v);
            }
        }
    }
    r
}
