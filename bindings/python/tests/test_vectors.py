"""The shared conformance vectors (tests/vectors/*.json) decide exactly as in
Rust: the whole decision, byte for byte in its JSON form."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

import pytest

import groupgate
from conftest import ROOT

VECTORS = sorted((ROOT / "tests" / "vectors").glob("*.json"))


def test_there_are_vectors() -> None:
    assert len(VECTORS) >= 10


@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
def test_vector_decides_as_in_rust(path: Path) -> None:
    vector: Dict[str, Any] = json.loads(path.read_text())
    policy = groupgate.Policy.from_file(ROOT / vector["policy"])
    decision = policy.evaluate(vector["request"], vector["facts"], vector["now"])
    assert decision.to_dict() == vector["decision"]
    expect = vector["expect"]
    if "outcome" in expect:
        assert decision.outcome == expect["outcome"]
        assert decision.outcome.value == expect["outcome"]
    if "group" in expect:
        assert (decision.group.key if decision.group else "") == expect["group"]
    if "stages" in expect:
        assert [s.name for s in decision.stages] == expect["stages"]
    for code in expect.get("codes", []):
        assert decision.has_reason(code), (code, decision.codes)
    for code in expect.get("absent_codes", []):
        assert not decision.has_reason(code)


@pytest.mark.parametrize("path", VECTORS[:3], ids=[p.stem for p in VECTORS[:3]])
def test_typed_inputs_decide_like_dicts(path: Path) -> None:
    vector: Dict[str, Any] = json.loads(path.read_text())
    policy = groupgate.Policy.from_file(ROOT / vector["policy"])
    request = groupgate.Request.from_dict(vector["request"])
    facts = groupgate.Facts.from_dict(vector["facts"])
    typed = policy.evaluate(request, facts, vector["now"])
    plain = policy.evaluate(vector["request"], vector["facts"], vector["now"])
    assert typed == plain
    assert typed.to_json() == plain.to_json()
