#!/usr/bin/env python3
"""How well rota reads the limit corpus (tests/fixtures/limits/corpus.toml): printed figures.

Each entry is fed to its harness profile's detect_limit as that CLI prints it headless (see
tests/limits_corpus.py), with TZ set to the entry's zone and the session ending at the entry's
time. Figures per harness: limits recognised, look-alikes flagged (false alarms), and resets
exact among the limits that state one. The reset parser is also measured alone on the raw text
(`parse_reset`), which isolates the parser from the channel and the patterns.

    python bench/limits_corpus.py [--misses] [--harness NAME]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "tests"))

from limits_corpus import HARNESSES, Entry, load, outputs, reset_ok  # noqa: E402


def _rota():
    """The current detector entry points (kept in one place: the package is being reorganised)."""
    from rota.harnesses.base import SessionOutput
    from rota.harnesses.registry import builtin_profile
    from rota.resettime import parse_reset

    return SessionOutput, builtin_profile, parse_reset


def _iso(ts: float | None) -> str:
    if ts is None:
        return "none"
    try:
        return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return f"unformattable ({ts!r})"


def measure(entries: list[Entry]) -> list[dict[str, object]]:
    SessionOutput, builtin_profile, parse_reset = _rota()
    rows = []
    saved_tz = os.environ.get("TZ")
    try:
        for e in entries:
            os.environ["TZ"] = e.zone
            time.tzset()
            stdout, stderr, code = outputs(e)
            out = SessionOutput(exit_code=code, stdout=stdout, stderr=stderr, ended_at=e.at)
            error = ""
            try:
                hit = builtin_profile(e.harness).detect_limit(out)
            except Exception as exc:  # a crash is a finding, not a reason to stop measuring
                hit, error = None, f"{type(exc).__name__}: {exc}"
            try:
                parsed = parse_reset(e.text, e.at)
            except Exception as exc:
                parsed, error = None, error or f"parse_reset {type(exc).__name__}: {exc}"
            got = hit.resets_at if hit is not None else None
            rows.append(
                {
                    "entry": e,
                    "detected": hit is not None,
                    "reset": got,
                    "reset_ok": hit is not None and reset_ok(e, got),
                    "parser": parsed,
                    "parser_ok": reset_ok(e, parsed),
                    "error": error,
                }
            )
    finally:
        if saved_tz is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = saved_tz
        time.tzset()
    return rows


def report(rows: list[dict[str, object]], misses: bool) -> None:
    per: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        e: Entry = r["entry"]  # type: ignore[assignment]
        p = per[e.harness]
        stated = e.reset is not None
        if e.is_limit:
            p["limits"] += 1
            p["recognised"] += bool(r["detected"])
            if stated:
                p["stated"] += 1
                p["exact"] += bool(r["reset_ok"])
                p["parser_exact"] += bool(r["parser_ok"])
            elif r["detected"] and not r["reset_ok"]:
                p["wrong_unstated"] += 1
        else:
            p["lookalikes"] += 1
            p["false_alarms"] += bool(r["detected"])
        p["crashes"] += bool(r["error"])
    head = (
        f"{'harness':<12} {'recognised':>11} {'false alarms':>13} {'resets exact':>13}"
        f" {'parser alone':>13} {'bad unstated':>13} {'crashes':>8}"
    )
    print(head)
    print("-" * len(head))
    total: dict[str, int] = defaultdict(int)
    for h in HARNESSES:
        p = per.get(h)
        if not p:
            continue
        for k, v in p.items():
            total[k] += v
        print(_line(h, p))
    print("-" * len(head))
    print(_line("all", total))
    if misses:
        print()
        for r in rows:
            e = r["entry"]
            bad = (
                (e.is_limit and not r["detected"])
                or (not e.is_limit and r["detected"])
                or (e.is_limit and r["detected"] and not r["reset_ok"])
                or r["error"]
            )
            if bad:
                want = "limit" if e.is_limit else "no limit"
                print(
                    f"MISS {e.id:<26} want {want}, reset {_iso(e.reset)}; got "
                    f"{'limit' if r['detected'] else 'no limit'}, reset {_iso(r['reset'])}"
                    f"{'; ' + str(r['error']) if r['error'] else ''}"
                )


def _line(name: str, p: dict[str, int]) -> str:
    return (
        f"{name:<12} {p['recognised']:>5} / {p['limits']:<4}"
        f" {p['false_alarms']:>6} / {p['lookalikes']:<5}"
        f" {p['exact']:>6} / {p['stated']:<5}"
        f" {p['parser_exact']:>6} / {p['stated']:<5}"
        f" {p['wrong_unstated']:>13} {p['crashes']:>8}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--misses", action="store_true", help="list every entry rota gets wrong")
    ap.add_argument("--harness", choices=HARNESSES, help="only this harness")
    args = ap.parse_args()
    entries = [e for e in load() if args.harness in (None, e.harness)]
    report(measure(entries), args.misses)
    return 0


if __name__ == "__main__":
    sys.exit(main())
