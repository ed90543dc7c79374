#!/usr/bin/env python3
"""Benchmark: `rota store prune` on a store of 100,000 sessions, and what retention bounds.

Builds a SQLite store holding N graded sessions over a year, each with its decision. What each
row holds is taken from real `rota run`s (bench/store_size.py with the stand-in claude and codex
of tests/fakes: the compact decision, the launch facts, probed levels and grading detail), so the
bytes per session are a user's; the evidence rows are the graded sessions folded in by the
learning step (rota.learning.step, change tests included). Then it prunes with `[retention]
sessions_days` and prints:
  - rows, file size and bytes per session before and after (the prune VACUUMs),
  - how long `rota store prune` took (wall, including start-up),
  - whether every posterior (`rota status --json`) and every `rota select --seed S` choice, for
    every category and S in 0..seeds-1, is the same after as before,
  - the bound on the store: sessions per day x sessions_days x bytes per session.

Usage: python bench/prune.py [--sessions 100000] [--days 90] [--seeds 10] [--templates 12]
(`rota` must be on PATH: bench/store_size.py runs it)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CATEGORIES = ["code", "infrastructure", "strategic", "triage", "content", "research"]
ARMS = [
    ("claude-code", "opus", "high", 5.0),
    ("claude-code", "sonnet", "medium", 1.5),
    ("codex", "gpt-5.4", "medium", 1.0),
    ("gptme", "glm-5", "low", 0.3),
    ("gemini", "gemini-3-pro", "high", 2.0),
]
TRUE_MEAN = {f"{h}:{m}": 0.45 + 0.08 * i for i, (h, m, _, _) in enumerate(ARMS)}
DAY = 86400.0
HALF_LIFE_S = 14 * DAY


def write_config(path: Path, workspace: Path, days: float) -> None:
    lines = [
        "categories = [" + ", ".join(f'"{c}"' for c in CATEGORIES) + "]",
        "",
        "[workspace]",
        f'path = "{workspace}"',
        "",
        "[retention]",
        f"sessions_days = {days}",
    ]
    harnesses: dict[str, list[str]] = {}
    for h, m, tier, cost in ARMS:
        harnesses.setdefault(h, []).append(f'"{m}" = {{ tier = "{tier}", cost = {cost} }}')
    for h, models in harnesses.items():
        lines += ["", f"[harnesses.{h}]", 'command = ["true"]', f"[harnesses.{h}.models]", *models]
    path.write_text("\n".join(lines) + "\n")


def real_rows(runs: int) -> tuple[list[tuple[str, str, str]], list[str]]:
    """(signals, detail, log_path) of each session and the explanation of each decision, as real
    `rota run`s store them (bench/store_size.py --keep)."""
    import sqlite3

    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, str(Path(__file__).parent / "store_size.py"), "--sessions",
             str(runs), "--keep", tmp],
            check=True, capture_output=True,
        )  # fmt: skip
        conn = sqlite3.connect(Path(tmp) / "state" / "rota.db")
        try:
            sessions = conn.execute("SELECT signals, detail, log_path FROM sessions").fetchall()
            decisions = [r[0] for r in conn.execute("SELECT explanation FROM decisions")]
        finally:
            conn.close()
    return [tuple(r) for r in sessions], decisions


def fill_store(db: Path, sessions: int, templates: int) -> None:
    """Sessions, decisions and evidence as the runner and the learning step write them."""
    from rota.learning import step
    from rota.learning.change import DRIFT_FIELDS
    from rota.store.sqlite import SQLiteStore

    session_rows, explanations = real_rows(templates)
    rng = random.Random(15)
    store = SQLiteStore(db)
    now = time.time()
    span = 365 * DAY
    t0 = now - span
    evidence: dict = {}
    drifts: dict = {}
    decisions, rows = [], []
    for i in range(sessions):
        h, m, _, _ = ARMS[rng.randrange(len(ARMS))]
        arm = f"{h}:{m}"
        cat = CATEGORIES[rng.randrange(len(CATEGORIES))]
        t = t0 + span * i / sessions
        reward = min(1.0, max(0.0, rng.gauss(TRUE_MEAN[arm], 0.15)))
        decisions.append((i + 1, t, cat, arm, "ws", "bench", explanations[i % len(explanations)]))
        signals, detail, log_path = session_rows[i % len(session_rows)]
        rows.append(
            (cat, None, arm, "completed", t, t + 900, 0, reward, t + 900, signals, detail, i + 1,
             1, "bench", "ws", log_path)
        )  # fmt: skip
        learnt = step.observe(evidence, drifts, cat, arm, reward, t + 900, HALF_LIFE_S)
        evidence.update(learnt.rows)
        drifts.update(learnt.drifts)
    conn = store.conn
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO decisions (id, at, category, arm, workspace, machine, explanation) "
        "VALUES (?,?,?,?,?,?,?)",
        decisions,
    )
    conn.executemany(
        "INSERT INTO sessions (category, arm_ran, arm, status, started_at, ended_at, exit_code, "
        "reward, graded_at, signals, detail, decision_id, pid, machine, workspace, log_path) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )
    from rota.learning.change import NO_DRIFT

    cols = ", ".join(DRIFT_FIELDS)
    marks = ", ".join("?" for _ in range(8 + len(DRIFT_FIELDS)))
    conn.executemany(
        f"INSERT INTO evidence (category, arm, s, f, t, n, sum_r, sum_r2, {cols}) "  # noqa: S608
        f"VALUES ({marks})",
        [
            (c, a, e.s, e.f, e.t, e.n, e.sum_r, e.sum_r2, *(drifts.get((c, a)) or NO_DRIFT))
            for (c, a), e in evidence.items()
        ],
    )
    conn.execute("COMMIT")
    conn.execute("VACUUM")
    store.close()


def rota(env: dict[str, str], *args: str) -> str:
    p = subprocess.run(
        [sys.executable, "-m", "rota.cli", *args], env=env, capture_output=True, text=True
    )
    if p.returncode not in (0, 76):
        sys.exit(f"rota {' '.join(args)} exited {p.returncode}: {p.stderr}")
    return p.stdout


def choices(env: dict[str, str], seeds: int) -> list[str | None]:
    out = []
    for cat in CATEGORIES:
        for seed in range(seeds):
            out.append(
                json.loads(rota(env, "select", "--json", "-c", cat, "--seed", str(seed)))["arm"]
            )
    return out


def counts(db: Path) -> dict[str, int]:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        return {
            t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]  # noqa: S608 - constants
            for t in ("sessions", "decisions", "evidence", "blocks")
        }
    finally:
        conn.close()


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sessions", type=int, default=100_000)
    ap.add_argument("--days", type=float, default=90.0, help="[retention] sessions_days")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--templates", type=int, default=12, help="real rota runs to copy rows from")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "state").mkdir()
        db = root / "state" / "rota.db"
        cfg = root / "rota.toml"
        write_config(cfg, root, args.days)
        env = {k: v for k, v in os.environ.items() if not k.startswith("ROTA_")}
        env.update(ROTA_CONFIG=str(cfg), ROTA_STATE_DIR=str(root / "state"), HOME=str(root))
        t = time.perf_counter()
        fill_store(db, args.sessions, args.templates)
        print(
            f"built {args.sessions:,} sessions in {time.perf_counter() - t:.1f} s", file=sys.stderr
        )
        before_rows, before_size = counts(db), db.stat().st_size
        posteriors = json.loads(rota(env, "status", "--json"))["posteriors"]
        picks = choices(env, args.seeds)
        t = time.perf_counter()
        report = json.loads(rota(env, "store", "prune", "--json"))
        took = time.perf_counter() - t
        after_rows, after_size = counts(db), db.stat().st_size
        same_posteriors = json.loads(rota(env, "status", "--json"))["posteriors"] == posteriors
        same_picks = choices(env, args.seeds) == picks
        shutil.rmtree(root / "state" / "logs", ignore_errors=True)
    days_kept = max(args.days, 30.0)
    per_day = args.sessions / 365.0
    per_session_after = after_size / max(1, after_rows["sessions"])
    print(f"sessions   {before_rows['sessions']:>9,} -> {after_rows['sessions']:,}")
    print(f"decisions  {before_rows['decisions']:>9,} -> {after_rows['decisions']:,}")
    print(f"evidence   {before_rows['evidence']:>9,} -> {after_rows['evidence']:,}")
    print(
        f"file size  {before_size / 1e6:>8.1f} MB -> {after_size / 1e6:.1f} MB; bytes per session "
        f"{before_size / max(1, before_rows['sessions']):,.0f} -> {per_session_after:,.0f}"
    )
    print(
        f"rota store prune: {took:.2f} s (wall, including start-up and VACUUM), pruned "
        f"{report['sessions']:,} sessions"
    )
    print(
        f"posteriors identical: {same_posteriors}; "
        f"select choices identical ({len(picks)} = {len(CATEGORIES)} categories x {args.seeds} seeds): {same_picks}"
    )
    print(
        f"bound: {per_day:.0f} sessions a day x {days_kept:g} days x {per_session_after:,.0f} bytes "
        f"= {per_day * days_kept * per_session_after / 1e6:.1f} MB, whatever the age of the store "
        "(plus the logs: [retention] logs_max_mib)"
    )
    return 0 if same_posteriors and same_picks else 1


if __name__ == "__main__":
    sys.exit(main())
