//! The exception tree, and the one place Rust errors become Python
//! exceptions. Every exception derives from `groupgate.GroupgateError`; none
//! is a bare `RuntimeError`, and a panic never crosses into Python (each
//! entry point converts errors here; pyo3 turns a stray panic into
//! `PanicException`, which the tests check never happens).

use groupgate::files::FileError;
use groupgate::suite::SuiteFileError;
use groupgate_core::PolicyError as RustPolicyError;
use groupgate_core::ports::{ErrorClass, PortError};
use groupgate_engine::EngineError;
use groupgate_service::ServiceError;
use pyo3::BoundObject;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

pyo3::create_exception!(
    _native,
    GroupgateError,
    PyException,
    "The base of every groupgate error."
);
pyo3::create_exception!(
    _native,
    PolicyError,
    GroupgateError,
    "A policy that does not load: `file`, `line`, `column`, `field` and `code` of the first error, and every finding in `diagnostics`."
);
pyo3::create_exception!(
    _native,
    InputError,
    GroupgateError,
    "An input file that cannot be read, is beyond a limit, or does not parse: `path`, `line`, `column`, `field`."
);
pyo3::create_exception!(
    _native,
    InvalidRequest,
    GroupgateError,
    "A request, facts or other value passed in with the wrong shape: `field` names where."
);
pyo3::create_exception!(
    _native,
    SettingsError,
    GroupgateError,
    "A service settings file that cannot be used (with its file, line and setting)."
);
pyo3::create_exception!(
    _native,
    StoreError,
    GroupgateError,
    "The store failed or cannot be opened."
);
pyo3::create_exception!(
    _native,
    WorkflowError,
    GroupgateError,
    "A workflow that does not exist, was changed by another writer, or cannot be rebuilt: `workflow`."
);
pyo3::create_exception!(
    _native,
    AuditError,
    GroupgateError,
    "An audit trail that does not verify: `line` and `seq` of the first record at fault."
);
pyo3::create_exception!(
    _native,
    AdapterError,
    GroupgateError,
    "A directory, ticket or approval call that failed: `kind` is its class, `retry_after` the service's hint in seconds. Raise a subclass from a port of your own to classify a failure."
);
pyo3::create_exception!(
    _native,
    TransientError,
    AdapterError,
    "Try again later (throttling, a timeout, a service briefly down)."
);
pyo3::create_exception!(
    _native,
    NotFoundError,
    AdapterError,
    "The object does not exist."
);
pyo3::create_exception!(
    _native,
    ConflictError,
    AdapterError,
    "The change clashes with the current state; re-read before deciding."
);
pyo3::create_exception!(
    _native,
    ForbiddenError,
    AdapterError,
    "A permission is missing; retrying will not help."
);
pyo3::create_exception!(
    _native,
    InvalidError,
    AdapterError,
    "The service refused the call as invalid; retrying will not help."
);
pyo3::create_exception!(
    _native,
    PermanentError,
    AdapterError,
    "Any other failure that retrying will not fix."
);

/// Registers the exception classes in the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("GroupgateError", py.get_type::<GroupgateError>())?;
    m.add("PolicyError", py.get_type::<PolicyError>())?;
    m.add("InputError", py.get_type::<InputError>())?;
    m.add("InvalidRequest", py.get_type::<InvalidRequest>())?;
    m.add("SettingsError", py.get_type::<SettingsError>())?;
    m.add("StoreError", py.get_type::<StoreError>())?;
    m.add("WorkflowError", py.get_type::<WorkflowError>())?;
    m.add("AuditError", py.get_type::<AuditError>())?;
    m.add("AdapterError", py.get_type::<AdapterError>())?;
    m.add("TransientError", py.get_type::<TransientError>())?;
    m.add("NotFoundError", py.get_type::<NotFoundError>())?;
    m.add("ConflictError", py.get_type::<ConflictError>())?;
    m.add("ForbiddenError", py.get_type::<ForbiddenError>())?;
    m.add("InvalidError", py.get_type::<InvalidError>())?;
    m.add("PermanentError", py.get_type::<PermanentError>())?;
    Ok(())
}

