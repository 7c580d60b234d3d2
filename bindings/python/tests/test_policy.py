"""Policy loading, linting, resolving and deciding, with the errors a caller
gets for bad input."""

from __future__ import annotations

import json
import subprocess
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List

import pytest

import groupgate
from conftest import ROOT, example, groupgate_binary

NOW = "2026-11-25T10:00:00Z"
FINANCE_BI = {
    "ticket": "RITM1",
    "requester": "ada.lovelace@contoso.com",
    "target": "ada.lovelace@contoso.com",
    "resource": "Access to Finance BI",
}


@pytest.fixture(scope="module")
def policy() -> groupgate.Policy:
    return groupgate.Policy.from_file(example("policy.yaml"))


@pytest.fixture(scope="module")
def directory() -> groupgate.DirectorySnapshot:
    return groupgate.DirectorySnapshot.from_file(example("directory.yaml"))


def test_finance_bi_needs_the_manager_and_the_data_owner(
    policy: groupgate.Policy, directory: groupgate.DirectorySnapshot
) -> None:
    decision = policy.evaluate_with_snapshot(FINANCE_BI, directory, NOW)
    assert decision.outcome is groupgate.Outcome.NEEDS_APPROVAL
    assert decision.outcome == "needs_approval"
    assert decision.is_allowed
    assert decision.group is not None and decision.group.key == "GRP-FINANCE-BI-READ"
    assert "financial-data" in decision.group.tags
    assert [s.name for s in decision.stages] == ["manager", "data-owner"]
    assert [a.name for a in decision.stages[0].approvers] == ["grace.hopper@contoso.com"]
    assert decision.expiry is not None and decision.expiry.max_duration_seconds == 180 * 86400
    assert decision.policy_digest == policy.digest
    assert decision.evaluated_at == datetime(2026, 11, 25, 10, tzinfo=timezone.utc)
    stage = decision.reasons[1]
    assert stage.code == "STAGE_REQUIRED" and stage.effect == "require"
    assert stage.details == {"required": "1", "stage": "manager"}
    assert "manager" in stage.message


def test_the_same_json_as_groupgate_check_byte_for_byte(
    policy: groupgate.Policy, directory: groupgate.DirectorySnapshot
) -> None:
    request_file = example("requests/finance-bi.yaml")
    out = subprocess.run(
        [groupgate_binary(), "check", "--policy", str(example("policy.yaml")),
         "--request", str(request_file), "--facts", str(example("directory.yaml")),
         "--now", NOW, "--json"],
        capture_output=True, text=True, check=True,
    ).stdout
    request = groupgate.Request.from_dict(_yaml_request(request_file))
    decision = policy.evaluate_with_snapshot(request, directory, NOW)
    assert decision.to_json(indent=2) + "\n" == out


def _yaml_request(path: Path) -> Dict[str, Any]:
    # The request file is flat YAML of strings; read it without a YAML library.
    fields: Dict[str, Any] = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip().strip('"').strip("'")
    return fields


def test_dates_times_and_typed_requests(policy: groupgate.Policy) -> None:
    facts = {"requester": None}
    when = datetime(2026, 11, 25, 10, tzinfo=timezone.utc)
    a = policy.evaluate(FINANCE_BI, facts, when)
    b = policy.evaluate(groupgate.Request(**FINANCE_BI), groupgate.Facts.from_dict(facts), NOW)
    assert a == b
    assert a.outcome is groupgate.Outcome.DENY
    with pytest.raises(groupgate.InvalidRequest) as e:
        policy.evaluate(FINANCE_BI, facts, datetime(2026, 11, 25, 10))  # naive
    assert e.value.field == "now"
    with pytest.raises(groupgate.InvalidRequest, match="RFC 3339"):
        policy.evaluate(FINANCE_BI, facts, "tomorrow")


def test_wrong_shapes_name_the_field(policy: groupgate.Policy) -> None:
    with pytest.raises(groupgate.InvalidRequest) as e:
        policy.evaluate({**FINANCE_BI, "ticket": 42}, {}, NOW)
    assert e.value.field == "ticket"
    assert isinstance(e.value, groupgate.GroupgateError)
    with pytest.raises(groupgate.InvalidRequest) as e:
        policy.evaluate({k: v for k, v in FINANCE_BI.items() if k != "target"}, {}, NOW)
    assert "target" in str(e.value)
    with pytest.raises(groupgate.InvalidRequest) as e:
        policy.evaluate(FINANCE_BI, {"target": {"id": "x", "upn": "y", "account_enabled": "yes"}}, NOW)
    assert e.value.field == "target.account_enabled"
    with pytest.raises(groupgate.InvalidRequest):
        policy.evaluate(FINANCE_BI, ["not", "facts"], NOW)


