//! `Policy` and the inputs it decides on (`Request`, `Facts`,
//! `DirectorySnapshot`), as Python objects. Every call converts and
//! delegates to one Rust call; the Rust work runs detached from the
//! interpreter, so other Python threads run meanwhile.

use crate::convert::{from_py, now_of, to_py};
use crate::decision::{Decision, Diagnostic};
use crate::errors::{file_error, policy_error};
use groupgate_core as core;
use pyo3::prelude::*;
use std::path::PathBuf;
use std::sync::Arc;

/// A request: who asks what for whom.
#[pyclass(module = "groupgate", frozen, eq)]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Request {
    pub(crate) inner: Arc<core::Request>,
}

#[pymethods]
impl Request {
    /// A request from its fields (as in a request file): `ticket`,
    /// `requester`, `target`, `resource`, and optionally `end_date` (an
    /// RFC 3339 time or a date), `justification`, `suggestion`.
    #[new]
    #[pyo3(signature = (**fields))]
    fn new(py: Python<'_>, fields: Option<&Bound<'_, pyo3::types::PyDict>>) -> PyResult<Self> {
        let py_fields = match fields {
            Some(f) => f.clone().into_any(),
            None => pyo3::types::PyDict::new(py).into_any(),
        };
        Ok(Self {
            inner: Arc::new(from_py(&py_fields, "request")?),
        })
    }

    /// A request from a dict.
    #[staticmethod]
    fn from_dict(value: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(Self {
            inner: request_of(value)?,
        })
    }

    /// The ticket it belongs to.
    #[getter]
    fn ticket(&self) -> String {
        self.inner.ticket.to_string()
    }

    /// The requester (UPN or object id).
    #[getter]
    fn requester(&self) -> String {
        self.inner.requester.clone()
    }

    /// Who is to get the access.
    #[getter]
    fn target(&self) -> String {
        self.inner.target.clone()
    }

    /// What was asked for, as typed.
    #[getter]
    fn resource(&self) -> String {
        self.inner.resource.clone()
    }

    /// The request as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &*self.inner)
    }

    fn __repr__(&self) -> String {
        format!(
            "Request(ticket='{}', target='{}', resource='{}')",
            self.inner.ticket, self.inner.target, self.inner.resource
        )
    }
}

/// What the evaluator knows about the people and the group.
#[pyclass(module = "groupgate", frozen, eq)]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Facts {
    pub(crate) inner: Arc<core::Facts>,
}

#[pymethods]
impl Facts {
    /// Facts from a dict (as in a facts file).
    #[staticmethod]
    fn from_dict(value: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(Self {
            inner: facts_of(value)?,
        })
    }

    /// The facts as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &*self.inner)
    }
}

/// A directory snapshot: users and groups, for deciding without a live
/// directory (as `groupgate check --facts` does).
#[pyclass(module = "groupgate", frozen)]
#[derive(Debug, Clone)]
pub(crate) struct DirectorySnapshot {
    pub(crate) inner: Arc<core::DirectorySnapshot>,
}

#[pymethods]
impl DirectorySnapshot {
    /// Reads a snapshot file (YAML, or JSON by its `.json` name).
    #[staticmethod]
    fn from_file(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let snapshot: core::DirectorySnapshot = py
            .detach(|| {
                groupgate::files::load_as(
                    &path,
                    "a directory snapshot (users, groups)",
                    groupgate::files::Input::Large,
                )
            })
            .map_err(file_error)?;
        Ok(Self {
            inner: Arc::new(snapshot),
        })
    }

    /// A snapshot from a dict.
    #[staticmethod]
    fn from_dict(value: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(Self {
            inner: Arc::new(from_py(value, "directory snapshot")?),
        })
    }

    /// The snapshot as a dict (`users`, `groups`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &*self.inner)
    }
}

/// A request from a `Request` or a dict (read field by field when it has
/// the plain shape, else by the general reader, which names a bad field).
pub(crate) fn request_of(obj: &Bound<'_, PyAny>) -> PyResult<Arc<core::Request>> {
    if let Ok(r) = obj.cast::<Request>() {
        return Ok(Arc::clone(&r.get().inner));
    }
    match crate::fast::request(obj) {
        Some(r) => Ok(Arc::new(r)),
        None => Ok(Arc::new(from_py(obj, "request")?)),
    }
}

/// Facts from a `Facts` or a dict (as `request_of`).
pub(crate) fn facts_of(obj: &Bound<'_, PyAny>) -> PyResult<Arc<core::Facts>> {
    if let Ok(f) = obj.cast::<Facts>() {
        return Ok(Arc::clone(&f.get().inner));
    }
    match crate::fast::facts(obj) {
        Some(f) => Ok(Arc::new(f)),
        None => Ok(Arc::new(from_py(obj, "facts")?)),
    }
}

fn snapshot_of(obj: &Bound<'_, PyAny>) -> PyResult<Arc<core::DirectorySnapshot>> {
    match obj.cast::<DirectorySnapshot>() {
        Ok(d) => Ok(Arc::clone(&d.get().inner)),
        Err(_) => Ok(Arc::new(from_py(obj, "directory snapshot")?)),
    }
}

/// A validated, compiled policy. Cheap to share between threads; every
/// method may be called from many threads at once.
#[pyclass(module = "groupgate", frozen)]
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    pub(crate) inner: core::CompiledPolicy,
}

