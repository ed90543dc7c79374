#!/usr/bin/env python3
"""Check: with change detection as state, rota makes the same decisions as with the rescan, for the
same seed, until one of the two finds a change.

Every replicate of each scenario is played twice with the same world and the same random stream:
once by rota's policy as it is (the sequential test in the learning step), once by the same policy
with the rescan it replaced (bench/rescan_reference.py applied before each decision, the evidence
learnt by plain updates, as rota did before). It prints, per scenario, in how many replicates the
two choose alike up to the first slot where either one found a change (and how many slots that
is), and the first slot where they differ.

Usage: python bench/decision_identity.py [SCENARIO.toml ...] [--replicates 10]
With no scenario: every public and bench scenario.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

import rescan_reference  # noqa: E402

from rota.learning import bandit, posteriors, step  # noqa: E402
from rota.quota.history import HISTORY_LIMIT  # noqa: E402
from rota.simulate.rota_policy import RotaPolicy  # noqa: E402
from rota.simulate.scenario import load_scenario  # noqa: E402
from rota.simulate.world import Replicate, World  # noqa: E402


class RescanPolicy(RotaPolicy):
    """rota's policy as it was: plain updates, and the rescan before every decision."""

    found_at: int | None = None
    slot = 0

    def choose(self, obs):  # type: ignore[no-untyped-def]
        self.slot = obs.slot
        history = [u for u in self.history if u.at >= obs.now - self.lookback_s][-HISTORY_LIMIT:]
        w = posteriors.observation_weight(self.config, self.evidence)
        changed = rescan_reference.changed_evidence(self.config, self.evidence, history, obs.now, w)
        if changed and self.found_at is None:
            self.found_at = obs.slot
        saved = self.evidence
        self.evidence = {**saved, **changed}
        try:
            return super().choose(obs)
        finally:
            self.evidence = saved

    def learn(self, obs, outcome):  # type: ignore[no-untyped-def]
        saved = step.observe
        step.observe = _plain_observe  # type: ignore[assignment]
        try:
            super().learn(obs, outcome)
        finally:
            step.observe = saved  # type: ignore[assignment]


def _plain_observe(rows, drifts, category, arm, reward, at, half_life_s):  # type: ignore[no-untyped-def]
    out = {}
    for key in ((category, arm), (bandit.OVERALL, arm)):
        out[key] = bandit.update(rows.get(key) or bandit.Evidence(t=at), reward, at, half_life_s)
    return step.Learnt(out, {})


class StatePolicy(RotaPolicy):
    """rota's policy as it is, noting the first slot where its test found a change."""

    found_at: int | None = None

    def learn(self, obs, outcome):  # type: ignore[no-untyped-def]
        super().learn(obs, outcome)
        if self.found_at is None and self.changed:
            self.found_at = obs.slot


def play(policy_cls, scenario, rep, seed):  # type: ignore[no-untyped-def]
    world = World(scenario, rep)
    pol = policy_cls(scenario, random.Random(f"rota-simulate:{seed}:{rep.index}:rota"))
    choices = []
    for slot in range(scenario.sessions):
        obs = world.observe(slot)
        arm = pol.choose(obs)
        choices.append(arm)
        if arm is not None:
            pol.learn(obs, world.play(slot, arm))
    return choices, pol.found_at


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("scenarios", nargs="*", type=Path)
    ap.add_argument("--replicates", type=int, default=10)
    args = ap.parse_args()
    paths = args.scenarios or sorted((REPO / "examples" / "scenarios").glob("*.toml")) + sorted(
        (REPO / "bench" / "scenarios").glob("*.toml")
    )
    print(f"same decisions until a change is found: {args.replicates} replicates per scenario")
    print(f"{'scenario':12s} {'identical until found':>22s} {'slots before (median)':>22s} "
          f"{'never found, identical':>23s}")  # fmt: skip
    ok = True
    for path in paths:
        sc = load_scenario(path)
        same = 0
        spans: list[int] = []
        quiet_same = quiet = 0
        for i in range(args.replicates):
            rep = Replicate.build(sc, i, sc.seed)
            new, new_found = play(StatePolicy, sc, rep, sc.seed)
            old, old_found = play(RescanPolicy, sc, rep, sc.seed)
            found = min(x for x in (new_found, old_found, sc.sessions) if x is not None)
            differ = next(
                (j for j, (a, b) in enumerate(zip(new, old, strict=True)) if a != b), None
            )
            # The decision at the slot after the grade that found it is the first that may differ.
            if differ is None or differ > found:
                same += 1
            else:
                ok = False
            spans.append(found)
            if new_found is None and old_found is None:
                quiet += 1
                quiet_same += new == old
        spans.sort()
        print(
            f"{sc.name:12s} {f'{same}/{args.replicates}':>22s} {spans[len(spans) // 2]:>22d} "
            f"{(f'{quiet_same}/{quiet}' if quiet else '-'):>23s}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
