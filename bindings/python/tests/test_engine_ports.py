"""The engine over ports written in Python: whole workflows with their
memberships, ticket notes and states, notices and audit trail; async ports;
and failures raised by a port, classified and handled."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, Dict, List

import pytest

import groupgate
from conftest import example
from world import ADA, FINANCE, START, Approvals, AsyncDirectory, Clock, Directory, Tickets, finance_bi


def make(directory: Directory | None = None, store: Path | None = None):  # type: ignore[no-untyped-def]
    policy = groupgate.Policy.from_file(example("policy.yaml"))
    clock = Clock(START)
    d = directory or Directory()
    t, a = Tickets(), Approvals()
    engine = groupgate.Engine(policy, directory=d, tickets=t, approvals=a, clock=clock, seed=7, store=store)
    return engine, d, t, a, clock


def verify_trail(engine: groupgate.Engine, tmp_path: Path) -> List[Dict[str, Any]]:
    records = engine.audit_trail()
    path = tmp_path / "trail.jsonl"
    path.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records))
    report = groupgate.audit.verify(path)
    assert report.records == len(records)
    return records


def test_finance_bi_through_python_ports(tmp_path: Path) -> None:
    engine, directory, tickets, approvals, clock = make()
    tickets.open(finance_bi())
    wf = engine.process_ticket("RITM1")
    assert wf.phase == "awaiting_approval" and wf.stage == 0
    assert tickets.state["RITM1"] == "approval_required"
    assert [a["name"] for a in approvals.asks[0]["approvers"]] == ["grace.hopper@contoso.com"]

    # Ada approving her own access does not count, and says why.
    outcome = engine.record_approval("RITM1", approver="ada.lovelace@contoso.com", verdict="approve")
    assert not outcome.counted
    assert outcome.refusal is not None and "own" in outcome.refusal
    # Grace, then Dora (asked next), approve; the access is granted.
    clock.advance(minutes=5)
    outcome = engine.record_approval("RITM1", approver="grace.hopper@contoso.com", verdict="approve",
                                     channel="teams", comment="fine")
    assert outcome.counted and outcome.workflow.stage == 1
    assert [a["name"] for a in approvals.asks[-1]["approvers"]] == ["dora.data@contoso.com"]
    clock.advance(minutes=5)
    outcome = engine.record_approval("RITM1", approver="dora.data@contoso.com", verdict="approve", channel="slack")
    assert outcome.counted
    assert outcome.workflow.phase == "active"
    assert directory.is_member(FINANCE, ADA)
    assert tickets.state["RITM1"] == "closed_complete"
    notes = "\n".join(tickets.notes["RITM1"])
    assert "refused an answer from `ada.lovelace@contoso.com`" in notes
    assert "approval record: grace.hopper@contoso.com approve manager via teams" in notes
    assert "approval record: dora.data@contoso.com approve data-owner via slack" in notes
    assert sum("executed at" in n for n in tickets.notes["RITM1"]) == 1
    assert approvals.notices[-1]["kind"] == "success"
    # Its index row and its history.
    rows = engine.workflows(open=True)
    assert [r["id"] for r in rows] == ["RITM1"] and rows[0]["phase"] == "active"
    assert rows[0]["next_wake"] > "2027"  # the 180-day cap
    records = verify_trail(engine, tmp_path)
    answered = [r for r in records if r.get("event", {}).get("event") == "answered"]
    assert len(answered) == 3
    # The same ticket again is the same workflow.
    assert engine.process_ticket("RITM1").phase == "active"


def test_offboarding_through_python_ports(tmp_path: Path) -> None:
    engine, directory, tickets, approvals, clock = make()
    tickets.open(finance_bi())
    engine.process_ticket("RITM1")
    engine.record_approval("RITM1", approver="grace.hopper@contoso.com", verdict="approve")
    engine.record_approval("RITM1", approver="dora.data@contoso.com", verdict="approve")
    assert directory.is_member(FINANCE, ADA)
    report = engine.offboard("ada.lovelace@contoso.com", operator="hr")
    assert [r["group"] for r in report["removed"]] == [FINANCE]
    assert report["failed"] == [] and report["incomplete"] == []
    assert not directory.is_member(FINANCE, ADA)
    assert engine.workflow("RITM1").phase == "removed"
    verify_trail(engine, tmp_path)


def test_async_ports_on_the_callers_loop_and_on_a_private_one(tmp_path: Path) -> None:
    # The async API: the ports' coroutines run on the caller's loop.
    engine, directory, tickets, approvals, clock = make(AsyncDirectory())
    tickets.open(finance_bi())

    async def flow() -> groupgate.Workflow:
        loop = asyncio.get_running_loop()
        wf = await engine.aprocess_ticket("RITM1")
        assert wf.phase == "awaiting_approval"
        await engine.arecord_approval("RITM1", approver="grace.hopper@contoso.com", verdict="approve")
        outcome = await engine.arecord_approval("RITM1", approver="dora.data@contoso.com", verdict="approve")
        assert asyncio.get_running_loop() is loop
        return outcome.workflow

    assert asyncio.run(flow()).phase == "active"
    assert directory.is_member(FINANCE, ADA)
    assert "user" in directory.calls and "add_member" in directory.calls
    # The blocking API with the same async ports: a private loop.
    tickets.open({**finance_bi("RITM2"), "resource": "Team Alpha",
                  "requester": "pat.lead@contoso.com", "target": "carl.contractor@contoso.com",
                  "end_date": "2027-01-31"})
    wf = engine.process_ticket("RITM2")
    assert wf.phase == "awaiting_approval"


def test_a_transient_failure_is_retried_after_its_retry_after(tmp_path: Path) -> None:
    engine, directory, tickets, approvals, clock = make()
    tickets.open(finance_bi())
    engine.process_ticket("RITM1")
    engine.record_approval("RITM1", approver="grace.hopper@contoso.com", verdict="approve")
    directory.fail["add_member"] = groupgate.TransientError("throttled")
    setattr(directory.fail["add_member"], "retry_after", 30)
    outcome = engine.record_approval("RITM1", approver="dora.data@contoso.com", verdict="approve")
    assert outcome.workflow.phase == "awaiting_retry"
    assert not directory.is_member(FINANCE, ADA)
    rows = engine.workflows(open=True)
    assert "throttled" in rows[0]["last_error"] and "transient" in rows[0]["last_error"]
    # Nothing before the Retry-After; then the retry succeeds.
    clock.advance(seconds=10)
    engine.run_due()
    assert not directory.is_member(FINANCE, ADA)
    clock.advance(seconds=60)
    summary = engine.run_due()
    assert summary["fired"] >= 1
    assert engine.workflow("RITM1").phase == "active"
    assert directory.is_member(FINANCE, ADA)
    assert directory.calls.count("add_member") == 2
    records = verify_trail(engine, tmp_path)
    failed = [r for r in records if r.get("event", {}).get("event") == "effect_failed"]
    assert len(failed) == 1 and failed[0]["event"]["error"]["class"] == {"class": "transient", "retry_after_seconds": 30}


def test_a_port_that_breaks_is_permanent_and_a_person_is_asked(tmp_path: Path) -> None:
    engine, directory, tickets, approvals, clock = make()
    tickets.open(finance_bi())
    engine.process_ticket("RITM1")
    engine.record_approval("RITM1", approver="grace.hopper@contoso.com", verdict="approve")
    directory.fail["add_member"] = ValueError("the directory client is misconfigured")
    outcome = engine.record_approval("RITM1", approver="dora.data@contoso.com", verdict="approve")
    assert outcome.workflow.phase in ("failed", "manual_intervention")
    assert not directory.is_member(FINANCE, ADA)
    notes = "\n".join(tickets.notes["RITM1"])
    assert "the directory port's `add_member` raised ValueError: the directory client is misconfigured" in notes
    assert tickets.state["RITM1"] == "manual_intervention"
    assert approvals.notices[-1]["kind"] == "failure"
    verify_trail(engine, tmp_path)


def test_errors_reach_the_caller_as_groupgate_exceptions(tmp_path: Path) -> None:
    engine, directory, tickets, approvals, clock = make()
    with pytest.raises(groupgate.NotFoundError) as e:
        engine.process_ticket("RITM404")
    assert "tickets port's `read_request` raised NotFoundError" in str(e.value)
    tickets.fail["read_request"] = ConnectionError("snow unreachable")
    tickets.open(finance_bi())
    with pytest.raises(groupgate.TransientError):
        engine.process_ticket("RITM1")
    with pytest.raises(groupgate.WorkflowError) as we:
        engine.workflow("RITM404")
    assert we.value.workflow == "RITM404"
    with pytest.raises(groupgate.InvalidRequest):
        engine.record_approval("RITM1", approver="x", verdict="maybe")  # type: ignore[arg-type]

    with pytest.raises(groupgate.StoreError):
        groupgate.Engine(groupgate.Policy.from_file(example("policy.yaml")), directory=Directory(),
                         tickets=Tickets(), approvals=Approvals(), store=tmp_path / "no" / "such" / "dir.db")


def test_a_port_answering_nonsense_is_refused_with_what_was_wrong() -> None:
    class Garbled(Directory):
        def user(self, key: str) -> Any:
            return {"id": 42}

    engine, directory, tickets, approvals, clock = make(Garbled())
    tickets.open(finance_bi())
    wf = engine.process_ticket("RITM1")
    assert wf.phase == "manual_intervention"
    notes = "\n".join(tickets.notes["RITM1"])
    assert "the directory port's `user` answered something groupgate cannot read" in notes
    assert engine.workflows()[0]["last_error"].endswith("(invalid)")


def test_a_store_file_keeps_workflows_across_engines(tmp_path: Path) -> None:
    store = tmp_path / "groupgate.db"
    engine, directory, tickets, approvals, clock = make(store=store)
    tickets.open(finance_bi())
    engine.process_ticket("RITM1")
    engine.record_approval("RITM1", approver="grace.hopper@contoso.com", verdict="approve")
    del engine
    policy = groupgate.Policy.from_file(example("policy.yaml"))
    again = groupgate.Engine(policy, directory=directory, tickets=tickets, approvals=approvals,
                             clock=clock, store=store)
    assert again.workflow("RITM1").stage == 1
    outcome = again.record_approval("RITM1", approver="dora.data@contoso.com", verdict="approve")
    assert outcome.workflow.phase == "active"
