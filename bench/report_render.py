#!/usr/bin/env python3
"""Benchmark: `rota report` and `rota metrics` on stores of 1, 1,600 (a simulated month) and
10,000 sessions (the drift scenario stretched to 208 days), filled by the simulator with the
product's own policy (tests/report_support.py).

Prints, per store: the wall time of `rota report --since 30d` and `--since 365d` (median of
--runs), the HTML size, the number of SVG elements drawn, and the wall time of `rota metrics`.

Usage: python bench/report_render.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from report_support import build_sim_month, config_toml  # noqa: E402


def timed(cmd: list[str], env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    rota = [sys.executable, "-m", "rota.cli"]
    print(
        f"{'sessions':>9} {'since':>6} {'report s':>9} {'HTML KiB':>9} {'SVG marks':>10} {'metrics s':>10}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for label, slots, sessions in (
            ("1", 1, None),
            ("1,600", None, None),
            ("10,000", None, 10_000),
        ):
            root = Path(tmp) / label.replace(",", "")
            month = build_sim_month(root / "build", slots=slots, sessions=sessions)
            state = root / "state"
            state.mkdir(parents=True)
            os.replace(month.db, state / "rota.db")
            (root / "rota.toml").write_text(config_toml(month.scenario, root))
            env = {
                **os.environ,
                "ROTA_CONFIG": str(root / "rota.toml"),
                "ROTA_STATE_DIR": str(state),
            }
            metrics_s = timed([*rota, "metrics"], env, args.runs)
            for since in ("30d", "365d"):
                out = root / f"report-{since}.html"
                secs = timed([*rota, "report", "--since", since, "--out", str(out)], env, args.runs)
                page = out.read_text()
                marks = len(re.findall(r"<(?:circle|rect|path) class=", page))
                print(
                    f"{label:>9} {since:>6} {secs:>9.2f} {len(page.encode()) / 1024:>9.0f} "
                    f"{marks:>10,} {metrics_s:>10.2f}"
                )


if __name__ == "__main__":
    main()
