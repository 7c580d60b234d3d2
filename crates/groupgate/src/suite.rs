//! A policy's own tests and a policy change's effect on past requests, run
//! from files: what `groupgate policy test` and `groupgate policy diff` do.
//! The work is `groupgate_core::suite`'s; this reads the files.

use crate::files::{self, FileError, Input};
use groupgate_core::suite::{
    DiffReport, PolicyTestReport, PolicyTests, SuiteError, diff_policies, parse_history,
    run_policy_tests,
};
use std::path::{Path, PathBuf};

/// Why a tests file or a diff could not be run.
#[derive(Debug, thiserror::Error)]
pub enum SuiteFileError {
    /// A file could not be read.
    #[error(transparent)]
    File(#[from] FileError),
    /// The tests or the history cannot be run as written.
    #[error("{path}: {error}")]
    Suite {
        /// The tests file or history.
        path: String,
        /// What is wrong.
        error: SuiteError,
    },
}

/// The tests file beside a policy: `policy.yaml` → `policy.tests.yaml`.
pub fn default_tests_path(policy: &Path) -> PathBuf {
    let stem = policy
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("policy");
    policy.with_file_name(format!("{stem}.tests.yaml"))
}

/// Runs the tests of the policy at `policy_path` (from `tests_path`, or the
/// tests file beside the policy); a tests file's `directory` is read
/// relative to it.
pub fn test_policy_file(
    policy_path: &Path,
    tests_path: Option<&Path>,
) -> Result<PolicyTestReport, SuiteFileError> {
    let policy = files::load_policy(policy_path)?;
    let tests_path = tests_path
        .map(Path::to_path_buf)
        .unwrap_or_else(|| default_tests_path(policy_path));
    let tests: PolicyTests = files::load_as(
        &tests_path,
        "a policy tests file (directory, now, cases)",
        Input::Large,
    )?;
    let directory = tests
        .directory
        .as_deref()
        .map(|rel| files::load_facts_source(&files::beside(&tests_path, rel)))
        .transpose()?;
    run_policy_tests(&policy, &tests, directory.as_ref()).map_err(|error| SuiteFileError::Suite {
        path: tests_path.display().to_string(),
        error,
    })
}

/// Decides every request of the history at `history_path` (JSON Lines) under
/// the old and the new policy and lists those decided differently; lines
/// without facts take them from `directory`.
pub fn diff_policy_files(
    old_path: &Path,
    new_path: &Path,
    history_path: &Path,
    directory: Option<&Path>,
) -> Result<DiffReport, SuiteFileError> {
    let old = files::load_policy(old_path)?;
    let new = files::load_policy(new_path)?;
    let directory = directory.map(files::load_facts_source).transpose()?;
    let text = files::read_text(history_path, Input::Large)?;
    let suite_error = |error| SuiteFileError::Suite {
        path: history_path.display().to_string(),
        error,
    };
    let history = parse_history(&text).map_err(suite_error)?;
    diff_policies(&old, &new, &history, directory.as_ref()).map_err(suite_error)
}