/// An exception with attributes set on it.
fn with_attrs(err: PyErr, attrs: &[(&str, Option<Py<PyAny>>)]) -> PyErr {
    Python::attach(|py| {
        let value = err.value(py);
        for (name, v) in attrs {
            let v = v.as_ref().map(|v| v.bind(py).clone());
            let _ = match v {
                Some(v) => value.setattr(*name, v),
                None => value.setattr(*name, py.None()),
            };
        }
    });
    err
}

fn obj<'py, T: IntoPyObject<'py>>(py: Python<'py>, v: T) -> Option<Py<PyAny>> {
    v.into_pyobject(py).ok().map(|b| b.into_any().unbind())
}

/// A policy that does not load.
pub(crate) fn policy_error(e: &RustPolicyError) -> PyErr {
    let first = e
        .diagnostics
        .iter()
        .find(|d| d.severity == groupgate_core::Severity::Error)
        .or_else(|| e.diagnostics.first());
    let err = PolicyError::new_err(e.to_string());
    Python::attach(|py| {
        let diagnostics = pythonize::pythonize(py, &e.diagnostics)
            .ok()
            .map(Bound::unbind);
        with_attrs(
            err,
            &[
                ("file", obj(py, e.source_name.clone())),
                (
                    "line",
                    first.and_then(|d| d.location).and_then(|l| obj(py, l.line)),
                ),
                (
                    "column",
                    first
                        .and_then(|d| d.location)
                        .and_then(|l| obj(py, l.column)),
                ),
                ("field", first.and_then(|d| obj(py, d.field.clone()))),
                ("code", first.and_then(|d| obj(py, d.code.clone()))),
                ("diagnostics", diagnostics),
            ],
        )
    })
}

/// An input file that cannot be used.
pub(crate) fn file_error(e: FileError) -> PyErr {
    match e {
        FileError::Policy(p) => policy_error(&p),
        other => {
            let message = match other.help() {
                Some(help) => format!("{other} ({help})"),
                None => other.to_string(),
            };
            let (path, line, column, field) = match &other {
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
            Python::attach(|py| {
                with_attrs(
                    InputError::new_err(message),
                    &[
                        ("path", obj(py, path)),
                        ("line", line.and_then(|v| obj(py, v))),
                        ("column", column.and_then(|v| obj(py, v))),
                        ("field", field.and_then(|v| obj(py, v))),
                    ],
                )
            })
        }
    }
}

/// A tests file or history that cannot be run.
pub(crate) fn suite_error(e: SuiteFileError) -> PyErr {
    match e {
        SuiteFileError::File(f) => file_error(f),
        SuiteFileError::Suite { path, error } => Python::attach(|py| {
            with_attrs(
                InputError::new_err(format!("{path}: {error}")),
                &[
                    ("path", obj(py, path)),
                    ("line", None),
                    ("column", None),
                    ("field", None),
                ],
            )
        }),
    }
}

/// A value passed in with the wrong shape, at `field`.
pub(crate) fn invalid(what: &str, field: &str, message: &str) -> PyErr {
    let text = if field.is_empty() || field == "." {
        format!("invalid {what}: {message}")
    } else {
        format!("invalid {what}: `{field}`: {message}")
    };
    Python::attach(|py| {
        with_attrs(
            InvalidRequest::new_err(text),
            &[("field", obj(py, field.to_owned()))],
        )
    })
}

/// A port failure, as the exception of its class.
pub(crate) fn port_error(e: &PortError) -> PyErr {
    let message = e.to_string();
    let (err, kind, retry_after) = match &e.class {
        ErrorClass::Transient {
            retry_after_seconds,
        } => (
            TransientError::new_err(message),
            "transient",
            *retry_after_seconds,
        ),
        ErrorClass::NotFound => (NotFoundError::new_err(message), "not_found", None),
        ErrorClass::Conflict => (ConflictError::new_err(message), "conflict", None),
        ErrorClass::Forbidden => (ForbiddenError::new_err(message), "forbidden", None),
        ErrorClass::Invalid => (InvalidError::new_err(message), "invalid", None),
        ErrorClass::Permanent => (PermanentError::new_err(message), "permanent", None),
    };
    Python::attach(|py| {
        with_attrs(
            err,
            &[
                ("kind", obj(py, kind)),
                ("retry_after", retry_after.and_then(|r| obj(py, r))),
                (
                    "correlation_id",
                    e.correlation_id.clone().and_then(|c| obj(py, c)),
                ),
            ],
        )
    })
}

/// An engine failure.
pub(crate) fn engine_error(e: EngineError) -> PyErr {
    let message = e.to_string();
    match e {
        EngineError::Store(p) => StoreError::new_err(format!("{message} [{}]", class_name(&p))),
        EngineError::Intake { error, .. }
        | EngineError::Approvals(error)
        | EngineError::Directory(error) => {
            let err = port_error(&error);
            Python::attach(|py| {
                let value = err.value(py);
                let _ = value.setattr("args", (message,));
            });
            err
        }
        EngineError::Conflict(id) | EngineError::UnknownWorkflow(id) => Python::attach(|py| {
            with_attrs(
                WorkflowError::new_err(message),
                &[("workflow", obj(py, id.to_string()))],
            )
        }),
        EngineError::Corrupt { workflow, .. } => Python::attach(|py| {
            with_attrs(
                WorkflowError::new_err(message),
                &[("workflow", obj(py, workflow.to_string()))],
            )
        }),
        EngineError::UnknownUser(_) => NotFoundError::new_err(message),
    }
}

fn class_name(e: &PortError) -> &'static str {
    match e.class {
        ErrorClass::Transient { .. } => "transient",
        ErrorClass::NotFound => "not found",
        ErrorClass::Conflict => "conflict",
        ErrorClass::Forbidden => "forbidden",
        ErrorClass::Invalid => "invalid",
        ErrorClass::Permanent => "permanent",
    }
}