#[pymethods]
impl Policy {
    /// Reads, validates and compiles a policy file (YAML, or JSON by its
    /// `.json` name). Raises `PolicyError` with the file, line, column and
    /// field of the first error (and every finding in `diagnostics`), or
    /// `InputError` for a file that cannot be read.
    #[staticmethod]
    fn from_file(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let compiled = py
            .detach(|| groupgate::files::load_policy(&path))
            .map_err(file_error)?;
        Ok(Self { inner: compiled })
    }

    /// A policy from YAML text; `source_name` names it in errors.
    #[staticmethod]
    #[pyo3(signature = (text, source_name = "policy.yaml"))]
    fn from_yaml(py: Python<'_>, text: String, source_name: &str) -> PyResult<Self> {
        let compiled = py
            .detach(|| core::CompiledPolicy::from_yaml_str(&text, source_name))
            .map_err(|e| policy_error(&e))?;
        Ok(Self { inner: compiled })
    }

    /// A policy from JSON text; `source_name` names it in errors.
    #[staticmethod]
    #[pyo3(signature = (text, source_name = "policy.json"))]
    fn from_json(py: Python<'_>, text: String, source_name: &str) -> PyResult<Self> {
        let compiled = py
            .detach(|| core::CompiledPolicy::from_json_str(&text, source_name))
            .map_err(|e| policy_error(&e))?;
        Ok(Self { inner: compiled })
    }

    /// The digest of the policy's canonical form (every decision records it).
    #[getter]
    fn digest(&self) -> String {
        self.inner.digest().to_owned()
    }

    /// Warnings about likely mistakes (a valid policy has no errors).
    fn lint(&self) -> Vec<Diagnostic> {
        self.inner.lint().iter().map(Diagnostic::from).collect()
    }

    /// How the request's resource text resolves in the catalog: a dict
    /// with `status` (`resolved`, `ambiguous`, `unresolved`) and, when
    /// resolved, `group`, `object_id`, `entry`, `kind` and `matched`.
    fn resolve<'py>(
        &self,
        py: Python<'py>,
        request: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let request = request_of(request)?;
        to_py(py, &self.inner.resolve(&request))
    }

    /// Decides `request` (a `Request` or a dict) on `facts` (a `Facts` or a
    /// dict) at `now` (an aware `datetime` or RFC 3339 text; the present
    /// when omitted). Pure: no I/O. Always returns a decision (a deny when
    /// in doubt); raises `InvalidRequest` only for input of the wrong shape.
    #[pyo3(signature = (request, facts, now = None))]
    fn evaluate(
        &self,
        py: Python<'_>,
        request: &Bound<'_, PyAny>,
        facts: &Bound<'_, PyAny>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Decision> {
        let request = request_of(request)?;
        let facts = facts_of(facts)?;
        let now = now_of(now)?;
        let decision = py.detach(|| self.inner.evaluate(&request, &facts, now));
        Ok(Decision::new(decision))
    }

    /// Decides many `(request, facts)` pairs at `now` in one call (the
    /// per-call overhead paid once).
    #[pyo3(signature = (cases, now = None))]
    fn evaluate_many(
        &self,
        py: Python<'_>,
        cases: &Bound<'_, PyAny>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Vec<Decision>> {
        let now = now_of(now)?;
        let mut inputs = Vec::new();
        for item in cases.try_iter()? {
            let item = item?;
            let (request, facts): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
            inputs.push((request_of(&request)?, facts_of(&facts)?));
        }
        let decisions = py.detach(|| {
            inputs
                .iter()
                .map(|(r, f)| self.inner.evaluate(r, f, now))
                .collect::<Vec<_>>()
        });
        Ok(decisions.into_iter().map(Decision::new).collect())
    }

    /// Decides `request` against a directory snapshot (a
    /// `DirectorySnapshot` or a dict): the facts are derived from it as the
    /// engine gathers them, exactly as `groupgate check --facts` does (the
    /// same JSON, byte for byte).
    #[pyo3(signature = (request, directory, now = None))]
    fn evaluate_with_snapshot(
        &self,
        py: Python<'_>,
        request: &Bound<'_, PyAny>,
        directory: &Bound<'_, PyAny>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Decision> {
        let request = request_of(request)?;
        let directory = snapshot_of(directory)?;
        let now = now_of(now)?;
        let decision =
            py.detach(|| core::evaluate_with_snapshot(&self.inner, &request, &directory, now));
        Ok(Decision::new(decision))
    }

    /// The facts the engine would gather for `request` (what the policy
    /// needs from the directory), as a dict.
    fn fact_needs<'py>(
        &self,
        py: Python<'py>,
        request: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let request = request_of(request)?;
        to_py(py, &self.inner.fact_needs(&request))
    }

    fn __repr__(&self) -> String {
        format!("Policy(digest='{}')", self.inner.digest())
    }
}

/// Every error and warning about policy text, located (a policy that does
/// not load gives its errors here instead of raising).
#[pyfunction]
#[pyo3(signature = (text, *, json = false))]
pub(crate) fn lint_text(py: Python<'_>, text: String, json: bool) -> Vec<Diagnostic> {
    let format = if json {
        core::PolicyFormat::Json
    } else {
        core::PolicyFormat::Yaml
    };
    py.detach(|| core::lint_policy_text(&text, format))
        .iter()
        .map(Diagnostic::from)
        .collect()
}
