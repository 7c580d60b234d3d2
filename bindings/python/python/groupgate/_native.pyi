"""Type stubs of the compiled module behind ``groupgate``.

Dates and times are timezone-aware ``datetime`` objects (UTC). Where an
argument takes "a ``Request`` or a dict", the dict has the JSON shape of a
request file (``ticket``, ``requester``, ``target``, ``resource``, and
optionally ``end_date``, ``justification``, ``suggestion``); times in dicts
are RFC 3339 strings.
"""

import os
from datetime import datetime
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Literal, Mapping, Optional, Sequence, Tuple, Union

from typing import final

from ._types import Outcome, PassSummary, WorkflowRow

_Path = Union[str, "os.PathLike[str]"]
_Time = Union[datetime, str, None]
_RequestLike = Union["Request", Mapping[str, Any]]
_FactsLike = Union["Facts", Mapping[str, Any]]
_DirectoryLike = Union["DirectorySnapshot", Mapping[str, Any]]

__version__: str
__all__ = [
    "AdapterError",
    "AnswerOutcome",
    "ApprovalStage",
    "Approver",
    "AuditError",
    "CatalogSuggestion",
    "ConflictError",
    "Decision",
    "Diagnostic",
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
    "PermanentError",
    "Policy",
    "PolicyError",
    "Reason",
    "Request",
    "ResolvedGroup",
    "SettingsError",
    "StoreError",
    "TransientError",
    "Workflow",
    "WorkflowError",
    "__version__",
    "audit_replay",
    "audit_verify",
    "diff_policies",
    "lint_text",
    "test_policy",
]

class GroupgateError(Exception):
    """The base of every groupgate error."""

class PolicyError(GroupgateError):
    """A policy that does not load."""

    file: str
    line: Optional[int]
    column: Optional[int]
    field: Optional[str]
    code: Optional[str]
    diagnostics: List[Dict[str, Any]]

class InputError(GroupgateError):
    """An input file that cannot be read, is beyond a limit, or does not parse."""

    path: str
    line: Optional[int]
    column: Optional[int]
    field: Optional[str]

class InvalidRequest(GroupgateError):
    """A value passed in with the wrong shape; ``field`` names where."""

    field: str

class SettingsError(GroupgateError):
    """A service settings file that cannot be used."""

class StoreError(GroupgateError):
    """The store failed or cannot be opened."""

class WorkflowError(GroupgateError):
    """A workflow that does not exist, was changed by another writer, or cannot be rebuilt."""

    workflow: str

class AuditError(GroupgateError):
    """An audit trail that does not verify."""

    line: Optional[int]
    seq: Optional[int]

class AdapterError(GroupgateError):
    """A directory, ticket or approval call that failed."""

    kind: Literal["transient", "not_found", "conflict", "forbidden", "invalid", "permanent"]
    retry_after: Optional[int]
    correlation_id: Optional[str]

class TransientError(AdapterError):
    """Try again later."""

class NotFoundError(AdapterError):
    """The object does not exist."""

class ConflictError(AdapterError):
    """The change clashes with the current state."""

class ForbiddenError(AdapterError):
    """A permission is missing."""

class InvalidError(AdapterError):
    """The service refused the call as invalid."""

class PermanentError(AdapterError):
    """Any other failure that retrying will not fix."""

@final
class Request:
    """A request: who asks what for whom."""

    def __new__(cls, **fields: Any) -> "Request": ...
    @staticmethod
    def from_dict(value: Mapping[str, Any]) -> "Request": ...
    @property
    def ticket(self) -> str: ...
    @property
    def requester(self) -> str: ...
    @property
    def target(self) -> str: ...
    @property
    def resource(self) -> str: ...
    def to_dict(self) -> Dict[str, Any]: ...

@final
class Facts:
    """What the evaluator knows about the people and the group."""

    @staticmethod
    def from_dict(value: Mapping[str, Any]) -> "Facts": ...
    def to_dict(self) -> Dict[str, Any]: ...

@final
class DirectorySnapshot:
    """Users and groups, for deciding without a live directory."""

    @staticmethod
    def from_file(path: _Path) -> "DirectorySnapshot": ...
    @staticmethod
    def from_dict(value: Mapping[str, Any]) -> "DirectorySnapshot": ...
    def to_dict(self) -> Dict[str, Any]: ...

