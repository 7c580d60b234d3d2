"""A whole ticket through the real Microsoft Graph and ServiceNow adapters
and the SQLite store, against groupgate's emulators (started here), from a
worker settings file — from the library and from the example script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import groupgate
from conftest import ROOT, Emulator, graph_members, settings_file, snow_get

FINANCE = "aaaaaaaa-0000-0000-0000-000000000001"
ADA = "11111111-0000-0000-0000-00000000000a"


def test_a_ritm_from_servicenow_to_graph(
    tmp_path: Path, graph: Emulator, servicenow: Emulator, service_env: None
) -> None:
    settings = settings_file(tmp_path, graph, servicenow)
    engine = groupgate.Engine.from_config(settings)
    wf = engine.process_ticket("RITM0010001")
    assert wf.phase == "awaiting_approval"
    assert wf.decision is not None and wf.decision.group is not None
    assert wf.decision.group.key == "GRP-FINANCE-BI-READ"
    # ServiceNow holds the approval record of the first stage.
    ritm = snow_get(servicenow, "sc_req_item", "number=RITM0010001")[0]
    asked = snow_get(servicenow, "sysapproval_approver", f"sysapproval={ritm['sys_id']}")
    assert len(asked) == 1 and asked[0]["state"] == "requested"

    # The approvals arrive from chat and are written back to ServiceNow.
    first = engine.record_approval("RITM0010001", approver="grace.hopper@contoso.com",
                                   verdict="approve", channel="teams")
    assert first.counted and first.workflow.stage == 1
    second = engine.record_approval("RITM0010001", approver="dora.data@contoso.com",
                                    verdict="approve", channel="teams")
    assert second.counted, second.refusal
    assert second.workflow.phase == "active"
    assert ADA in graph_members(graph, FINANCE)

    ritm = snow_get(servicenow, "sc_req_item", "number=RITM0010001")[0]
    assert ritm["state"] == "3"  # closed complete
    notes = [j["value"] for j in snow_get(servicenow, "sys_journal_field",
                                         f"element_id={ritm['sys_id']}^element=work_notes")]
    assert any("executed at" in n for n in notes), notes
    assert len(notes) == len(set(notes)), "a note written twice"
    records = snow_get(servicenow, "sysapproval_approver", f"sysapproval={ritm['sys_id']}")
    assert sorted(r["state"] for r in records) == ["approved", "approved"]

    # The store file has it; the trail verifies.
    rows = engine.workflows()
    assert [(r["id"], r["phase"]) for r in rows] == [("RITM0010001", "active")]
    trail = tmp_path / "trail.jsonl"
    subprocess.run(
        [os.environ.get("GROUPGATE_BIN", str(ROOT / "target" / "debug" / "groupgate")),
         "audit", "export", "--config", str(settings), "--out", str(trail)],
        check=True, capture_output=True,
    )
    report = groupgate.audit.verify(trail)
    assert report.records == len(engine.audit_trail())
    replay = groupgate.audit.replay(trail, tmp_path / "policy.yaml")
    assert replay.replayed >= 2 and replay.differences == []


def test_the_example_script_processes_a_ticket(
    tmp_path: Path, graph: Emulator, servicenow: Emulator, service_env: None
) -> None:
    settings = settings_file(tmp_path, graph, servicenow)
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "python" / "process_ticket.py"), str(settings),
         "RITM0010001", "--approve", "grace.hopper@contoso.com", "--approve", "dora.data@contoso.com"],
        capture_output=True, text=True, env=os.environ.copy(),
    )
    assert out.returncode == 0, out.stderr
    assert "RITM0010001: awaiting_approval" in out.stdout
    assert "decision: needs_approval (GRP-FINANCE-BI-READ)" in out.stdout
    assert out.stdout.strip().endswith("RITM0010001: active"), out.stdout
    assert ADA in graph_members(graph, FINANCE)


def test_bad_settings_and_missing_secrets_are_settings_errors(
    tmp_path: Path, graph: Emulator, servicenow: Emulator, service_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_file(tmp_path, graph, servicenow)
    monkeypatch.delenv("GROUPGATE_GRAPH_CLIENT_SECRET")
    with pytest.raises(groupgate.SettingsError, match="GROUPGATE_GRAPH_CLIENT_SECRET"):
        groupgate.Engine.from_config(settings)
    bad = tmp_path / "bad.yaml"
    bad.write_text(settings.read_text() + "workers: {pass_seconds: 1}\n")
    with pytest.raises(groupgate.SettingsError, match="workers"):
        groupgate.Engine.from_config(bad)
