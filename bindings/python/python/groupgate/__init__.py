"""groupgate: safe, audited Entra ID group membership changes from
service-desk tickets.

Decide a request against a policy (pure, no I/O)::

    import groupgate

    policy = groupgate.Policy.from_file("examples/policy.yaml")
    directory = groupgate.DirectorySnapshot.from_file("examples/directory.yaml")
    decision = policy.evaluate_with_snapshot(
        {"ticket": "RITM1", "requester": "ada.lovelace@contoso.com",
         "target": "ada.lovelace@contoso.com", "resource": "Access to Finance BI"},
        directory, now="2026-11-25T10:00:00Z")
    assert decision.outcome == groupgate.Outcome.NEEDS_APPROVAL

Run workflows with :class:`Engine` (the real adapters from a settings file,
or port objects of your own). See docs/python.md.
"""

from __future__ import annotations

import os
from typing import Optional, Union

from . import audit
from ._native import (
    AdapterError,
    AnswerOutcome,
    ApprovalStage,
    Approver,
    AuditError,
    CatalogSuggestion,
    ConflictError,
    Decision,
    Diagnostic,
    DirectorySnapshot,
    Engine,
    Expiry,
    Facts,
    ForbiddenError,
    GroupgateError,
    InputError,
    InvalidError,
    InvalidRequest,
    NotFoundError,
    PermanentError,
    Policy,
    PolicyError,
    Reason,
    Request,
    ResolvedGroup,
    SettingsError,
    StoreError,
    TransientError,
    Workflow,
    WorkflowError,
    __version__,
    lint_text,
)
from ._types import (
    ChainHead,
    DecisionChange,
    DecisionSummary,
    DiffReport,
    Outcome,
    PolicyTestReport,
    PolicyTestResult,
    ReplayDifference,
    ReplayReport,
    VerifyReport,
)

PathLike = Union[str, "os.PathLike[str]"]


def test_policy(policy: PathLike, tests: Optional[PathLike] = None) -> PolicyTestReport:
    """Runs a policy's own tests (the ``.tests.yaml`` file beside it, or
    ``tests``): what ``groupgate policy test`` prints, as a report."""
    data = _native_test_policy(os.fspath(policy), None if tests is None else os.fspath(tests))
    return PolicyTestReport.from_dict(data)


# pytest would collect a function named test_* from this module's namespace
# in the caller's test files; this keeps it a plain function.
test_policy.__test__ = False  # type: ignore[attr-defined]


def diff_policies(
    old: PathLike,
    new: PathLike,
    history: PathLike,
    directory: Optional[PathLike] = None,
) -> DiffReport:
    """Decides every past request of ``history`` (JSON Lines: ``request``,
    ``now``, optional ``facts``) under the ``old`` and ``new`` policy files
    and lists those decided differently; lines without facts take them from
    the ``directory`` snapshot."""
    data = _native_diff_policies(
        os.fspath(old),
        os.fspath(new),
        os.fspath(history),
        None if directory is None else os.fspath(directory),
    )
    return DiffReport.from_dict(data)


from ._native import diff_policies as _native_diff_policies  # noqa: E402
from ._native import test_policy as _native_test_policy  # noqa: E402

__all__ = [
    "AdapterError",
    "AnswerOutcome",
    "ApprovalStage",
    "Approver",
    "AuditError",
    "CatalogSuggestion",
    "ChainHead",
    "ConflictError",
    "Decision",
    "DecisionChange",
    "DecisionSummary",
    "Diagnostic",
    "DiffReport",
    "DirectorySnapshot",
    "Engine",
    "Expiry",
    "Facts",
    "ForbiddenError",
    "GroupgateError",
    "InputError",
    "InvalidError",
    "InvalidRequest",
    "NotFoundError",
    "Outcome",
    "PermanentError",
    "Policy",
    "PolicyError",
    "PolicyTestReport",
    "PolicyTestResult",
    "Reason",
    "ReplayDifference",
    "ReplayReport",
    "Request",
    "ResolvedGroup",
    "SettingsError",
    "StoreError",
    "TransientError",
    "VerifyReport",
    "Workflow",
    "WorkflowError",
    "__version__",
    "audit",
    "diff_policies",
    "lint_text",
    "test_policy",
]