/// A service (settings, store, adapters) failure.
pub(crate) fn service_error(e: ServiceError) -> PyErr {
    match e {
        ServiceError::Policy(p) => policy_error(&p),
        ServiceError::Engine(e) => engine_error(e),
        ServiceError::Store(s) => StoreError::new_err(s.to_string()),
        ServiceError::Port(p) => StoreError::new_err(p.to_string()),
        other => SettingsError::new_err(other.to_string()),
    }
}

/// Turns a Python exception raised by a port of the caller's into the port
/// error the engine classifies: groupgate's adapter exceptions by their
/// class, `TimeoutError` and `ConnectionError` as transient,
/// `PermissionError` as forbidden, `LookupError` as not found, anything
/// else as permanent — always naming the port and method.
pub(crate) fn from_python(py: Python<'_>, err: &PyErr, port: &str, method: &str) -> PortError {
    let value = err.value(py);
    let type_name = value
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "Exception".to_owned());
    let text = value
        .str()
        .map(|s| s.to_string())
        .unwrap_or_else(|_| String::new());
    let message = format!("the {port} port's `{method}` raised {type_name}: {text}");
    let is = |t: Bound<'_, pyo3::types::PyType>| err.is_instance(py, &t);
    let class = if is(py.get_type::<TransientError>())
        || is(py.get_type::<pyo3::exceptions::PyTimeoutError>())
        || is(py.get_type::<pyo3::exceptions::PyConnectionError>())
    {
        let retry_after = value
            .getattr("retry_after")
            .ok()
            .and_then(|r| r.extract::<f64>().ok())
            .filter(|r| r.is_finite() && *r >= 0.0)
            .map(|r| r.ceil() as u64);
        ErrorClass::Transient {
            retry_after_seconds: retry_after,
        }
    } else if is(py.get_type::<NotFoundError>())
        || is(py.get_type::<pyo3::exceptions::PyLookupError>())
    {
        ErrorClass::NotFound
    } else if is(py.get_type::<ForbiddenError>())
        || is(py.get_type::<pyo3::exceptions::PyPermissionError>())
    {
        ErrorClass::Forbidden
    } else if is(py.get_type::<ConflictError>()) {
        ErrorClass::Conflict
    } else if is(py.get_type::<InvalidError>()) {
        ErrorClass::Invalid
    } else {
        ErrorClass::Permanent
    };
    PortError::new(class, message)
}
