"""Typed results of groupgate's file-level operations (policy tests and
diffs, audit verification and replay), and the enums decisions use.

They are built from what the compiled module returns; no rule lives here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, TypedDict

__all__ = [
    "Outcome",
    "PolicyTestResult",
    "PolicyTestReport",
    "DecisionSummary",
    "DecisionChange",
    "DiffReport",
    "ChainHead",
    "VerifyReport",
    "ReplayDifference",
    "ReplayReport",
    "PassSummary",
    "WorkflowRow",
]


class PassSummary(TypedDict):
    """What one pass of ``Engine.run_due`` did."""

    taken_in: int
    stepped: int
    fired: int
    offboarded: int
    failures: int


class WorkflowRow(TypedDict, total=False):
    """A workflow's index row (``Engine.workflows``): no history replayed."""

    id: str
    ticket: str
    target_name: str
    target: str
    group: str
    phase: str
    open: bool
    pending: int
    in_flight: bool
    next_wake: str
    last_error: str
    version: int
    started_at: str
    updated_at: str


class Outcome(str, enum.Enum):
    """A decision's verdict. Compares equal to its value (``"deny"``, …)."""

    DENY = "deny"
    """Refused; the reasons with effect ``deny`` say why."""
    ALREADY_MEMBER = "already_member"
    """Nothing to do: the target already has the membership."""
    NEEDS_APPROVAL = "needs_approval"
    """Allowed once every approval stage is complete."""
    PRE_APPROVED = "pre_approved"
    """Allowed without approvals by a standard change."""

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class PolicyTestResult:
    """How one case of a policy tests file went."""

    name: str
    passed: bool
    mismatches: List[str]


@dataclass(frozen=True)
class PolicyTestReport:
    """How a policy tests file went (what ``groupgate policy test`` prints)."""

    results: List[PolicyTestResult]
    passed: int
    failed: int

    @property
    def ok(self) -> bool:
        """Whether every case passed."""
        return self.failed == 0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "PolicyTestReport":
        return cls(
            results=[PolicyTestResult(**r) for r in data["results"]],
            passed=int(data["passed"]),
            failed=int(data["failed"]),
        )


@dataclass(frozen=True)
class DecisionSummary:
    """The parts of a decision a reviewer of a policy change cares about."""

    outcome: str
    group: Optional[str]
    approvers: List[str]
    expiry: Optional[str]


@dataclass(frozen=True)
class DecisionChange:
    """A past request the new policy decides differently."""

    line: int
    ticket: str
    changed: List[str]
    old: DecisionSummary
    new: DecisionSummary


@dataclass(frozen=True)
class DiffReport:
    """What a policy change would change (what ``groupgate policy diff`` prints)."""

    total: int
    changes: List[DecisionChange]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "DiffReport":
        return cls(
            total=int(data["total"]),
            changes=[
                DecisionChange(
                    line=int(c["line"]),
                    ticket=str(c["ticket"]),
                    changed=list(c["changed"]),
                    old=DecisionSummary(**c["old"]),
                    new=DecisionSummary(**c["new"]),
                )
                for c in data["changes"]
            ],
        )


@dataclass(frozen=True)
class ChainHead:
    """The end of an audit trail: the last record's sequence number and hash."""

    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"


@dataclass(frozen=True)
class VerifyReport:
    """What verifying an audit trail found (it verified)."""

    records: int
    head: ChainHead
    anchors_checked: int
    checkpoints_verified: int
    signed_through: Optional[int]
    unsigned_tail: int

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "VerifyReport":
        return cls(
            records=int(data["records"]),
            head=ChainHead(**data["head"]),
            anchors_checked=int(data["anchors_checked"]),
            checkpoints_verified=int(data["checkpoints_verified"]),
            signed_through=data.get("signed_through"),
            unsigned_tail=int(data["unsigned_tail"]),
        )


@dataclass(frozen=True)
class ReplayDifference:
    """A recorded decision that comes out differently when replayed."""

    seq: int
    workflow: str
    recorded_digest: str
    replayed_digest: str
    recorded_outcome: str
    replayed_outcome: str

    @property
    def policy_changed(self) -> bool:
        """Whether the policy differs (else the evaluator does)."""
        return self.recorded_digest != self.replayed_digest


@dataclass(frozen=True)
class ReplayReport:
    """What replaying a trail's decisions found."""

    replayed: int
    differences: List[ReplayDifference]

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "ReplayReport":
        return cls(
            replayed=int(data["replayed"]),
            differences=[ReplayDifference(**d) for d in data["differences"]],
        )
