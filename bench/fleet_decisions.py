#!/usr/bin/env python3
"""Decisions per second with 1, 2, 4 and 8 concurrent selector processes: PostgreSQL on
loopback vs SQLite, with each decision's latency (p50 and p99).

Each process opens its own store and loops what `rota run` does to decide: read the evidence,
blocks, cached quota, pool occupancy and the recent sessions, run the policy (Thompson draws),
and record the decision with its explanation (a write). Both stores start from the same history.
The figure is total decisions over the wall time of the measured window, all processes released
together; the latencies are over every decision of every process.

    python bench/fleet_decisions.py [--procs 1,2,4,8] [--seconds 5] [--pg-url URL] [--no-record]

The PostgreSQL URL comes from --pg-url, else $ROTA_TEST_PG_URL, else a throwaway server is
started with .ci/postgres.sh (and stopped afterwards). A fresh database is created for the run.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shlex
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import benchstats

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

CONFIG = """
categories = ["code", "infrastructure", "triage"]
default_category = "code"
[workspace]
path = "{ws}"
[harnesses.claude-code]
command = ["true"]
[harnesses.claude-code.models]
opus = {{ tier = "high", cost = 5.0 }}
sonnet = {{ tier = "medium", cost = 1.5 }}
[harnesses.codex]
command = ["true"]
[harnesses.codex.models]
"gpt-5.4" = {{ tier = "medium", cost = 1.0 }}
"gpt-5.4-mini" = {{ tier = "low", cost = 0.3 }}
[harnesses.gptme]
command = ["true"]
[harnesses.gptme.models]
glm-5 = {{ tier = "low", cost = 0.3 }}
kimi = {{ tier = "medium", cost = 0.5 }}
[pools.claude-max]
harnesses = ["claude-code"]
concurrency = 3
[pools.chatgpt]
harnesses = ["codex"]
concurrency = 2
"""


def seed_history(store, config, sessions: int = 600) -> None:
    """The same graded history in every store: arms x categories, over the last two weeks."""
    from rota.quota.state import Block, QuotaState
    from rota.store.base import SessionOutcome

    arms = list(config.arms)
    now = time.time()
    hl = config.bandit.half_life_s
    for i in range(sessions):
        t = now - 14 * 86400 + i * (14 * 86400 / sessions)
        sid = store.start_session(
            category=config.categories[i % len(config.categories)],
            arm=arms[i % len(arms)],
            started_at=t,
            decision_id=None,
            pid=1,
            machine=f"m{i % 4}",
            workspace=f"w{i % 4}",
        )
        store.finish_session(
            sid,
            SessionOutcome(status="completed", ended_at=t + 600, reward=((i * 37) % 100) / 100),
            half_life_s=hl,
        )
    store.add_block(Block("harness", "gptme", now + 3600, "bench", "manual", now))
    store.put_quota_states(
        [QuotaState("harness", "codex", "5h", True, 0.4, now + 7200, "api", "", 300, now)]
    )


def selector(url: str, cfg_path: str, start, stop_at, seconds: float, record: bool, q) -> None:
    from rota.config import load_config
    from rota.session.decide import decide
    from rota.store import open_url

    config = load_config(cfg_path)
    store = open_url(url)
    cats = config.categories
    start.wait()
    t_end = stop_at.value
    n = 0
    lat: list[float] = []
    while True:
        t0 = time.perf_counter()
        now = time.time()
        if now >= t_end:
            break
        d = decide(config, store, category=cats[n % len(cats)], now=now)
        if record:
            store.record_decision(d.to_record(), workspace="bench", machine=f"p{os.getpid()}")
        lat.append(time.perf_counter() - t0)
        n += 1
    store.close()
    q.put((n, lat))


def measure(url: str, cfg_path: str, procs: int, seconds: float, record: bool) -> dict:
    ctx = mp.get_context("fork")
    start = ctx.Event()
    stop_at = ctx.Value("d", 0.0)
    q = ctx.Queue()
    ps = [
        ctx.Process(target=selector, args=(url, cfg_path, start, stop_at, seconds, record, q))
        for _ in range(procs)
    ]
    for p in ps:
        p.start()
    time.sleep(1.0)  # let every process import and connect before the window opens
    t0 = time.time()
    stop_at.value = t0 + seconds
    start.set()
    results = [q.get(timeout=seconds + 120) for _ in ps]
    wall = max(time.time() - t0, seconds)
    for p in ps:
        p.join(30)
    total = sum(n for n, _ in results)
    lat = sorted(x for _, ls in results for x in ls)

    def pick(q: float) -> float:
        return benchstats.percentile(lat, q) * 1000

    return {"decisions": total, "per_s": total / wall, "p50_ms": pick(0.5), "p99_ms": pick(0.99)}


def start_pg() -> tuple[str, str]:
    proc = subprocess.run(
        ["bash", str(REPO / ".ci" / "postgres.sh"), "start"], capture_output=True, text=True
    )
    if proc.returncode != 0:
        sys.exit(f"cannot start PostgreSQL: {proc.stderr.strip()[-500:]}")
    env = dict(shlex.split(line)[1].split("=", 1) for line in proc.stdout.splitlines() if line)
    return env["ROTA_TEST_PG_URL"], env["ROTA_TEST_PG_DIR"]


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--procs", default="1,2,4,8", help="selector counts, comma-separated")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--pg-url", default=os.environ.get("ROTA_TEST_PG_URL", ""))
    ap.add_argument("--no-record", action="store_true", help="decide only, write nothing")
    args = ap.parse_args()

    import psycopg
    from psycopg import sql

    from rota.config import load_config
    from rota.store.postgres import PostgresStore
    from rota.store.sqlite import SQLiteStore

    started = ""
    base = args.pg_url
    if not base:
        base, started = start_pg()
    dbname = f"rota_bench_{uuid.uuid4().hex[:8]}"
    parts = urlsplit(base)
    pg_url = urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, ""))
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        version = admin.execute("SHOW server_version").fetchone()[0].split()[0]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            ws = Path(tmp) / "ws"
            ws.mkdir()
            cfg = Path(tmp) / "rota.toml"
            cfg.write_text(CONFIG.format(ws=ws))
            config = load_config(cfg)
            db = Path(tmp) / "rota.db"
            sqlite_url = f"sqlite://{db}"
            for store in (SQLiteStore(db), PostgresStore(pg_url)):
                seed_history(store, config)
                store.close()
            os.environ["ROTA_STATE_DIR"] = tmp
            record = not args.no_record
            what = "decide + record the decision" if record else "decide only"
            procs = [int(x) for x in str(args.procs).split(",") if x.strip()]
            print(
                f"fleet decisions: concurrent selector processes, {what}, "
                f"{args.seconds:g} s window each, {benchstats.load_note()}"
            )
            print(f"  {'store':34s} {'selectors':>9s} {'decisions/s':>12s} {'p50 ms':>8s} "
                  f"{'p99 ms':>8s}")  # fmt: skip
            for label, url in (
                (f"PostgreSQL {version} on loopback", pg_url),
                ("SQLite (WAL, one file)", sqlite_url),
            ):
                for n in procs:
                    r = measure(url, str(cfg), n, args.seconds, record)
                    print(
                        f"  {label:34s} {n:9d} {r['per_s']:12.1f} {r['p50_ms']:8.1f} "
                        f"{r['p99_ms']:8.1f}",
                        flush=True,
                    )
    finally:
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
            )
        if started:
            subprocess.run(
                ["bash", str(REPO / ".ci" / "postgres.sh"), "stop", started], capture_output=True
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
