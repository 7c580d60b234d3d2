//! A policy's tests, diffs and audit trails from files: what `groupgate
//! policy test`, `policy diff`, `audit verify` and `audit replay` do. The
//! work is the `groupgate` crate's; the Python package wraps the dicts
//! these return in typed result classes.

use crate::convert::to_py;
use crate::errors::{AuditError, file_error, suite_error};
use groupgate::trail::{TrailError, VerifyFileOptions, replay_file, verify_file};
use pyo3::prelude::*;
use std::path::PathBuf;

/// Runs the tests of the policy at `policy` (from `tests`, or the tests
/// file beside the policy); a dict: `results` (`name`, `passed`,
/// `mismatches`), `passed`, `failed`.
#[pyfunction]
#[pyo3(signature = (policy, tests = None))]
pub(crate) fn test_policy<'py>(
    py: Python<'py>,
    policy: PathBuf,
    tests: Option<PathBuf>,
) -> PyResult<Bound<'py, PyAny>> {
    let report = py
        .detach(|| groupgate::suite::test_policy_file(&policy, tests.as_deref()))
        .map_err(suite_error)?;
    to_py(py, &report)
}

/// Decides every request of `history` (JSON Lines) under `old` and `new`
/// and lists those decided differently; a dict: `total`, `changes`.
#[pyfunction]
#[pyo3(signature = (old, new, history, directory = None))]
pub(crate) fn diff_policies<'py>(
    py: Python<'py>,
    old: PathBuf,
    new: PathBuf,
    history: PathBuf,
    directory: Option<PathBuf>,
) -> PyResult<Bound<'py, PyAny>> {
    let report = py
        .detach(|| groupgate::suite::diff_policy_files(&old, &new, &history, directory.as_deref()))
        .map_err(suite_error)?;
    to_py(py, &report)
}

/// Verifies the audit trail at `path`; a dict (`records`, `head`,
/// `anchors_checked`, `checkpoints_verified`, `signed_through`,
/// `unsigned_tail`), or `AuditError` naming the first record at fault.
#[pyfunction]
#[pyo3(signature = (path, *, expect_heads = Vec::new(), anchors = None, public_key = None))]
pub(crate) fn audit_verify<'py>(
    py: Python<'py>,
    path: PathBuf,
    expect_heads: Vec<String>,
    anchors: Option<PathBuf>,
    public_key: Option<String>,
) -> PyResult<Bound<'py, PyAny>> {
    let options = VerifyFileOptions {
        expect_heads,
        anchors_file: anchors,
        public_key,
    };
    let report = py
        .detach(|| verify_file(&path, &options))
        .map_err(|e| match e {
            TrailError::File(f) => file_error(f),
            TrailError::Argument(a) => crate::errors::invalid("audit verification", "", &a),
            TrailError::Audit { path, error } => {
                let (line, seq) = match &error {
                    groupgate_core::audit::AuditError::Broken { line, seq, .. }
                    | groupgate_core::audit::AuditError::TimeWentBack { line, seq, .. } => {
                        (Some(*line), Some(*seq))
                    }
                    groupgate_core::audit::AuditError::Malformed { line, .. } => {
                        (Some(*line), None)
                    }
                    _ => (None, None),
                };
                let err = AuditError::new_err(format!("{path}: {error}"));
                Python::attach(|py| {
                    let value = err.value(py);
                    let _ = value.setattr("line", line);
                    let _ = value.setattr("seq", seq);
                });
                err
            }
        })?;
    to_py(py, &report)
}

/// Re-evaluates every decision recorded in the trail at `path` against the
/// policy at `policy`; a dict: `replayed`, `differences`.
#[pyfunction]
pub(crate) fn audit_replay<'py>(
    py: Python<'py>,
    path: PathBuf,
    policy: PathBuf,
) -> PyResult<Bound<'py, PyAny>> {
    let report = py
        .detach(|| replay_file(&path, &policy))
        .map_err(file_error)?;
    to_py(py, &report)
}
