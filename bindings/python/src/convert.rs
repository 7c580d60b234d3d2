//! Python values to and from Rust values, without a JSON round trip: dicts,
//! lists and scalars are read straight into the Rust types (pythonize), and
//! a wrong shape names the field (serde_path_to_error).

use crate::errors::invalid;
use chrono::{DateTime, Utc};
use pyo3::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Reads `obj` (a dict, list or scalar) as `T`; `what` names it in errors.
pub(crate) fn from_py<T: DeserializeOwned>(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<T> {
    let mut de = pythonize::Depythonizer::from_object(obj);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        invalid(what, &field, &e.inner().to_string())
    })
}

/// `value` as Python dicts, lists and scalars.
pub(crate) fn to_py<'py, T: Serialize + ?Sized>(
    py: Python<'py>,
    value: &T,
) -> PyResult<Bound<'py, PyAny>> {
    pythonize::pythonize(py, value).map_err(|e| {
        crate::errors::GroupgateError::new_err(format!("cannot convert to Python: {e}"))
    })
}

/// `now`: an aware `datetime`, an RFC 3339 string, or the present.
pub(crate) fn now_of(now: Option<&Bound<'_, PyAny>>) -> PyResult<DateTime<Utc>> {
    let Some(now) = now else {
        return Ok(Utc::now());
    };
    if now.is_none() {
        return Ok(Utc::now());
    }
    if let Ok(text) = now.extract::<String>() {
        return DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| {
                invalid(
                    "time",
                    "now",
                    &format!("`{text}` is not an RFC 3339 time ({e})"),
                )
            });
    }
    now.extract::<DateTime<Utc>>().map_err(|_| {
        invalid(
            "time",
            "now",
            "give a timezone-aware datetime (e.g. datetime.now(timezone.utc)) or an RFC 3339 string",
        )
    })
}