def test_a_broken_policy_names_file_line_column_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "version: 1\ngroups:\n  - id: G\n    object_id: o1\n    managed_via_itsm: true\n"
        "catalog:\n  - {name: App, group: NOPE}\n"
    )
    with pytest.raises(groupgate.PolicyError) as e:
        groupgate.Policy.from_file(bad)
    err = e.value
    assert err.file == str(bad)
    assert err.line == 7 and err.column is not None
    assert err.field == "catalog[0].group"
    assert err.code == "unknown-group"
    assert any(d["code"] == "unknown-group" for d in err.diagnostics)
    with pytest.raises(groupgate.PolicyError) as e:
        groupgate.Policy.from_yaml("version: 1\ngroups: [", "inline.yaml")
    assert e.value.file == "inline.yaml" and e.value.line is not None
    with pytest.raises(groupgate.InputError) as ie:
        groupgate.Policy.from_file(tmp_path / "missing.yaml")
    assert ie.value.path.endswith("missing.yaml")


def test_hostile_policy_text_is_refused_not_crashing() -> None:
    deep = "- " * 5000 + "x\n"
    with pytest.raises(groupgate.PolicyError) as e:
        groupgate.Policy.from_yaml(deep)
    assert "depth" in str(e.value) or "nesting" in str(e.value)
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefg", "bcdefgh")
    )
    with pytest.raises(groupgate.PolicyError):
        groupgate.Policy.from_yaml(bomb)


SMALL_YAML = """version: 1
groups:
  - id: GRP-TEAM-ALPHA
    object_id: 00000000-0000-0000-0000-0000000000a1
    managed_via_itsm: true
    approval:
      - name: manager
        approvers: [manager]
catalog:
  - name: Team Alpha
    group: GRP-TEAM-ALPHA
"""

SMALL_JSON = {
    "version": 1,
    "groups": [{
        "id": "GRP-TEAM-ALPHA",
        "object_id": "00000000-0000-0000-0000-0000000000a1",
        "managed_via_itsm": True,
        "approval": [{"name": "manager", "approvers": ["manager"]}],
    }],
    "catalog": [{"name": "Team Alpha", "group": "GRP-TEAM-ALPHA"}],
}


def test_lint_resolve_and_json(policy: groupgate.Policy) -> None:
    warnings = policy.lint()
    assert [w.code for w in warnings] == ["catalog-unmanaged-group"]
    assert warnings[0].severity == "warning"
    located = groupgate.lint_text(example("policy.yaml").read_text())
    assert located[0].code == "catalog-unmanaged-group" and located[0].line == 129
    resolved = policy.resolve(FINANCE_BI)
    assert resolved["status"] == "resolved" and resolved["group"] == "GRP-FINANCE-BI-READ"
    assert policy.resolve({**FINANCE_BI, "resource": "Quantum Flux"})["status"] == "unresolved"
    # The digest is of the document, whatever format it was written in.
    a = groupgate.Policy.from_yaml(SMALL_YAML)
    b = groupgate.Policy.from_json(json.dumps(SMALL_JSON))
    assert a.digest == b.digest and a.digest.startswith("sha256:")
    needs = a.fact_needs({**FINANCE_BI, "resource": "Team Alpha"})
    assert needs["group"] == "00000000-0000-0000-0000-0000000000a1"


def test_example_policy_tests_and_a_diff() -> None:
    report = groupgate.test_policy(example("policy.yaml"))
    assert report.ok and report.failed == 0 and report.passed == len(report.results) >= 8
    diff = groupgate.diff_policies(
        example("policy.yaml"), example("policy-proposed.yaml"), example("history.jsonl"),
        example("directory.yaml"),
    )
    assert diff.total > 0 and diff.changes
    change = diff.changes[0]
    assert change.changed and change.old != change.new
    with pytest.raises(groupgate.InputError):
        groupgate.diff_policies(
            example("policy.yaml"), example("policy.yaml"), example("policy.yaml")
        )


def test_threads_evaluate_at_once(policy: groupgate.Policy, directory: groupgate.DirectorySnapshot) -> None:
    expected = policy.evaluate_with_snapshot(FINANCE_BI, directory, NOW)
    results: List[bool] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(300):
            d = policy.evaluate_with_snapshot(FINANCE_BI, directory, NOW)
            with lock:
                results.append(d == expected)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2400 and all(results)


def test_evaluate_many_equals_one_by_one(policy: groupgate.Policy, directory: groupgate.DirectorySnapshot) -> None:
    facts = groupgate.Facts.from_dict({})
    cases = [({**FINANCE_BI, "ticket": f"R{i}", "resource": r}, facts)
             for i, r in enumerate(["Finance BI", "Team Alpha", "nothing", "HR Portal"])]
    many = policy.evaluate_many(cases, NOW)
    one = [policy.evaluate(r, f, NOW) for r, f in cases]
    assert many == one
