"""An in-memory world written in Python: a directory, a ticket system and an
approval channel that an `Engine` runs over, as a caller's own ports would
(the shapes are those of docs/python.md). Each can be made to fail."""

from __future__ import annotations

import asyncio
import copy
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional, Set

import groupgate
from conftest import example


class Clock:
    """Time the test moves."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Directory:
    """The example directory, as a directory port."""

    def __init__(self) -> None:
        snapshot = groupgate.DirectorySnapshot.from_file(example("directory.yaml")).to_dict()
        self.users: List[Dict[str, Any]] = snapshot["users"]
        self.groups: Dict[str, Dict[str, Any]] = {g["id"].lower(): g for g in snapshot["groups"]}
        self.members: Dict[str, Set[str]] = {
            gid: {self._id(m) for m in g.get("members", [])} for gid, g in self.groups.items()
        }
        self.calls: List[str] = []
        self.fail: Dict[str, BaseException] = {}

    def _id(self, key: str) -> str:
        user = self._find(key)
        return user["id"].lower() if user else key.lower()

    def _find(self, key: str) -> Optional[Dict[str, Any]]:
        k = key.lower()
        return next((u for u in self.users if u["id"].lower() == k or u["upn"].lower() == k), None)

    def _check(self, method: str) -> None:
        self.calls.append(method)
        if method in self.fail:
            raise self.fail.pop(method)

    @staticmethod
    def _user(u: Dict[str, Any]) -> Dict[str, Any]:
        out = {k: u[k] for k in ("id", "upn", "display_name", "employee_type") if u.get(k) is not None}
        out["enabled"] = u.get("enabled", True)
        out["user_type"] = u.get("user_type", "member")
        return out

    def user(self, key: str) -> Optional[Dict[str, Any]]:
        self._check("user")
        u = self._find(key)
        return self._user(u) if u else None

    def manager(self, user: str) -> Optional[Dict[str, Any]]:
        self._check("manager")
        u = self._find(user)
        boss = self._find(u["manager"]) if u and u.get("manager") else None
        return self._user(boss) if boss else None

    def group(self, group: str) -> Optional[Dict[str, Any]]:
        self._check("group")
        g = self.groups.get(group.lower())
        if g is None:
            return None
        return {k: v for k, v in g.items() if k not in ("members", "member_groups")}

    def membership(self, group: str, user: str) -> str:
        self._check("membership")
        return "direct" if user.lower() in self.members.get(group.lower(), set()) else "not_member"

    def member_of(self, user: str, groups: List[str]) -> List[str]:
        self._check("member_of")
        return [g for g in groups if user.lower() in self.members.get(g.lower(), set())]

    def direct_groups(self, user: str) -> List[str]:
        self._check("direct_groups")
        return [g for g, m in self.members.items() if user.lower() in m]

    def add_member(self, group: str, user: str) -> Dict[str, Any]:
        self._check("add_member")
        members = self.members.setdefault(group.lower(), set())
        already = user.lower() in members
        members.add(user.lower())
        return {"already": already, "request_ids": [f"py-{len(self.calls)}"]}

    def remove_member(self, group: str, user: str) -> Dict[str, Any]:
        self._check("remove_member")
        members = self.members.setdefault(group.lower(), set())
        already = user.lower() not in members
        members.discard(user.lower())
        return {"already": already, "request_ids": [f"py-{len(self.calls)}"]}

    def is_member(self, group: str, user: str) -> bool:
        return user.lower() in self.members.get(group.lower(), set())


class AsyncDirectory(Directory):
    """The same directory with `async def` methods."""

    async def user(self, key: str) -> Optional[Dict[str, Any]]:  # type: ignore[override]
        await asyncio.sleep(0)
        return Directory.user(self, key)

    async def add_member(self, group: str, user: str) -> Dict[str, Any]:  # type: ignore[override]
        await asyncio.sleep(0)
        return Directory.add_member(self, group, user)


class Tickets:
    """Tickets with notes written once per idempotency key."""

    def __init__(self) -> None:
        self.requests: Dict[str, Dict[str, Any]] = {}
        self.state: Dict[str, str] = {}
        self.notes: Dict[str, List[str]] = {}
        self.keys: Set[str] = set()
        self.fail: Dict[str, BaseException] = {}

    def open(self, request: Dict[str, Any]) -> None:
        self.requests[request["ticket"]] = copy.deepcopy(request)

    def read_request(self, ticket: str) -> Dict[str, Any]:
        if "read_request" in self.fail:
            raise self.fail.pop("read_request")
        if ticket not in self.requests:
            raise groupgate.NotFoundError(f"no ticket {ticket}")
        return self.requests[ticket]

    def update(self, ticket: str, update: Dict[str, Any]) -> None:
        if "update" in self.fail:
            raise self.fail.pop("update")
        if update["idempotency_key"] in self.keys:
            return
        self.keys.add(update["idempotency_key"])
        if update.get("state"):
            self.state[ticket] = update["state"]
        self.notes.setdefault(ticket, []).append(update["work_note"])

    def record_approval(self, ticket: str, decision: Dict[str, Any]) -> None:
        if decision["idempotency_key"] in self.keys:
            return
        self.keys.add(decision["idempotency_key"])
        self.notes.setdefault(ticket, []).append(
            f"approval record: {decision['approver']} {decision['verdict']} {decision['stage']} via {decision['channel']}"
        )


class Approvals:
    """Asks kept, answers given by the test, notices posted."""

    def __init__(self) -> None:
        self.asks: List[Dict[str, Any]] = []
        self.given: Dict[str, List[Dict[str, Any]]] = {}
        self.cancelled: List[str] = []
        self.notices: List[Dict[str, Any]] = []

    def ask(self, ask: Dict[str, Any]) -> Dict[str, Any]:
        self.asks.append(ask)
        return {"references": [f"ask-{len(self.asks)}"]}

    def answers(self, ticket: str) -> List[Dict[str, Any]]:
        return self.given.get(ticket, [])

    def cancel(self, ticket: str, stage: str, reason: str) -> None:
        self.cancelled.append(f"{ticket}/{stage}: {reason}")

    def notify(self, notice: Dict[str, Any]) -> None:
        self.notices.append(notice)

    def answer(self, ticket: str, approver: str, verdict: str, at: datetime) -> None:
        ask = [a for a in self.asks if a["ticket"] == ticket][-1]
        self.given.setdefault(ticket, []).append({
            "stage": ask["stage"], "approver": approver, "verdict": verdict,
            "channel": "python-chat", "at": at.isoformat(), "binding": ask["binding"],
        })


START = datetime(2026, 11, 25, 10, tzinfo=timezone.utc)
ADA = "11111111-0000-0000-0000-00000000000a"
FINANCE = "aaaaaaaa-0000-0000-0000-000000000001"


def finance_bi(ticket: str = "RITM1") -> Dict[str, Any]:
    return {
        "ticket": ticket,
        "requester": "ada.lovelace@contoso.com",
        "target": "ada.lovelace@contoso.com",
        "resource": "Access to Finance BI",
        "justification": "quarter-end reporting",
    }
