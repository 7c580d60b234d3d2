//! The compiled module behind the Python package `groupgate`
//! (`groupgate._native`). Thin: every function converts its arguments,
//! makes one call into the Rust crates, and converts the answer back; no
//! rule lives here. See `bindings/python/python/groupgate` for the package
//! and `docs/python.md` for the API.

mod convert;
mod decision;
mod engine;
mod errors;
mod fast;
mod policy;
mod ports;
mod suite;

use pyo3::prelude::*;

/// The compiled module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    m.add_class::<policy::Policy>()?;
    m.add_class::<policy::Request>()?;
    m.add_class::<policy::Facts>()?;
    m.add_class::<policy::DirectorySnapshot>()?;
    m.add_class::<decision::Decision>()?;
    m.add_class::<decision::ResolvedGroup>()?;
    m.add_class::<decision::ApprovalStage>()?;
    m.add_class::<decision::Approver>()?;
    m.add_class::<decision::Expiry>()?;
    m.add_class::<decision::Reason>()?;
    m.add_class::<decision::CatalogSuggestion>()?;
    m.add_class::<decision::Diagnostic>()?;
    m.add_class::<engine::Engine>()?;
    m.add_class::<engine::Workflow>()?;
    m.add_class::<engine::AnswerOutcome>()?;
    m.add_function(wrap_pyfunction!(policy::lint_text, m)?)?;
    m.add_function(wrap_pyfunction!(suite::test_policy, m)?)?;
    m.add_function(wrap_pyfunction!(suite::diff_policies, m)?)?;
    m.add_function(wrap_pyfunction!(suite::audit_verify, m)?)?;
    m.add_function(wrap_pyfunction!(suite::audit_replay, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
