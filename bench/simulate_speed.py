#!/usr/bin/env python3
"""Benchmark: decisions per second in `rota simulate`, rota's policy against plain Thompson sampling.

Each scenario's replicates are played by the same loop `rota simulate` uses (observe a slot,
choose, play, learn), once with rota's policy (the product's own select() and learning step, as in
rota.simulate.rota_policy) and once with the `ts` baseline: a Beta posterior per (category, arm)
and one Beta draw per usable arm per slot, the same draws rota makes, with nothing else. Only the
policy's own time counts (choose + learn, in CPU seconds of this process); the simulated world's
time does not.

It also prints a fingerprint of rota's choices per scenario (a hash of every replicate's sequence
of arms), so that a change to the policy's speed can be checked to leave its decisions alone:
same seed, same fingerprint.

Usage: python bench/simulate_speed.py [SCENARIO.toml ...] [--replicates 3] [--seed N]
       [--profile]   (also print the 25 costliest functions in rota's policy, by cProfile)
With no scenario: examples/scenarios/steady.toml and drift.toml.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from rota.simulate.runner import make_policy  # noqa: E402
from rota.simulate.scenario import load_scenario  # noqa: E402
from rota.simulate.world import Replicate, World  # noqa: E402


def play(scenario, rep, name: str, seed: int) -> tuple[int, float, list[str | None]]:  # type: ignore[no-untyped-def]
    """One replicate with one policy: (decisions, CPU seconds inside the policy, the choices)."""
    world = World(scenario, rep)
    rng = random.Random(f"rota-simulate:{seed}:{rep.index}:{name}")
    policy = make_policy(name, scenario, world, rng)
    clock = time.process_time
    spent = 0.0
    choices: list[str | None] = []
    for slot in range(scenario.sessions):
        obs = world.observe(slot)
        t = clock()
        arm = policy.choose(obs)
        spent += clock() - t
        choices.append(arm)
        if arm is None:
            continue
        out = world.play(slot, arm)
        t = clock()
        policy.learn(obs, out)
        spent += clock() - t
    return scenario.sessions, spent, choices


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("scenarios", nargs="*", type=Path)
    ap.add_argument("--replicates", type=int, default=3)
    ap.add_argument("--seed", type=int, help="override each scenario's seed")
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    paths = args.scenarios or [
        REPO / "examples" / "scenarios" / "steady.toml",
        REPO / "examples" / "scenarios" / "drift.toml",
    ]
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile(time.process_time)
    print(
        f"decisions per second in the policy (CPU time of choose + learn), "
        f"{args.replicates} replicates per scenario"
    )
    print(f"{'scenario':18s} {'slots':>7s} {'rota dec/s':>11s} {'ts dec/s':>10s} "
          f"{'ts/rota':>8s}  rota's choices (fingerprint)")  # fmt: skip
    tot = {"rota": [0, 0.0], "ts": [0, 0.0]}
    for path in paths:
        sc = load_scenario(path)
        seed = sc.seed if args.seed is None else args.seed
        per = {"rota": [0, 0.0], "ts": [0, 0.0]}
        digest = hashlib.sha256()
        for i in range(args.replicates):
            rep = Replicate.build(sc, i, seed)
            for name in ("rota", "ts"):
                if name == "rota" and profiler is not None:
                    profiler.enable()
                n, spent, choices = play(sc, rep, name, seed)
                if name == "rota" and profiler is not None:
                    profiler.disable()
                per[name][0] += n
                per[name][1] += spent
                if name == "rota":
                    digest.update("\n".join(str(c) for c in choices).encode() + b"\n--\n")
        for name in per:
            tot[name][0] += per[name][0]
            tot[name][1] += per[name][1]
        r = per["rota"][0] / per["rota"][1]
        t = per["ts"][0] / per["ts"][1]
        print(
            f"{sc.name:18s} {per['rota'][0]:7d} {r:11,.0f} {t:10,.0f} {t / r:7.1f}x  "
            f"{digest.hexdigest()[:16]}"
        )
    r = tot["rota"][0] / tot["rota"][1]
    t = tot["ts"][0] / tot["ts"][1]
    print(f"{'all':18s} {tot['rota'][0]:7d} {r:11,.0f} {t:10,.0f} {t / r:7.1f}x")
    if profiler is not None:
        import pstats

        print("\nrota's policy, by cumulative CPU time:")
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
