#!/usr/bin/env python3
"""Benchmark: what one session costs in the SQLite store, through real `rota run`s.

Runs N real `rota run` sessions (the rota on PATH) in a real git workspace, with the stand-in
claude and codex CLIs of tests/fakes (driven through rota's real harness profiles: argv, output
parsing, model seen) and a quota file with four probed windows, so that each session records what
it records on a user's machine: the decision with its explanation, the session row with its launch
facts, probed levels, grading signals and process facts, and the evidence update. Then it prints
the bytes per session, in the database pages (after VACUUM, less an empty store) and as the
payload of each column (the sum of the stored values' lengths), table by table.

The target is at most 1.2 KB per session.

Usage: python bench/store_size.py [--sessions 100] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FAKES = REPO / "tests" / "fakes"
FIXTURES = REPO / "tests" / "fixtures"
CATEGORIES = ["code", "infrastructure", "strategic"]

CONFIG = """
categories = ["code", "infrastructure", "strategic"]
default_category = "code"

[workspace]
path = "{workspace}"

[quota]
file = "{quota}"

[harnesses.claude-code.models]
opus = {{ tier = "high", cost = 5.0 }}
sonnet = {{ tier = "medium", cost = 1.5 }}

[harnesses.codex.models]
"gpt-5.4" = {{ tier = "medium", cost = 1.0 }}
"""


def quota_file(path: Path, now: float, k: int) -> None:
    """Four probed windows, their use creeping up as sessions run (as a probe would report)."""
    use = min(0.45, 0.002 * k)
    states = [
        {"scope": "harness:claude-code", "window": "five_hour", "utilization": use,
         "resets_at": now + 3 * 3600},
        {"scope": "harness:claude-code", "window": "seven_day", "utilization": use / 2,
         "resets_at": now + 4 * 86400},
        {"scope": "harness:codex", "window": "primary", "utilization": use,
         "resets_at": now + 2 * 3600},
        {"scope": "harness:codex", "window": "secondary", "utilization": use / 3,
         "resets_at": now + 5 * 86400},
    ]  # fmt: skip
    path.write_text(json.dumps(states))


def table_pages(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        conn.execute("VACUUM")
        rows = conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()
    finally:
        conn.close()
    return {name: int(size) for name, size in rows}


def payload(db: Path) -> dict[str, float]:
    """Bytes of stored values per table (sum of each column's length), and per column of note."""
    conn = sqlite3.connect(db)
    out: dict[str, float] = {}
    try:
        for table in ("sessions", "decisions", "evidence", "blocks", "quota_cache"):
            cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
            if not cols:
                continue
            total = conn.execute(
                f"SELECT COALESCE(SUM({' + '.join(f'COALESCE(LENGTH({c}), 0)' for c in cols)}), 0)"  # noqa: S608
                f" FROM {table}"
            ).fetchone()[0]
            out[table] = float(total)
        for col in ("detail", "signals"):
            out[f"sessions.{col}"] = float(
                conn.execute(f"SELECT COALESCE(SUM(LENGTH({col})), 0) FROM sessions").fetchone()[0]  # noqa: S608
            )
        out["decisions.explanation"] = float(
            conn.execute("SELECT COALESCE(SUM(LENGTH(explanation)), 0) FROM decisions").fetchone()[
                0
            ]
        )
    finally:
        conn.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sessions", type=int, default=100)
    ap.add_argument("--keep", help="build the store in this directory and keep it")
    args = ap.parse_args()
    rota = shutil.which("rota") or sys.exit("rota is not installed on PATH (pip install .)")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.keep) if args.keep else Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        ws, state, home, fake = root / "ws", root / "state", root / "home", root / "fake"
        for d in (ws, state, home, fake):
            d.mkdir(exist_ok=True)
        qfile = root / "quota.json"
        cfg = root / "rota.toml"
        cfg.write_text(CONFIG.format(workspace=ws, quota=qfile))
        env = {
            "PATH": f"{FAKES}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(home),
            "ROTA_CONFIG": str(cfg),
            "ROTA_STATE_DIR": str(state),
            "ROTA_MACHINE": "bench",
            "FAKE_DIR": str(fake),
            "FAKE_FIXTURES": str(FIXTURES),
            "GIT_AUTHOR_NAME": "Bench",
            "GIT_AUTHOR_EMAIL": "bench@example.invalid",
            "GIT_COMMITTER_NAME": "Bench",
            "GIT_COMMITTER_EMAIL": "bench@example.invalid",
            "GIT_CONFIG_NOSYSTEM": "1",
            "NO_COLOR": "1",
        }
        git = ["git", "-C", str(ws)]
        subprocess.run([*git, "init", "-q", "-b", "main"], env=env, check=True)
        (ws / "README.md").write_text("bench workspace\n")
        subprocess.run([*git, "add", "README.md"], env=env, check=True)
        subprocess.run([*git, "commit", "-q", "-m", "initial"], env=env, check=True)
        quota_file(qfile, time.time(), 0)
        subprocess.run([rota, "select"], env=env, capture_output=True, check=False)
        empty = table_pages(state / "rota.db")
        started = time.monotonic()
        for k in range(args.sessions):
            quota_file(qfile, time.time(), k)
            proc = subprocess.run(
                [rota, "run", "--category", CATEGORIES[k % len(CATEGORIES)]],
                env=env,
                capture_output=True,
                text=True,
            )
            if proc.returncode != 0:
                sys.exit(f"rota run failed ({proc.returncode}): {proc.stderr[-1000:]}")
        took = time.monotonic() - started
        db = state / "rota.db"
        pages = table_pages(db)
        values = payload(db)
        n = args.sessions
    print(f"store size per session: {n} real `rota run`s ({took / n:.2f} s each), SQLite")
    total = sum(pages.values()) - sum(empty.values())
    print(f"  database pages after VACUUM, less an empty store: {total / n:8.0f} bytes/session")
    groups = {
        "sessions (rows + indexes)": ("sessions", "sessions_started", "sessions_status"),
        "decisions": ("decisions",),
    }
    seen: set[str] = set()
    for label, names in groups.items():
        b = sum(pages.get(x, 0) - empty.get(x, 0) for x in names)
        seen.update(names)
        print(f"    {label:28s} {b / n:8.0f}")
    rest = sum(pages[x] - empty.get(x, 0) for x in pages if x not in seen)
    print(f"    {'everything else':28s} {rest / n:8.0f}")
    stored = sum(v for k, v in values.items() if "." not in k)
    print(f"  stored values (every column's length): {stored / n:8.0f} bytes/session")
    for key in ("sessions.detail", "sessions.signals", "decisions.explanation"):
        print(f"    {key:28s} {values[key] / n:8.0f}")
    print(f"target: at most 1,200 bytes/session in pages (now {total / n:,.0f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
