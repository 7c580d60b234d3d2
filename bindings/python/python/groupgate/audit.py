"""Audit trails: verify one (hash chain, anchors, signed checkpoints) and
replay its decisions against a policy.

>>> from groupgate import audit
>>> report = audit.verify("trail.jsonl", expect_heads=["41:sha256:…"])  # doctest: +SKIP
"""

from __future__ import annotations

import os
from typing import Optional, Sequence, Union

from . import _native
from ._types import ReplayReport, VerifyReport

__all__ = ["verify", "replay"]

PathLike = Union[str, "os.PathLike[str]"]


def verify(
    path: PathLike,
    *,
    expect_heads: Sequence[str] = (),
    anchors: Optional[PathLike] = None,
    public_key: Optional[str] = None,
) -> VerifyReport:
    """Verifies the audit trail at ``path`` (JSON Lines, as ``groupgate audit
    export`` writes it).

    ``expect_heads`` are heads recorded elsewhere (``"SEQ:HASH"``) the trail
    must contain; ``anchors`` is a file of them (or of the
    ``[groupgate audit anchor …]`` markers tickets carry); ``public_key``
    (base64 or hex, or a file holding it) checks every signed checkpoint and
    requires at least one. Raises :class:`groupgate.AuditError` (with
    ``line`` and ``seq``) when the trail does not verify.
    """
    data = _native.audit_verify(
        os.fspath(path),
        expect_heads=list(expect_heads),
        anchors=None if anchors is None else os.fspath(anchors),
        public_key=public_key,
    )
    return VerifyReport.from_dict(data)


def replay(path: PathLike, policy: PathLike) -> ReplayReport:
    """Re-evaluates every decision recorded in the trail at ``path`` against
    the policy file ``policy`` and lists those that come out differently."""
    return ReplayReport.from_dict(_native.audit_replay(os.fspath(path), os.fspath(policy)))
