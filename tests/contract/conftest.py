"""Starts groupgate's emulators (`groupgate sim graph` / `sim servicenow`) on
127.0.0.1 for the contract tests, and stops them afterwards."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]


def groupgate_binary() -> str:
    binary = os.environ.get("GROUPGATE_BIN", str(ROOT / "target" / "debug" / "groupgate"))
    if not Path(binary).exists():
        pytest.fail(f"{binary} is missing: build it with `cargo build -p groupgate-cli`")
    return binary


@dataclass
class Emulator:
    """A running emulator and the settings it printed (`NAME=value` lines)."""

    process: subprocess.Popen[str]
    settings: dict[str, str] = field(default_factory=dict)


def start(args: list[str], last_line: str) -> Emulator:
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


def stop(emulator: Emulator) -> None:
    emulator.process.kill()
    emulator.process.wait(timeout=10)


@pytest.fixture(scope="module")
def graph() -> Iterator[Emulator]:
    emulator = start(
        ["graph", "--tenant", "examples/directory.yaml", "--client-secret", "contract-secret"],
        "(the client secret",
    )
    yield emulator
    stop(emulator)


@pytest.fixture(scope="module")
def servicenow() -> Iterator[Emulator]:
    emulator = start(
        ["servicenow", "--data", "examples/servicenow.yaml", "--password", "contract-pass"],
        "(the password",
    )
    yield emulator
    stop(emulator)
