"""Small statistics shared by the bench scripts: medians with distribution-free intervals, paired
runs of subprocesses with their wall and CPU time, and percentiles. Stdlib only."""

from __future__ import annotations

import math
import os
import random
import subprocess
import sys
import time
from collections.abc import Sequence


def median(xs: Sequence[float]) -> float:
    s = sorted(xs)
    n = len(s)
    if not n:
        return math.nan
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def median_interval(xs: Sequence[float], level: float = 0.95) -> tuple[float, float]:
    """A distribution-free interval for the median: the order statistics x(j) and x(n+1-j) with
    the largest j such that P(Binomial(n, 1/2) < j) <= (1 - level) / 2. Needs no assumption about
    the shape of the samples (timings are skewed: preemption only ever adds time)."""
    s = sorted(xs)
    n = len(s)
    if n < 6:
        return (s[0], s[-1]) if s else (math.nan, math.nan)
    tail = (1.0 - level) / 2
    cum = 0.0
    j = 0
    while True:
        p = math.comb(n, j) / 2**n
        if cum + p > tail:
            break
        cum += p
        j += 1
    j = max(j, 1)
    return s[j - 1], s[n - j]


def percentile(xs: Sequence[float], q: float) -> float:
    """The q-quantile (0..1) by the nearest-rank rule."""
    s = sorted(xs)
    if not s:
        return math.nan
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))]


def timed_run(argv: Sequence[str], env: dict[str, str]) -> tuple[float, float]:
    """Run a command to its end: (wall seconds, CPU seconds of the child: user + system)."""
    t = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read() if proc.stderr else b""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode not in (0, 76):
        sys.exit(f"{list(argv)} failed ({proc.returncode}): {err.decode(errors='replace')}")
    return wall, usage.ru_utime + usage.ru_stime


def paired_rounds(
    commands: Sequence[tuple[Sequence[str], dict[str, str]]], rounds: int, seed: int = 1
) -> list[list[tuple[float, float]]]:
    """Every command once per round, in a fresh random order each round (so that neither drift in
    the machine's load nor a fixed position favours one command): samples[command][round] =
    (wall, cpu)."""
    rng = random.Random(seed)
    samples: list[list[tuple[float, float]]] = [[] for _ in commands]
    order = list(range(len(commands)))
    for _ in range(rounds):
        rng.shuffle(order)
        for i in order:
            samples[i].append(timed_run(*commands[i]))
    return samples


def ratio_summary(xs: Sequence[float], ref: Sequence[float]) -> tuple[float, tuple[float, float]]:
    """The median of the per-round ratios x / ref and its 95% interval."""
    ratios = [a / b for a, b in zip(xs, ref, strict=True) if b > 0]
    return median(ratios), median_interval(ratios)


def load_note() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return f"{os.cpu_count()} CPUs"
    return f"{os.cpu_count()} CPUs, load average {one:.1f} (1 min) {five:.1f} (5 min)"
