#!/usr/bin/env python3
"""Where `rota select` spends its CPU time: per imported module, then per function after imports.

    python bench/select_profile.py [--runs 15] [--sessions 100000] [--top 25]

1. Imports: `rota select --json` runs in a fresh interpreter with a hook on the import system that
   measures each module's own CPU time (the CPU clock, not the wall clock that `python -X
   importtime` uses, so other load on the machine does not show); the medians over the runs, and
   which modules the reference `python -c "import sqlite3, json"` does not load.
2. After imports: cProfile (CPU clock) of the first decision in a process that has imported
   everything, on a store of --sessions sessions filled as bench/select_latency.py fills it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import select_latency

HOOK = r"""
import sys, time, json
import importlib._bootstrap as b
orig = b._find_and_load
clock = time.process_time
stack = [0.0]
res = []
def timed(name, import_):
    t = clock(); stack.append(0.0)
    try:
        return orig(name, import_)
    finally:
        dt = clock() - t; inner = stack.pop(); stack[-1] += dt
        res.append((name, dt - inner))
b._find_and_load = timed
t0 = clock()
try:
    exec(compile(sys.argv[1], "<select>", "exec"), {"__name__": "__select__"})
except SystemExit:
    pass
sys.stderr.write("@@" + json.dumps({"res": res, "total": clock() - t0}) + "\n")
"""

SELECT = """
import io, sys
from rota.cli import main
sys.stdout = io.StringIO()  # not contextlib.redirect_stdout: rota's own imports are measured
main(["select", "--json", "--category", "code"])
"""

REFERENCE = "import sqlite3, json"

AFTER_IMPORTS = """
import cProfile, io, pstats, sys, time
from rota.cli import main
import rota.commands.select, rota.probes, rota.render, rota.session.decide, rota.store.sqlite
prof = cProfile.Profile(time.process_time)
out, sys.stdout = sys.stdout, io.StringIO()
prof.enable()
main(["select", "--json", "--category", "code"])
prof.disable()
sys.stdout = out
pstats.Stats(prof, stream=sys.stdout).sort_stats("cumulative").print_stats(int(sys.argv[1]))
"""


def module_times(code: str, env: dict[str, str], runs: int) -> tuple[dict[str, float], float]:
    selfs: dict[str, list[float]] = {}
    totals = []
    for _ in range(runs):
        p = subprocess.run(
            [sys.executable, "-c", HOOK, code], env=env, capture_output=True, text=True
        )
        line = [x for x in p.stderr.splitlines() if x.startswith("@@")]
        if not line:
            sys.exit(f"the profiled run failed: {p.stderr[-800:]}")
        data = json.loads(line[-1][2:])
        totals.append(data["total"])
        seen: dict[str, float] = {}
        for name, own in data["res"]:
            seen[name] = seen.get(name, 0.0) + own
        for name, own in seen.items():
            selfs.setdefault(name, []).append(own)
    med = {n: statistics.median(v + [0.0] * (runs - len(v))) for n, v in selfs.items()}
    return med, statistics.median(totals)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--sessions", type=int, default=100_000)
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cfg = root / "rota.toml"
        select_latency.write_config(cfg, root)
        state = root / "state"
        state.mkdir()
        if args.sessions:
            print(f"filling a store with {args.sessions:,} sessions ...", file=sys.stderr)
            select_latency.fill_store(state / "rota.db", args.sessions, time.time())
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update({"ROTA_CONFIG": str(cfg), "ROTA_STATE_DIR": str(state), "HOME": str(root)})
        subprocess.run([sys.executable, "-c", SELECT], env=env, check=True)  # caches, bytecode
        rota, rota_total = module_times(SELECT, env, args.runs)
        ref, ref_total = module_times(REFERENCE, env, args.runs)
        print(f"CPU time, medians of {args.runs} runs, {args.sessions:,} sessions in the store")
        print(f"  rota select --json (in-process main): {rota_total * 1000:6.2f} ms")
        print(f"  python -c '{REFERENCE}':      {ref_total * 1000:6.2f} ms")
        extra = {n: t for n, t in rota.items() if n not in ref}
        print(
            f"  imports the reference does not make: {sum(extra.values()) * 1000:.2f} ms "
            f"({len(extra)} modules); imports in all: {sum(rota.values()) * 1000:.2f} ms"
        )
        for name, t in sorted(extra.items(), key=lambda x: -x[1])[: args.top]:
            print(f"    {t * 1000:6.3f} ms  {name}")
        print("\nafter imports: the decision itself, by cumulative CPU time")
        out = subprocess.run(
            [sys.executable, "-c", AFTER_IMPORTS, str(args.top)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
