"""Audit trails from Python: a genuine trail verifies; an edited, cut or
re-ordered one raises AuditError naming where."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List

import pytest

import groupgate
from test_engine_ports import make
from world import finance_bi


def trail(tmp_path: Path) -> List[Dict[str, Any]]:
    engine, directory, tickets, approvals, clock = make()
    tickets.open(finance_bi())
    engine.process_ticket("RITM1")
    engine.record_approval("RITM1", approver="grace.hopper@contoso.com", verdict="approve")
    engine.record_approval("RITM1", approver="dora.data@contoso.com", verdict="approve")
    return engine.audit_trail()


def write(path: Path, records: List[Dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_a_genuine_trail_verifies_with_its_head(tmp_path: Path) -> None:
    records = trail(tmp_path)
    path = write(tmp_path / "t.jsonl", records)
    head = f"{records[-1]['seq']}:{records[-1]['hash']}"
    report = groupgate.audit.verify(path, expect_heads=[head])
    assert report.records == len(records) and report.anchors_checked == 1
    assert str(report.head) == head
    anchors = tmp_path / "anchors.txt"
    anchors.write_text(f"# from the ticket\n[groupgate audit anchor seq={records[2]['seq']} hash={records[2]['hash']}]\n")
    assert groupgate.audit.verify(path, anchors=anchors).anchors_checked == 1


def test_tampering_is_caught_where_it_happened(tmp_path: Path) -> None:
    records = trail(tmp_path)
    edited = [dict(r) for r in records]
    edited[3]["at"] = "2030-01-01T00:00:00Z"
    with pytest.raises(groupgate.AuditError) as e:
        groupgate.audit.verify(write(tmp_path / "edited.jsonl", edited))
    assert e.value.line == 4 and e.value.seq == records[3]["seq"]
    swapped = records[:2] + [records[3], records[2]] + records[4:]
    with pytest.raises(groupgate.AuditError):
        groupgate.audit.verify(write(tmp_path / "swapped.jsonl", swapped))
    head = f"{records[-1]['seq']}:{records[-1]['hash']}"
    cut = write(tmp_path / "cut.jsonl", records[:-2])
    groupgate.audit.verify(cut)  # a cut trail still chains...
    with pytest.raises(groupgate.AuditError, match="cut"):
        groupgate.audit.verify(cut, expect_heads=[head])  # ...but its anchor says otherwise
    with pytest.raises(groupgate.AuditError, match="no records"):
        groupgate.audit.verify(write(tmp_path / "empty.jsonl", []))
    with pytest.raises(groupgate.InvalidRequest):
        groupgate.audit.verify(cut, expect_heads=["not-a-head"])
