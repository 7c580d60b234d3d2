"""Process one ServiceNow ticket end to end with groupgate.

    GROUPGATE_GRAPH_CLIENT_SECRET=... GROUPGATE_SNOW_PASSWORD=... \
        python examples/python/process_ticket.py groupgate.yaml RITM0010001 \
        --approve grace.hopper@contoso.com --approve dora.data@contoso.com

Reads the RITM, decides it against the policy, asks the approvers, records
the approvals given on the command line (as a chat integration would), and
prints where the workflow stands and what the ticket says. The settings file
is the worker's (see docs/operations.md).
"""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional

import groupgate


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("settings", help="the worker's settings file")
    parser.add_argument("ticket", help="the RITM number, e.g. RITM0010001")
    parser.add_argument(
        "--approve", action="append", default=[], metavar="APPROVER",
        help="record an approval by this person (UPN); repeat for each stage",
    )
    args = parser.parse_args(argv)

    try:
        engine = groupgate.Engine.from_config(args.settings)
        workflow = engine.process_ticket(args.ticket)
        print(f"{workflow.ticket}: {workflow.phase}")
        decision = workflow.decision
        if decision is not None:
            print(f"  decision: {decision.outcome.value}", end="")
            print(f" ({decision.group.key})" if decision.group else "")
            for reason in decision.reasons:
                print(f"  - {reason.code}: {reason.message}")
        for approver in args.approve:
            outcome = engine.record_approval(
                args.ticket, approver=approver, verdict="approve", channel="script"
            )
            if outcome.counted:
                print(f"  approved by {approver}: now {outcome.workflow.phase}")
            else:
                print(f"  {approver}'s approval did not count: {outcome.refusal}")
        final = engine.workflow(args.ticket)
        print(f"{final.ticket}: {final.phase}")
        return 0 if final.phase in ("active", "completed", "awaiting_approval") else 1
    except groupgate.GroupgateError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
