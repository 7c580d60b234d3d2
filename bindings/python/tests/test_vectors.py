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


def _proxy(value: Any) -> Any:
    """The same data as read-only mappings: not `dict`, so the general reader
    reads it instead of the field-by-field one."""
    from types import MappingProxyType

    if isinstance(value, dict):
        return MappingProxyType({k: _proxy(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_proxy(v) for v in value]
    return value


@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
def test_both_readers_read_the_same(path: Path) -> None:
    vector: Dict[str, Any] = json.loads(path.read_text())
    fast = groupgate.Facts.from_dict(vector["facts"])
    general = groupgate.Facts.from_dict(_proxy(vector["facts"]))
    assert fast == general
    assert fast.to_dict() == general.to_dict()
    assert groupgate.Request.from_dict(vector["request"]) == groupgate.Request.from_dict(
        _proxy(vector["request"])
    )


def test_unexpected_keys_are_errors_whichever_reader() -> None:
    user = {"id": "u1", "upn": "u1@contoso.com", "enabled": True, "user_type": "Member"}
    with pytest.raises(groupgate.InvalidRequest) as e:
        groupgate.Facts.from_dict({"requester": {**user, "favourite_colour": "blue"}})
    assert e.value.field == "requester.favourite_colour"
    assert "favourite_colour" in str(e.value)
    with pytest.raises(groupgate.InvalidRequest) as e:
        groupgate.Facts.from_dict({"requester": {**user, "user_type": "Robot"}})
    assert e.value.field == "requester.user_type"
    with pytest.raises(groupgate.InvalidRequest):
        groupgate.Request.from_dict({"ticket": "T", "requester": "a", "target": "b", "resource": "r", "extra": 1})
