//! JavaScript values to Rust values and back: plain objects are read
//! straight into the Rust types (serde over napi values, no JSON text in
//! between), and the time arguments (`Date` or RFC 3339 text).

use crate::errors::invalid;
use chrono::{DateTime, Utc};
use napi::bindgen_prelude::JsObjectValue;
use napi::bindgen_prelude::{Either, Function, Object, Unknown};
use napi::{Env, JsValue, ValueType};
use serde::de::DeserializeOwned;

/// The largest plain object read as an input (its JSON form).
pub(crate) const MAX_INPUT_BYTES: usize = 4 << 20;

/// Reads `value` as `T`; `what` names it in errors. The object is turned
/// into JSON text by V8's own `JSON.stringify` (one call, far cheaper than
/// reading it property by property through Node-API) and parsed by
/// serde_json, which bounds the nesting (128 levels); the text is bounded
/// too ([`MAX_INPUT_BYTES`]). A cycle, a BigInt or a hostile `toJSON` is an
/// error naming the input, never a crash.
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
    let json: Object<'_> = env.get_global()?.get_named_property("JSON")?;
    let stringify: Function<'_, Unknown<'_>, Unknown<'_>> = json.get_named_property("stringify")?;
    let text = stringify.call(value).map_err(|e| {
        invalid(
            what,
            "",
            &format!("it cannot be read as data ({})", e.reason),
        )
    })?;
    if text.get_type().ok() != Some(ValueType::String) {
        return Err(invalid(what, "", "it cannot be read as data"));
    }
    let text = text
        .coerce_to_string()
        .and_then(|s| s.into_utf8())
        .map_err(|e| invalid(what, "", &e.reason))?;
    let text = text.as_str().map_err(|e| invalid(what, "", &e.reason))?;
    if text.len() > MAX_INPUT_BYTES {
        return Err(invalid(
            what,
            "",
            &format!(
                "it is {} bytes as JSON, more than the {} allowed",
                text.len(),
                MAX_INPUT_BYTES
            ),
        ));
    }
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        invalid(what, &field, &e.inner().to_string())
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
