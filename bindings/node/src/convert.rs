//! JavaScript values to Rust values and back: plain objects are read
//! straight into the Rust types (serde over napi values, no JSON text in
//! between), and the time arguments (`Date` or RFC 3339 text).

use crate::errors::invalid;
use chrono::{DateTime, Utc};
use napi::bindgen_prelude::{Either, Unknown};
use napi::{Env, JsValue, ValueType};
use serde::de::DeserializeOwned;

/// Reads `value` as `T`; `what` names it in errors.
pub(crate) fn from_js<T: DeserializeOwned>(
    env: &Env,
    value: Unknown<'_>,
    what: &str,
) -> napi::Result<T> {
    match value.get_type() {
        Ok(ValueType::Object) => {}
        Ok(other) => {
            return Err(invalid(
                what,
                "",
                &format!("give an object, not {}", type_name(other)),
            ));
        }
        Err(e) => return Err(invalid(what, "", &e.reason)),
    }
    let _ = env;
    let object = value
        .coerce_to_object()
        .map_err(|e| invalid(what, "", &e.reason))?;
    let mut de = napi::De::new(&object);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        invalid(what, &field, &e.inner().reason)
    })
}

fn type_name(t: ValueType) -> &'static str {
    match t {
        ValueType::Undefined => "undefined",
        ValueType::Null => "null",
        ValueType::Boolean => "a boolean",
        ValueType::Number => "a number",
        ValueType::String => "a string",
        ValueType::Symbol => "a symbol",
        ValueType::Function => "a function",
        ValueType::BigInt => "a bigint",
        _ => "this value",
    }
}

/// A time argument: a `Date`, RFC 3339 text, or (absent) the present.
pub(crate) type TimeArg = Option<Either<DateTime<Utc>, String>>;

/// `now`: a `Date`, an RFC 3339 string, or the present.
pub(crate) fn time_of(now: TimeArg, field: &str) -> napi::Result<DateTime<Utc>> {
    match now {
        None => Ok(Utc::now()),
        Some(Either::A(t)) => Ok(t),
        Some(Either::B(text)) => DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| {
                invalid(
                    "time",
                    field,
                    &format!("`{text}` is not an RFC 3339 time ({e}); give a Date or text such as 2026-12-04T09:00:00Z"),
                )
            }),
    }
}
