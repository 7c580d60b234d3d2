"""Fixtures for the groupgate package's tests: the repository's example
files, and groupgate's Graph and ServiceNow emulators started on 127.0.0.1
(`groupgate sim graph|servicenow`) for tests of the real adapters."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

ROOT = Path(__file__).resolve().parents[3]
GRAPH_SECRET = "py-graph-secret"
SNOW_PASSWORD = "py-snow-password"


def groupgate_binary() -> str:
    binary = os.environ.get("GROUPGATE_BIN", str(ROOT / "target" / "debug" / "groupgate"))
    if not Path(binary).exists():
        pytest.fail(f"{binary} is missing: build it with `cargo build -p groupgate-cli`")
    return binary


@dataclass
class Emulator:
    """A running emulator and the settings it printed (`NAME=value` lines)."""

    process: "subprocess.Popen[str]"
    settings: Dict[str, str] = field(default_factory=dict)

    def url(self, key: str) -> str:
        return self.settings[key]


def _start(args: List[str], last_line: str) -> Emulator:
    process = subprocess.Popen(
        [groupgate_binary(), "sim", *args, "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    emulator = Emulator(process)
    assert process.stdout is not None
    for line in process.stdout:
        name, sep, value = line.strip().partition("=")
        if sep and name.startswith("GROUPGATE_"):
            emulator.settings[name] = value
        if line.startswith(last_line):
            break
    else:
        process.kill()
        pytest.fail(f"the emulator stopped before it was ready: {args}")
    return emulator


@pytest.fixture()
def graph() -> Iterator[Emulator]:
    emulator = _start(
        ["graph", "--tenant", "examples/directory.yaml", "--client-secret", GRAPH_SECRET],
        "(the client secret",
    )
    yield emulator
    emulator.process.kill()
    emulator.process.wait(timeout=10)


@pytest.fixture()
def servicenow() -> Iterator[Emulator]:
    emulator = _start(
        ["servicenow", "--data", "examples/servicenow.yaml", "--password", SNOW_PASSWORD],
        "(the password",
    )
    yield emulator
    emulator.process.kill()
    emulator.process.wait(timeout=10)


def wall_clock_policy(tmp: Path) -> Path:
    """The example policy with its business-hours window opened: these tests
    run on the wall clock, and must not wait for Monday morning."""
    text = (ROOT / "examples" / "policy.yaml").read_text()
    business_hours = "default_change_window: business-hours"
    assert business_hours in text, "the example policy no longer names its default window"
    path = tmp / "policy.yaml"
    path.write_text(text.replace(business_hours, "default_change_window: always"))
    return path


def settings_file(tmp: Path, graph: Emulator, servicenow: Emulator) -> Path:
    """A worker settings file for the example policy (its window opened, see
    `wall_clock_policy`) over both emulators."""
    g, s = graph.settings, servicenow.settings
    text = f"""policy: {wall_clock_policy(tmp)}
store: {{path: {tmp / 'groupgate.db'}, durability: normal}}
graph:
  tenant_id: {g['GROUPGATE_GRAPH_TENANT_ID']}
  client_id: {g['GROUPGATE_GRAPH_CLIENT_ID']}
  base_url: {g['GROUPGATE_GRAPH_BASE_URL']}
  authority_url: {g['GROUPGATE_GRAPH_AUTHORITY_URL']}
  allow_insecure_loopback: true
servicenow:
  instance_url: {s['GROUPGATE_SNOW_INSTANCE_URL']}
  user: {s['GROUPGATE_SNOW_USER']}
  allow_insecure_loopback: true
  catalog:
    Request access to application:
      resource: requested_resource
      end_date: end_date
      justification: justification
"""
    path = tmp / "groupgate.yaml"
    path.write_text(text)
    return path


@pytest.fixture()
def service_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The secrets the adapters read from the environment (only them)."""
    for name in list(os.environ):
        if name.startswith("GROUPGATE_GRAPH_") or name.startswith("GROUPGATE_SNOW_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("GROUPGATE_GRAPH_CLIENT_SECRET", GRAPH_SECRET)
    monkeypatch.setenv("GROUPGATE_SNOW_PASSWORD", SNOW_PASSWORD)


def snow_get(servicenow: Emulator, table: str, query: str) -> List[Dict[str, Any]]:
    """Rows of a ServiceNow table, through the Table API as any client reads them."""
    base = servicenow.settings["GROUPGATE_SNOW_INSTANCE_URL"]
    user = servicenow.settings["GROUPGATE_SNOW_USER"]
    url = f"{base}/api/now/table/{table}?" + urllib.parse.urlencode(
        {"sysparm_query": query, "sysparm_exclude_reference_link": "true"}
    )
    request = urllib.request.Request(url)
    token = base64.b64encode(f"{user}:{SNOW_PASSWORD}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(request, timeout=10) as answer:
        rows: List[Dict[str, Any]] = json.load(answer)["result"]
    return rows


def graph_members(graph: Emulator, group: str) -> List[str]:
    """A group's direct member ids, read through Graph as any client reads them."""
    g = graph.settings
    form = urllib.parse.urlencode(
        {
            "client_id": g["GROUPGATE_GRAPH_CLIENT_ID"],
            "client_secret": GRAPH_SECRET,
            "grant_type": "client_credentials",
            "scope": "https://graph.microsoft.com/.default",
        }
    ).encode()
    token_url = f"{g['GROUPGATE_GRAPH_AUTHORITY_URL']}/{g['GROUPGATE_GRAPH_TENANT_ID']}/oauth2/v2.0/token"
    with urllib.request.urlopen(urllib.request.Request(token_url, data=form), timeout=10) as answer:
        token = json.load(answer)["access_token"]
    request = urllib.request.Request(f"{g['GROUPGATE_GRAPH_BASE_URL']}/groups/{group}/members?$select=id")
    request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return [m["id"] for m in json.load(answer)["value"]]


def example(name: str) -> Path:
    return ROOT / "examples" / name


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


