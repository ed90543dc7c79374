#!/usr/bin/env python3
"""Benchmark: change detection, the rescan before every decision against the sequential test.

One arm's grades arrive an hour apart (Beta-distributed around a mean, concentration 6, as in
`rota simulate`); after a stable stretch its mean shifts. For each stream:
  - the rescan (bench/rescan_reference.py: what select() ran before every decision until change
    detection became state), called after every grade on the arm's evidence and its last 28 days
    of sessions;
  - the sequential test: rota.learning.step.observe, one step per grade.
It prints how often each finds the shift within the grades that follow, the median number of
grades it takes, false alarms per 1,000 grades before the shift, and what the arm's posterior mean
is 30 days after its last grade (the arm no longer chosen): the rescan forgets a change once the
grades that showed it leave its window, so the old level comes back.

Usage: python bench/change_detection.py [--streams 200] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

import benchstats  # noqa: E402
import rescan_reference  # noqa: E402

from rota.config import parse_config  # noqa: E402
from rota.learning import bandit, change, posteriors, step  # noqa: E402
from rota.quota.history import HISTORY_LIMIT, LEARN_LOOKBACK_S  # noqa: E402
from rota.quota.uses import Use  # noqa: E402

ARM = "claude-code:opus"
HOUR = 3600.0
DAY = 86400.0
T0 = 1_767_225_600.0
SPREAD = 6.0

# name, {category: (mean before, mean after)}, category weights, grades before, grades after
CASES = [
    ("moderate drop 0.67 -> 0.50", {"code": (0.67, 0.50)}, 200, 100),
    ("large drop 0.66 -> 0.42", {"code": (0.66, 0.42)}, 200, 100),
    ("arm-wide drop, 3 categories", {"code": (0.67, 0.50), "triage": (0.55, 0.38),
                                     "docs": (0.60, 0.43)}, 200, 100),
    ("one category of three drops", {"code": (0.67, 0.50), "triage": (0.55, 0.55),
                                     "docs": (0.60, 0.60)}, 200, 100),
    ("rise 0.45 -> 0.64", {"code": (0.45, 0.64)}, 200, 100),
    ("no change, 0.60", {"code": (0.60, 0.60)}, 300, 0),
]  # fmt: skip


def config():  # type: ignore[no-untyped-def]
    return parse_config(
        {
            "categories": ["code", "triage", "docs"],
            "harnesses": {
                "claude-code": {
                    "models": {"opus": {"tier": "high"}, "sonnet": {"tier": "medium"}}
                }
            },
        },
        path="<bench>",
    )


def draw(rng: random.Random, mean: float) -> float:
    return rng.betavariate(mean * SPREAD, (1.0 - mean) * SPREAD)


def stream(case, rng: random.Random) -> list[tuple[str, float, float]]:  # type: ignore[no-untyped-def]
    _, means, before, after = case
    cats = list(means)
    out = []
    for i in range(before + after):
        cat = cats[rng.randrange(len(cats))]
        mean = means[cat][0] if i < before else means[cat][1]
        out.append((cat, draw(rng, mean), T0 + i * HOUR))
    return out


def rescan(cfg, grades, before: int):  # type: ignore[no-untyped-def]
    """(first detection index or None, false alarms before the shift, posterior mean 30 days on)."""
    hl = cfg.bandit.half_life_s
    evidence: dict[tuple[str, str], bandit.Evidence] = {}
    history: list[Use] = []
    first = None
    false = 0
    before_found = False  # a false alarm is counted once, when it starts
    arm = cfg.arms[ARM]
    for i, (cat, r, at) in enumerate(grades):
        for key in ((cat, ARM), (bandit.OVERALL, ARM)):
            evidence[key] = bandit.update(evidence.get(key) or bandit.Evidence(t=at), r, at, hl)
        history.append(Use(ARM, at, False, None, (), None, cat, r, at))
        recent = [u for u in history[-HISTORY_LIMIT:] if u.at >= at - LEARN_LOOKBACK_S]
        w = posteriors.observation_weight(cfg, evidence)
        changed = rescan_reference.changed_evidence(cfg, evidence, recent, at, w)
        if changed:
            if i < before and not before_found:
                false += 1
            elif i >= before and first is None:
                first = i - before
        before_found = bool(changed)
    later = grades[-1][2] + 30 * DAY
    recent = [u for u in history[-HISTORY_LIMIT:] if u.at >= later - LEARN_LOOKBACK_S]
    w = posteriors.observation_weight(cfg, evidence)
    ev = {**evidence, **rescan_reference.changed_evidence(cfg, evidence, recent, later, w)}
    return first, false, posteriors.arm_posterior(cfg, ev, "code", arm, later, w).mean


def sequential(cfg, grades, before: int):  # type: ignore[no-untyped-def]
    hl = cfg.bandit.half_life_s
    rows: dict[tuple[str, str], bandit.Evidence] = {}
    drifts: dict[tuple[str, str], change.Drift] = {}
    first = None
    false = 0
    for i, (cat, r, at) in enumerate(grades):
        learnt = step.observe(rows, drifts, cat, ARM, r, at, hl)
        rows.update(learnt.rows)
        drifts.update(learnt.drifts)
        if learnt.change is not None:
            if i < before:
                false += 1
            elif first is None:
                first = i - before
    later = grades[-1][2] + 30 * DAY
    w = posteriors.observation_weight(cfg, rows)
    return first, false, posteriors.arm_posterior(cfg, rows, "code", cfg.arms[ARM], later, w).mean


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--streams", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    cfg = config()
    print(f"change detection: {args.streams} streams per case, grades an hour apart")
    print(
        f"{'case':30s} {'method':10s} {'found':>6s} {'median grades [95%]':>21s} "
        f"{'false/1000':>10s} {'mean 30 d on':>12s} {'CPU ms/grade':>12s}"
    )
    for case in CASES:
        name, means, before, after = case
        for method, fn in (("rescan", rescan), ("sequential", sequential)):
            rng = random.Random(f"{args.seed}:{name}")
            delays: list[float] = []
            found = false = 0
            later: list[float] = []
            spent = 0.0
            for _ in range(args.streams):
                grades = stream(case, rng)
                t = time.process_time()
                first, fa, mean = fn(cfg, grades, before)
                spent += time.process_time() - t
                false += fa
                later.append(mean)
                if first is not None:
                    found += 1
                    delays.append(first + 1)
            med = benchstats.median(delays) if delays else float("nan")
            lo, hi = benchstats.median_interval(delays) if delays else (float("nan"),) * 2
            share = f"{found / args.streams:.0%}" if after else "-"
            print(
                f"{name:30s} {method:10s} {share:>6s} "
                f"{(f'{med:.0f} [{lo:.0f}, {hi:.0f}]' if after and delays else '-'):>21s} "
                f"{1000 * false / (args.streams * before):10.2f} "
                f"{benchstats.median(later):12.3f} "
                f"{1000 * spent / (args.streams * (before + after)):12.3f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
