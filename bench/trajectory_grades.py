#!/usr/bin/env python3
"""Figures for trajectory grading.

1. The grade of every recorded real-CLI session (tests/fixtures/trajectories/), replayed into a
   git workspace whose check turns green once the three modules of `feature-pr` exist: one row
   per CLI, one column per scenario, in the issue's order.
2. How long reading a trajectory takes from a session log as large as a long session writes:
   a claude-code stream of N tool calls (default 20,000, about 14 MB), read from the log file.

Usage: python bench/trajectory_grades.py [--calls 20000]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from rota.trajectory import HarnessOutput, read  # noqa: E402
from trajectory_replay import CLIS, SCENARIOS, load, replay  # noqa: E402

CHECK = "test -f app/parser.py && test -f app/formatter.py && test -f app/cli.py"


def grades() -> None:
    print(f"{'CLI':<12}" + "".join(f"{s:>15}" for s in SCENARIOS))
    for cli in CLIS:
        row = []
        for s in SCENARIOS:
            with tempfile.TemporaryDirectory() as d:
                r = replay(load(cli, s), Path(d), check=CHECK)
            row.append(f"{r.graded.reward:>15.3f}")
        print(f"{cli:<12}" + "".join(row))


def big_log(path: Path, calls: int) -> None:
    with open(path, "w") as fh:
        fh.write('{"type":"system","subtype":"init","model":"claude-sonnet-5"}\n')
        for i in range(calls):
            tid = f"toolu_{i}"
            fh.write(json.dumps({"type": "assistant", "message": {"id": f"msg_{i}", "model": "claude-sonnet-5", "content": [{"type": "tool_use", "id": tid, "name": "Bash", "input": {"command": f"pytest -q tests/test_{i}.py"}}], "usage": {"input_tokens": 1200, "output_tokens": 60}}}) + "\n")
            fh.write(json.dumps({"type": "user", "message": {"content": [{"type": "tool_result", "tool_use_id": tid, "is_error": i % 7 == 0, "content": "." * 200 + f" {i % 50} passed"}]}}) + "\n")
            if i % 100 == 0:
                fh.write(f"[stderr] warning {i}\n")
        fh.write(json.dumps({"type": "result", "subtype": "success", "is_error": False, "num_turns": calls, "total_cost_usd": 12.5, "result": "done", "usage": {"input_tokens": 1200 * calls, "output_tokens": 60 * calls}}) + "\n")


def reading(calls: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        log = Path(d) / "session.log"
        big_log(log, calls)
        size = log.stat().st_size
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            t = read("claude-code", HarnessOutput(log_path=log))
            times.append(time.perf_counter() - t0)
        assert t.tool_calls == calls, t.tool_calls
        print(
            f"\nclaude-code log of {calls:,} tool calls ({size / 1e6:.1f} MB): read in "
            f"{min(times):.2f} s (best of 3); {t.tool_errors:,} errors, "
            f"{len(t.commands)} commands kept, {len(json.dumps(t.to_dict())):,} bytes stored"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=20000)
    args = ap.parse_args()
    grades()
    reading(args.calls)


if __name__ == "__main__":
    main()