@final
class ResolvedGroup:
    """The group a request resolved to, and how."""

    @property
    def key(self) -> str: ...
    @property
    def object_id(self) -> str: ...
    @property
    def display_name(self) -> Optional[str]: ...
    @property
    def risk(self) -> str: ...
    @property
    def tags(self) -> List[str]: ...
    @property
    def matched_by(self) -> str: ...
    @property
    def matched(self) -> str: ...
    @property
    def catalog_entry(self) -> Optional[str]: ...

@final
class Approver:
    """Someone who may approve a stage, known by directory object id."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def role(self) -> str: ...

@final
class ApprovalStage:
    """One approval stage with its eligible approvers."""

    @property
    def name(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def required(self) -> int: ...
    @property
    def approvers(self) -> List[Approver]: ...
    @property
    def alternates(self) -> List[Approver]: ...
    @property
    def escalate_after_seconds(self) -> Optional[int]: ...

@final
class Expiry:
    """When granted access ends."""

    @property
    def end_date(self) -> Optional[datetime]: ...
    @property
    def max_duration_seconds(self) -> Optional[int]: ...
    @property
    def max_duration_rule(self) -> Optional[str]: ...
    @property
    def projected(self) -> datetime: ...

@final
class Reason:
    """Why a decision is what it is."""

    @property
    def code(self) -> str: ...
    @property
    def effect(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def rule(self) -> Optional[str]: ...
    @property
    def details(self) -> Dict[str, str]: ...

@final
class CatalogSuggestion:
    """A catalog entry close to what was asked for."""

    @property
    def entry(self) -> str: ...
    @property
    def group(self) -> str: ...
    @property
    def matched(self) -> str: ...
    @property
    def score(self) -> float: ...

@final
class Diagnostic:
    """One finding about a policy file."""

    @property
    def severity(self) -> Literal["error", "warning"]: ...
    @property
    def code(self) -> str: ...
    @property
    def field(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def help(self) -> Optional[str]: ...
    @property
    def line(self) -> Optional[int]: ...
    @property
    def column(self) -> Optional[int]: ...

@final
class Decision:
    """The evaluator's verdict with everything that led to it."""

    @property
    def outcome(self) -> Outcome: ...
    @property
    def is_allowed(self) -> bool: ...
    @property
    def group(self) -> Optional[ResolvedGroup]: ...
    @property
    def stages(self) -> List[ApprovalStage]: ...
    @property
    def expiry(self) -> Optional[Expiry]: ...
    @property
    def earliest_execution(self) -> Optional[datetime]: ...
    @property
    def approval_deadline(self) -> Optional[datetime]: ...
    @property
    def reasons(self) -> List[Reason]: ...
    @property
    def suggestions(self) -> List[CatalogSuggestion]: ...
    @property
    def policy_digest(self) -> str: ...
    @property
    def evaluated_at(self) -> datetime: ...
    @property
    def codes(self) -> List[str]: ...
    def has_reason(self, code: str) -> bool: ...
    def to_dict(self) -> Dict[str, Any]: ...
    def to_json(self, *, indent: Optional[int] = None) -> str: ...

@final
class Policy:
    """A validated, compiled policy; safe to share between threads."""

    @staticmethod
    def from_file(path: _Path) -> "Policy": ...
    @staticmethod
    def from_yaml(text: str, source_name: str = "policy.yaml") -> "Policy": ...
    @staticmethod
    def from_json(text: str, source_name: str = "policy.json") -> "Policy": ...
    @property
    def digest(self) -> str: ...
    def lint(self) -> List[Diagnostic]: ...
    def resolve(self, request: _RequestLike) -> Dict[str, Any]: ...
    def evaluate(self, request: _RequestLike, facts: _FactsLike, now: _Time = None) -> Decision: ...
    def evaluate_many(
        self, cases: Iterable[Tuple[_RequestLike, _FactsLike]], now: _Time = None
    ) -> List[Decision]: ...
    def evaluate_with_snapshot(
        self, request: _RequestLike, directory: _DirectoryLike, now: _Time = None
    ) -> Decision: ...
    def fact_needs(self, request: _RequestLike) -> Dict[str, Any]: ...

