#!/usr/bin/env python3
"""How long the reset parser and every harness's limit detector take on pathological inputs:
megabytes of near-matches (digits, "try again in ", "1d", "resets ", blank runs, ANSI, nested
JSON), each printed with its time. Every regex should stay linear: a few hundred milliseconds per
input at most, whatever its size. tests/test_limits_properties.py feeds the same inputs and checks
the answers (a time or None, never an exception).

    python bench/limit_worst_case.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "tests"))

from rota.harnesses.base import SessionOutput  # noqa: E402
from rota.harnesses.registry import BUILTIN, builtin_profile  # noqa: E402
from rota.resettime import parse_reset  # noqa: E402
from test_limits_properties import HUGE, REF  # noqa: E402


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> int:
    names = sorted(BUILTIN)
    print(f"{'input':<34} {'size':>9} {'parse_reset':>11} " + " ".join(f"{n:>11}" for n in names))
    worst = 0.0
    for text in HUGE:
        label = repr(text[:24]) + ("…" if len(text) > 24 else "")
        row = [timed(lambda t=text: parse_reset(t, REF))]
        for name in names:
            out = SessionOutput(exit_code=1, stdout=text, stderr=text, ended_at=REF)
            profile = builtin_profile(name)
            row.append(timed(lambda p=profile, o=out: p.detect_limit(o)))
        worst = max(worst, *row)
        print(f"{label:<34} {len(text):>9,} " + " ".join(f"{t * 1000:>9.0f}ms" for t in row))
    print(f"\nworst: {worst * 1000:.0f} ms (stdout and stderr each the whole input)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
