#!/usr/bin/env python3
"""systemd's calendar test vectors (src/test/test-calendarspec.c) against an implementation.

Prints how many valid inputs it accepts, how many next-elapse cases it gets right (to the second:
systemd-analyze prints whole seconds), and how many invalid inputs it wrongly accepts.

  --impl analyze   rota today: `systemd-analyze calendar` through rota.systemd.analyze
  --impl parser    rota's former own parser (rota.schedule.CalendarSpec, removed in the systemd/
                   package restructuring); run it from a checkout that still has it:
                     mkdir /tmp/rota-old && git archive c00c48f src | tar -x -C /tmp/rota-old
                     PYTHONPATH=/tmp/rota-old/src python bench/calendar_vectors.py --impl parser

The vectors live in tests/systemd_calendar_vectors.py; tests/test_schedule_calendar.py checks them.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from systemd_calendar_vectors import INVALID, NEXT, VALID


def analyze_impl() -> tuple[Callable[[str], None], Callable[[str, float], float | None]]:
    from rota.systemd import analyze

    def accept(expr: str) -> None:
        if analyze.check(expr) is not True:
            raise RuntimeError("systemd-analyze is not installed: nothing to measure")

    def nxt(expr: str, after: float) -> float | None:
        return analyze.next_elapse(expr, after).at

    return accept, nxt


def parser_impl() -> tuple[Callable[[str], None], Callable[[str, float], float | None]]:
    from rota.schedule import CalendarSpec  # type: ignore[import-not-found]

    def accept(expr: str) -> None:
        CalendarSpec.parse(expr)

    def nxt(expr: str, after: float) -> float | None:
        got = CalendarSpec.parse(expr).next_after(datetime.fromtimestamp(after, UTC))
        return None if got is None else got.timestamp()

    return accept, nxt


def set_zone(tz: str | None, impl: str) -> None:
    if tz is None:
        os.environ.pop("TZ", None)
    elif impl == "parser":
        os.environ["TZ"] = tz or "UTC"  # the former parser read $TZ as a zone name
    else:
        os.environ["TZ"] = f":{tz}" if tz else ""  # as systemd's tests set it


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--impl", choices=("analyze", "parser"), default="analyze")
    ap.add_argument("-v", "--verbose", action="store_true", help="list every miss")
    args = ap.parse_args()
    accept, nxt = analyze_impl() if args.impl == "analyze" else parser_impl()

    misses: list[str] = []
    ok = 0
    for expr in VALID:
        try:
            accept(expr)
            ok += 1
        except Exception as exc:
            misses.append(f"rejected valid {expr!r}: {exc}")
    print(f"valid inputs accepted:        {ok} of {len(VALID)}")

    right = 0
    for expr, tz, after_us, expect_us in NEXT:
        set_zone(tz, args.impl)
        want = None if expect_us == -1 else float(expect_us // 1_000_000)
        try:
            got = nxt(expr, after_us / 1e6)
            got = None if got is None else float(int(got))
        except Exception as exc:
            got = f"error: {exc}"  # type: ignore[assignment]
        if got == want:
            right += 1
        else:
            misses.append(f"next elapse of {expr!r} (TZ={tz!r}): {got}, expected {want}")
    print(f"next-elapse cases right:      {right} of {len(NEXT)}")

    wrongly = []
    for expr in INVALID:
        try:
            accept(expr)
            wrongly.append(expr)
        except Exception:
            pass
    print(f"invalid inputs accepted:      {len(wrongly)} of {len(INVALID)} {wrongly or ''}")
    if args.verbose:
        print("\n".join(misses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
