"""The cost of `Policy.evaluate` from Python beside the native figure, on the
decision benchmark's mixed pool, measured in one run.

    scripts/test-all                   # once: builds the .venv
    .venv/bin/maturin build --release --manifest-path bindings/python/Cargo.toml --out target/wheels/bench
    .venv/bin/pip install --force-reinstall --no-deps target/wheels/bench/groupgate-*.whl
    .venv/bin/python bindings/python/benches/evaluate.py [ENTRIES]

It runs the native example `decision_pool` (release) for the pool and the
native time, then times, per decision (median over rounds of the mean over
the pool of 2,000): dicts converted on every call; typed `Request` and
`Facts` built once; and `evaluate_many` over the whole pool of dicts.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

import groupgate

ROOT = Path(__file__).resolve().parents[3]
ROUNDS = 21


def per_decision(run: Callable[[], None], count: int) -> float:
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter_ns()
        run()
        samples.append((time.perf_counter_ns() - start) / count)
    return statistics.median(samples)


def main() -> None:
    entries = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        native = json.loads(
            subprocess.run(
                ["cargo", "run", "--quiet", "--release", "-p", "groupgate-core",
                 "--example", "decision_pool", "--", tmp, str(entries)],
                cwd=ROOT, check=True, capture_output=True, text=True,
            ).stdout
        )
        policy = groupgate.Policy.from_file(Path(tmp) / "policy.yaml")
        pool: List[Dict[str, Any]] = json.loads((Path(tmp) / "pool.json").read_text())
    now = pool[0]["now"]
    assert all(c["now"] == now or c["now"] != now for c in pool)
    dicts = [(c["request"], c["facts"], c["now"]) for c in pool]
    typed = [(groupgate.Request.from_dict(r), groupgate.Facts.from_dict(f), n) for r, f, n in dicts]
    # Same decisions either way.
    assert all(policy.evaluate(*a) == policy.evaluate(*b) for a, b in zip(dicts[:50], typed[:50]))

    def run_dicts() -> None:
        for r, f, n in dicts:
            policy.evaluate(r, f, n)

    def run_typed() -> None:
        for r, f, n in typed:
            policy.evaluate(r, f, n)

    by_now: Dict[str, List[Any]] = {}
    for r, f, n in dicts:
        by_now.setdefault(n, []).append((r, f))

    def run_many() -> None:
        for n, cases in by_now.items():
            policy.evaluate_many(cases, n)

    count = len(pool)
    native_ns = float(native["native_ns_per_decision"])
    results = {
        "entries": entries,
        "native_ns": round(native_ns),
        "python_dicts_ns": round(per_decision(run_dicts, count)),
        "python_typed_ns": round(per_decision(run_typed, count)),
        "python_evaluate_many_dicts_ns": round(per_decision(run_many, count)),
    }
    for key in ("python_dicts_ns", "python_typed_ns", "python_evaluate_many_dicts_ns"):
        results[key.replace("_ns", "_ratio")] = round(results[key] / native_ns, 2)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
