#!/usr/bin/env python3
"""Benchmark: `rota select` against `python -c "import sqlite3, json"`, in paired rounds.

Each round runs, in a fresh random order,
  - the reference: python -c "import sqlite3, json" (an interpreter that loads what rota must load
    anyway and opens nothing),
  - rota select --json --category code on an empty store, on a month of history (28 days of a
    30-minute timer), and on stores of 100,000 and 1,000,000 sessions (30 minutes apart, up to now,
    over 10 arms and 8 categories, each with the launch facts and probed levels that `rota run`
    records; 2% of them stopped by a usage limit), with the quota probes' answers cached (as for a
    second decision within [quota] cache_minutes);
  - the same on an empty store with every probe run (as every fire of a 30-minute timer finds the
    5-minute cache), in an empty HOME: no credentials, no logs, no network,
and every rota command's time is divided by the reference's time *of the same round*. The figure
is the median of those per-round ratios with a distribution-free 95% interval, for wall time and
for CPU time (user + system of the process: less sensitive to other load on the machine). The
target is a wall-time ratio of at most 1.7 at every size.

Usage: python bench/select_latency.py [--rounds 40] [--sizes 0,month,100000,1000000]
       [--store-dir DIR]   (keep the filled stores there and reuse them on the next run; their
                            sessions end when they were filled, so refill after a day)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import benchstats

CATEGORIES = ["code", "infrastructure", "strategic", "triage", "content", "research", "docs", "ops"]
ARMS = [
    ("claude-code", "opus", "high", 5.0),
    ("claude-code", "sonnet", "medium", 1.5),
    ("claude-code", "haiku", "low", 0.5),
    ("codex", "gpt-5.4", "medium", 1.0),
    ("codex", "gpt-5.4-mini", "low", 0.4),
    ("gptme", "glm-5", "low", 0.3),
    ("gptme", "kimi-k3", "medium", 0.6),
    ("copilot", "gpt-5", "medium", 1.0),
    ("gemini", "gemini-3-pro", "high", 2.0),
    ("aider", "deepseek-v4", "low", 0.3),
]
MONTH = 28 * 48  # a 30-minute timer over the 28-day lookback
SPACING_S = 1800.0
HALF_LIFE_S = 14 * 86400.0


def write_config(path: Path, workspace: Path, *, probe_cache_minutes: float | None = None) -> None:
    lines = [
        f"categories = {CATEGORIES!r}".replace("'", '"'),
        "",
        "[workspace]",
        f'path = "{workspace}"',
    ]
    if probe_cache_minutes is not None:
        lines += ["", "[quota]", f"cache_minutes = {probe_cache_minutes}"]
    harnesses: dict[str, list[str]] = {}
    for h, m, tier, cost in ARMS:
        harnesses.setdefault(h, []).append(f'"{m}" = {{ tier = "{tier}", cost = {cost} }}')
    for h, models in harnesses.items():
        lines += ["", f"[harnesses.{h}.models]", *models]
    path.write_text("\n".join(lines) + "\n")


LIMIT_SHARE = 0.02  # sessions that hit a usage limit (no grade; they teach quota learning)


def session_rows(sessions: int, now: float, seed: int = 1):  # type: ignore[no-untyped-def]
    """The sessions table of a store that has run `sessions` sessions up to now: what the runner
    records with each (its launch facts and the probed levels), graded, with about 2% of them
    stopped by a usage limit (as interpret records it: the message, the reset, what it blocked)."""
    rng = random.Random(seed)
    t0 = now - sessions * SPACING_S
    for i in range(sessions):
        h, m, _, _ = ARMS[rng.randrange(len(ARMS))]
        cat = CATEGORIES[rng.randrange(len(CATEGORIES))]
        t = t0 + i * SPACING_S
        detail: dict[str, object] = {
            "harness": h,
            "model": m,
            "executable": f"/usr/local/bin/{h}",
            "prompt_source": "prompt_file",
            "prompt_file": "/home/user/work/.rota/prompt.md",
            "prompt_chars": 1800,
            "timeout_s": 3600.0,
            "workspace_path": "/home/user/work",
            "utilization": {},
            "levels": [
                ["harness", "claude-code", "five_hour", rng.random(), t + 3600],
                ["harness", "claude-code", "seven_day", rng.random(), t + 86400],
                ["harness", "codex", "primary", rng.random(), t + 7200],
                ["harness", "codex", "secondary", rng.random(), t + 86400],
            ],
        }
        if rng.random() < LIMIT_SHARE:
            reset = t + 5 * 3600 - (t % (5 * 3600))
            detail["limit"] = {
                "message": "You've hit your usage limit. Resets 11pm (UTC).",
                "resets_at": reset,
                "window": "",
                "scopes": [f"harness:{h}"],
            }
            status, reward, graded, signals = "rate_limited", None, None, "{}"
        else:
            status, reward, graded = "completed", rng.random(), t + 900
            signals = '{"commits": 1, "exit": 0, "files": 3}'
        yield (
            cat, f"{h}:{m}", status, t, t + 900, 0, reward, graded, signals,
            json.dumps(detail, sort_keys=True), 1, "bench", "ws",
        )  # fmt: skip


def fill_store(db: Path, sessions: int, now: float) -> None:
    """A store as `rota run` would have left it: the sessions, and the evidence rows and their
    change tests learnt from them through the learning step the store takes (step.rebuild),
    written in bulk."""
    from rota.learning import step
    from rota.learning.change import DRIFT_FIELDS
    from rota.store.sqlite import SQLiteStore

    SQLiteStore(db).close()  # the schema, at the current version
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN")
    observations: list[tuple[str, str, float, float]] = []
    chunk: list[tuple[object, ...]] = []
    insert = (
        "INSERT INTO sessions (category, arm, status, started_at, ended_at, exit_code, reward, "
        "graded_at, signals, detail, pid, machine, workspace) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
    )
    for row in session_rows(sessions, now):
        chunk.append(row)
        if row[6] is not None:
            observations.append((row[0], row[1], row[6], row[7]))  # type: ignore[arg-type]
        if len(chunk) >= 20_000:
            conn.executemany(insert, chunk)
            chunk.clear()
    conn.executemany(insert, chunk)
    rows, drifts = step.rebuild(observations, HALF_LIFE_S)
    cols = ", ".join(DRIFT_FIELDS)
    marks = ",".join("?" * (8 + len(DRIFT_FIELDS)))
    conn.executemany(
        f"INSERT INTO evidence (category, arm, s, f, t, n, sum_r, sum_r2, {cols}) VALUES ({marks})",  # noqa: S608
        [
            (c, a, e.s, e.f, e.t, e.n, e.sum_r, e.sum_r2, *drifts[c, a])
            for (c, a), e in rows.items()
        ],
    )
    conn.execute("COMMIT")
    conn.close()


def parse_sizes(text: str) -> list[int]:
    out = []
    for part in text.split(","):
        part = part.strip().replace("_", "")
        out.append(MONTH if part == "month" else int(part))
    return out


def label(n: int) -> str:
    if n == 0:
        return "empty store"
    if n == MONTH:
        return f"{n:,} sessions (a month)"
    return f"{n:,} sessions"


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rounds", type=int, default=40, help="paired rounds (default 40)")
    ap.add_argument("--sizes", default="0,month,100000,1000000", help="store sizes in sessions")
    ap.add_argument("--store-dir", help="keep the filled stores here and reuse them")
    args = ap.parse_args()
    rota = shutil.which("rota") or sys.exit("rota is not installed on PATH (pip install .)")
    sizes = parse_sizes(args.sizes)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        stores = Path(args.store_dir) if args.store_dir else root
        cfg = root / "rota.toml"
        write_config(cfg, root)
        cold = root / "rota-probing.toml"
        write_config(cold, root, probe_cache_minutes=0)
        # As on a user's machine, bytecode is cached (pip compiles it at install time); some CI
        # images set PYTHONDONTWRITEBYTECODE, which would make every run recompile every module.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["ROTA_CONFIG"] = str(cfg)
        # No credentials and no agent logs: probes read nothing of the user's and reach no network.
        env["HOME"] = str(root / "home")
        (root / "home").mkdir()
        now = time.time()
        commands: list[tuple[list[str], dict[str, str]]] = [
            ([sys.executable, "-c", "import sqlite3, json"], env)
        ]
        for n in sizes:
            state = stores / f"store-{n}"
            db = state / "rota.db"
            if n and not db.exists():
                print(f"filling a store with {n:,} sessions ...", file=sys.stderr, flush=True)
                state.mkdir(parents=True, exist_ok=True)
                fill_store(db, n, now)
            else:
                state.mkdir(parents=True, exist_ok=True)
            commands.append(
                (
                    [rota, "select", "--json", "--category", "code"],
                    {**env, "ROTA_STATE_DIR": str(state)},
                )
            )
        probing = root / "probing"
        probing.mkdir()
        commands.append(
            (
                [rota, "select", "--json", "--category", "code"],
                {**env, "ROTA_CONFIG": str(cold), "ROTA_STATE_DIR": str(probing)},
            )
        )
        for argv, e in commands:  # create the empty store, warm the page cache and bytecode
            benchstats.timed_run(argv, e)
        print(f"{args.rounds} paired rounds on {benchstats.load_note()} ...", file=sys.stderr)
        samples = benchstats.paired_rounds(commands, args.rounds)

    ref_wall = [w for w, _ in samples[0]]
    ref_cpu = [c for _, c in samples[0]]
    print(
        f"rota select --json vs python -c 'import sqlite3, json': {args.rounds} paired rounds, "
        f"{benchstats.load_note()}"
    )
    print(
        f"reference: median wall {benchstats.median(ref_wall) * 1000:.1f} ms, "
        f"CPU {benchstats.median(ref_cpu) * 1000:.1f} ms"
    )
    print(f"{'store':32s} {'wall ms':>8s} {'wall ratio [95% interval]':>28s} "
          f"{'CPU ms':>7s} {'CPU ratio [95% interval]':>27s}")  # fmt: skip
    worst = 0.0
    labels = [label(n) for n in sizes] + ["empty, probes run (*)"]
    for i, (name, s) in enumerate(zip(labels, samples[1:], strict=True)):
        wall = [w for w, _ in s]
        cpu = [c for _, c in s]
        rw, (lw, hw) = benchstats.ratio_summary(wall, ref_wall)
        rc, (lc, hc) = benchstats.ratio_summary(cpu, ref_cpu)
        if i < len(sizes):
            worst = max(worst, rw)
        print(
            f"{name:32s} {benchstats.median(wall) * 1000:8.1f} "
            f"{rw:13.2f} [{lw:.2f}, {hw:.2f}]{'':5s} "
            f"{benchstats.median(cpu) * 1000:7.1f} {rc:12.2f} [{lc:.2f}, {hc:.2f}]"
        )
    print(f"largest median wall ratio {worst:.2f} (target: at most 1.7 at every size)")
    print(
        "(*) every quota probe runs, as on a 30-minute timer with [quota] cache_minutes = 5: the "
        "probes' own work (here: no credentials, no logs, no network) and their imports"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
