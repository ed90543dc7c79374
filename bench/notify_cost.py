#!/usr/bin/env python3
"""Benchmark: what a dead notifier costs one `rota run` (a fake harness that commits and exits).

Prints the median wall time of `rota run` without [notify], and with a notify command that hangs
for two minutes plus a ping URL on 127.0.0.1 that accepts connections and never answers, for
timeout_seconds 1 and 3. The target: the difference is about timeout_seconds (the start is
announced while the session runs; everything said at its end shares one timeout).

Usage: python bench/notify_cost.py [--runs 3]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from run_support import RunEnv  # noqa: E402
from test_notify_run import notify_config  # noqa: E402


def timed(extra, runs: int) -> float:
    times = []
    for _ in range(runs):
        env = RunEnv(Path(tempfile.mkdtemp(prefix="rota-bench-")))
        env.config_with(extra=extra(env))
        env.queue("claude", "ok")
        t = time.monotonic()
        proc = env.run("run", timeout=300)
        times.append(time.monotonic() - t)
        if proc.returncode != 0:
            raise SystemExit(proc.stderr)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    url = f"http://127.0.0.1:{silent.getsockname()[1]}/ping/x"
    hang = [sys.executable, "-c", "import time; time.sleep(120)"]
    base = timed(lambda env: "", args.runs)
    print(f"rota run without [notify]: {base:.2f} s")
    for timeout in (1.0, 3.0):
        cfg = lambda env, t=timeout: notify_config(env, url, timeout=t, command=hang)  # noqa: E731
        dead = timed(cfg, args.runs)
        print(
            f"rota run, dead notifier, timeout_seconds = {timeout:g}: {dead:.2f} s "
            f"(+{dead - base:.2f} s)"
        )


if __name__ == "__main__":
    main()