@final
class Workflow:
    """One request, from intake to its end."""

    @property
    def id(self) -> str: ...
    @property
    def ticket(self) -> str: ...
    @property
    def phase(self) -> str: ...
    @property
    def is_terminal(self) -> bool: ...
    @property
    def stage(self) -> Optional[int]: ...
    @property
    def bindings(self) -> List[str]: ...
    @property
    def decision(self) -> Optional[Decision]: ...
    @property
    def target(self) -> Optional[str]: ...
    @property
    def group(self) -> Optional[str]: ...
    def to_dict(self) -> Dict[str, Any]: ...

@final
class AnswerOutcome:
    """What came of an answer given to ``Engine.record_approval``."""

    @property
    def counted(self) -> bool: ...
    @property
    def refusal(self) -> Optional[str]: ...
    @property
    def workflow(self) -> Workflow: ...

@final
class Engine:
    """The workflow engine; safe to share between threads."""

    def __new__(
        cls,
        policy: Policy,
        *,
        directory: object,
        tickets: object,
        approvals: object,
        store: Optional[_Path] = None,
        clock: Optional[Callable[[], datetime]] = None,
        seed: Optional[int] = None,
    ) -> "Engine": ...
    @staticmethod
    def from_config(path: _Path) -> "Engine": ...
    @property
    def policy(self) -> Policy: ...
    def submit(self, request: Mapping[str, Any]) -> Workflow: ...
    def asubmit(self, request: Mapping[str, Any]) -> Awaitable[Workflow]: ...
    def process_ticket(self, ticket: str) -> Workflow: ...
    def aprocess_ticket(self, ticket: str) -> Awaitable[Workflow]: ...
    def workflow(self, ticket: str) -> Workflow: ...
    def aworkflow(self, ticket: str) -> Awaitable[Workflow]: ...
    def collect_answers(self, ticket: str) -> Workflow: ...
    def acollect_answers(self, ticket: str) -> Awaitable[Workflow]: ...
    def record_approval(
        self,
        ticket: str,
        *,
        approver: str,
        verdict: Literal["approve", "reject"],
        stage: Optional[str] = None,
        binding: Optional[str] = None,
        comment: Optional[str] = None,
        channel: str = "python",
        approver_id: Optional[str] = None,
        at: _Time = None,
    ) -> AnswerOutcome: ...
    def arecord_approval(
        self,
        ticket: str,
        *,
        approver: str,
        verdict: Literal["approve", "reject"],
        stage: Optional[str] = None,
        binding: Optional[str] = None,
        comment: Optional[str] = None,
        channel: str = "python",
        approver_id: Optional[str] = None,
        at: _Time = None,
    ) -> Awaitable[AnswerOutcome]: ...
    def run_due(self) -> PassSummary: ...
    def arun_due(self) -> Awaitable[PassSummary]: ...
    def offboard(self, user: str, *, operator: str = "python") -> Dict[str, Any]: ...
    def aoffboard(self, user: str, *, operator: str = "python") -> Awaitable[Dict[str, Any]]: ...
    def workflows(
        self,
        *,
        open: Optional[bool] = None,
        phase: Optional[str] = None,
        target: Optional[str] = None,
        limit: int = 0,
    ) -> List[WorkflowRow]: ...
    def audit_trail(self) -> List[Dict[str, Any]]: ...

def lint_text(text: str, *, json: bool = False) -> List[Diagnostic]: ...
def test_policy(policy: _Path, tests: Optional[_Path] = None) -> Dict[str, Any]: ...
def diff_policies(
    old: _Path, new: _Path, history: _Path, directory: Optional[_Path] = None
) -> Dict[str, Any]: ...
def audit_verify(
    path: _Path,
    *,
    expect_heads: Sequence[str] = ...,
    anchors: Optional[_Path] = None,
    public_key: Optional[str] = None,
) -> Dict[str, Any]: ...
def audit_replay(path: _Path, policy: _Path) -> Dict[str, Any]: ...
