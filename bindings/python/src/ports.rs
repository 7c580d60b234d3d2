//! Ports implemented by Python objects: any object with the port's methods,
//! plain or `async def`. The shapes of arguments and answers, and what the
//! engine does with them, are `groupgate::foreign`'s; this only calls.
//!
//! A coroutine returned by a method runs on the caller's asyncio loop when
//! the engine was called from one (the `a…` methods of `Engine`), else on a
//! private event loop in the calling thread (the blocking methods).

use crate::convert::to_py;
use async_trait::async_trait;
use groupgate::foreign::{ForeignCalls, Port};
use groupgate_core::ports::{ErrorClass, PortError, PortResult};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::Value;

/// The caller's port objects.
pub(crate) struct PyPorts {
    pub(crate) directory: Option<Py<PyAny>>,
    pub(crate) tickets: Option<Py<PyAny>>,
    pub(crate) approvals: Option<Py<PyAny>>,
}

impl std::fmt::Debug for PyPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PyPorts { .. }")
    }
}

/// What calling a method gave: an answer, or a coroutine to await on the
/// caller's loop.
enum Called {
    Done(PortResult<Value>),
    Awaiting(std::pin::Pin<Box<dyn std::future::Future<Output = PyResult<Py<PyAny>>> + Send>>),
}

fn answer_of(
    py: Python<'_>,
    value: &Bound<'_, PyAny>,
    port: Port,
    method: &str,
) -> PortResult<Value> {
    if value.is_none() {
        return Ok(Value::Null);
    }
    pythonize::depythonize::<Value>(value).map_err(|e| {
        let _ = py;
        PortError::new(
            ErrorClass::Invalid,
            format!(
                "the {} port's `{method}` answered something that is not JSON-like data (dicts, lists, strings, numbers): {e}",
                port.name()
            ),
        )
    })
}

impl PyPorts {
    fn object(&self, port: Port) -> Option<&Py<PyAny>> {
        match port {
            Port::Directory => self.directory.as_ref(),
            Port::Tickets => self.tickets.as_ref(),
            Port::Approvals => self.approvals.as_ref(),
        }
    }

    fn start(&self, py: Python<'_>, port: Port, method: &'static str, args: &Value) -> Called {
        let Some(object) = self.object(port) else {
            return Called::Done(Err(PortError::new(
                ErrorClass::Permanent,
                format!("no {} port was given to the engine", port.name()),
            )));
        };
        let object = object.bind(py);
        let kwargs =
            match to_py(py, args).and_then(|d| d.cast_into::<PyDict>().map_err(PyErr::from)) {
                Ok(k) => k,
                Err(e) => {
                    return Called::Done(Err(PortError::permanent(format!(
                        "cannot pass the arguments of `{method}`: {e}"
                    ))));
                }
            };
        let result = match object.call_method(method, (), Some(&kwargs)) {
            Ok(r) => r,
            Err(e) => {
                return Called::Done(Err(crate::errors::from_python(py, &e, port.name(), method)));
            }
        };
        let awaitable = py
            .import("inspect")
            .and_then(|m| m.call_method1("isawaitable", (&result,)))
            .and_then(|b| b.extract::<bool>())
            .unwrap_or(false);
        if !awaitable {
            return Called::Done(answer_of(py, &result, port, method));
        }
        // On the caller's loop when the engine was called from one.
        if let Ok(locals) = pyo3_async_runtimes::tokio::get_current_locals(py) {
            return match pyo3_async_runtimes::into_future_with_locals(&locals, result) {
                Ok(f) => Called::Awaiting(Box::pin(f)),
                Err(e) => {
                    Called::Done(Err(crate::errors::from_python(py, &e, port.name(), method)))
                }
            };
        }
        // Else on a private loop, here.
        let ran = py
            .import("asyncio")
            .and_then(|asyncio| asyncio.call_method0("new_event_loop"))
            .and_then(|event_loop| {
                let out = event_loop.call_method1("run_until_complete", (&result,));
                let _ = event_loop.call_method0("close");
                out
            });
        match ran {
            Ok(value) => Called::Done(answer_of(py, &value, port, method)),
            Err(e) => Called::Done(Err(crate::errors::from_python(py, &e, port.name(), method))),
        }
    }
}

#[async_trait]
impl ForeignCalls for PyPorts {
    async fn call(&self, port: Port, method: &'static str, args: Value) -> PortResult<Value> {
        let called = Python::attach(|py| self.start(py, port, method, &args));
        match called {
            Called::Done(result) => result,
            Called::Awaiting(future) => {
                let outcome = future.await;
                Python::attach(|py| match outcome {
                    Ok(value) => answer_of(py, value.bind(py), port, method),
                    Err(e) => Err(crate::errors::from_python(py, &e, port.name(), method)),
                })
            }
        }
    }

    fn has(&self, port: Port, method: &str) -> bool {
        Python::attach(|py| {
            self.object(port)
                .is_some_and(|o| o.bind(py).hasattr(method).unwrap_or(false))
        })
    }
}

/// A clock that asks a Python callable for the time.
pub(crate) struct PyClock(pub(crate) Py<PyAny>);

impl std::fmt::Debug for PyClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PyClock { .. }")
    }
}

impl groupgate_core::ports::Clock for PyClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        Python::attach(|py| {
            self.0
                .bind(py)
                .call0()
                .and_then(|t| crate::convert::now_of(Some(&t)))
                // A clock that fails gives the system's time rather than
                // stopping the engine mid-step.
                .unwrap_or_else(|_| chrono::Utc::now())
        })
    }
}
