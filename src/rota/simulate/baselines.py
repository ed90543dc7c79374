"""Baseline policies, implemented plainly as docs/scenarios.md defines them.

Every policy sees the same things at a slot: the category, the arms that exist, the visible pools'
states, and afterwards its own outcome (a reward, or a limit hit with a reset time when known).
The baselines share one plain way of staying out of trouble (`Availability`): skip an arm whose
visible pool says it is exhausted, and skip an arm that hit a limit until the reset it was told, or
for a doubling back-off when no reset was given. They learn per (category, arm), nothing shared.
Only the oracle sees the truth.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from rota.simulate.scenario import Scenario
from rota.simulate.world import Observation, Outcome, Policy, World

EPSILON = 0.1
BACKOFF_S = 3600.0  # first back-off after a limit hit with no reset time; doubles, capped
BACKOFF_CAP_S = 24 * 3600.0


class Availability:
    """The arms a plain policy would consider usable now."""

    def __init__(self, scenario: Scenario) -> None:
        self.pools_of: dict[str, frozenset[str]] = {
            a.arm: frozenset(q.pool for q in scenario.quotas if q.covers(a)) for a in scenario.arms
        }
        self.until: dict[str, float] = {}
        self.hits: dict[str, int] = {}

    def usable(self, obs: Observation) -> list[str]:
        out = [p.pool for p in obs.pools if not p.available]
        full = frozenset(out)
        return [
            a
            for a in obs.arms
            if self.until.get(a, 0.0) <= obs.now and not (self.pools_of[a] & full)
        ]

    def learn(self, obs: Observation, outcome: Outcome) -> None:
        a = outcome.arm
        if not outcome.wasted:
            self.hits.pop(a, None)
            return
        if outcome.resets_at is not None:
            self.until[a] = outcome.resets_at
            return
        n = self.hits.get(a, 0) + 1
        self.hits[a] = n
        self.until[a] = obs.now + min(BACKOFF_CAP_S, BACKOFF_S * 2 ** (n - 1))


class Oracle(Policy):
    """Knows the true means, every pool's state and every outage: the usable arm with the best mean."""

    name = "oracle"

    def __init__(self, scenario: Scenario, world: World) -> None:
        self.world = world
        self.cost = {a.arm: a.cost for a in scenario.arms}

    def choose(self, obs: Observation) -> str | None:
        means = self.world.rep.means[obs.slot]
        best: str | None = None
        for a in obs.arms:
            if not self.world.usable(obs.slot, a):
                continue
            if best is None or (means[a], -self.cost[a]) > (means[best], -self.cost[best]):
                best = a
        return best


class Static(Policy):
    """Per category, the first usable arm of the scenario's [static] preference list."""

    name = "static"

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.avail = Availability(scenario)

    def choose(self, obs: Observation) -> str | None:
        usable = set(self.avail.usable(obs))
        for a in self.scenario.static_order(obs.category):
            if a in usable:
                return a
        return None

    def learn(self, obs: Observation, outcome: Outcome) -> None:
        self.avail.learn(obs, outcome)


class RandomPolicy(Policy):
    name = "random"

    def __init__(self, scenario: Scenario, rng: random.Random) -> None:
        self.avail = Availability(scenario)
        self.rng = rng

    def choose(self, obs: Observation) -> str | None:
        usable = self.avail.usable(obs)
        return self.rng.choice(usable) if usable else None

    def learn(self, obs: Observation, outcome: Outcome) -> None:
        self.avail.learn(obs, outcome)


class _Counting(Policy):
    """Sample mean per (category, arm) from the sessions that ran."""

    def __init__(self, scenario: Scenario, rng: random.Random) -> None:
        self.avail = Availability(scenario)
        self.rng = rng
        self.n: dict[tuple[str, str], int] = {}
        self.total: dict[tuple[str, str], float] = {}
        self.n_cat: dict[str, int] = {}

    def learn(self, obs: Observation, outcome: Outcome) -> None:
        self.avail.learn(obs, outcome)
        if outcome.wasted:
            return
        key = (obs.category, outcome.arm)
        self.n[key] = self.n.get(key, 0) + 1
        self.total[key] = self.total.get(key, 0.0) + outcome.reward
        self.n_cat[obs.category] = self.n_cat.get(obs.category, 0) + 1

    def _untried(self, cat: str, usable: list[str]) -> list[str]:
        return [a for a in usable if (cat, a) not in self.n]

    def _argmax(self, usable: list[str], score: Callable[[str], float]) -> str:
        scores = [(score(a), a) for a in usable]
        top = max(s for s, _ in scores)
        return self.rng.choice([a for s, a in scores if s == top])  # ties broken at random


class EpsilonGreedy(_Counting):
    """With probability ε a random usable arm, else the best sample mean (untried arms first)."""

    name = "epsilon-greedy"

    def choose(self, obs: Observation) -> str | None:
        usable = self.avail.usable(obs)
        if not usable:
            return None
        if self.rng.random() < EPSILON:
            return self.rng.choice(usable)
        cat = obs.category
        untried = self._untried(cat, usable)
        if untried:
            return self.rng.choice(untried)
        return self._argmax(usable, lambda a: self.total[(cat, a)] / self.n[(cat, a)])


class UCB1(_Counting):
    """Mean + sqrt(2 ln N / n) per category; every usable arm is tried once first."""

    name = "ucb1"

    def choose(self, obs: Observation) -> str | None:
        usable = self.avail.usable(obs)
        if not usable:
            return None
        cat = obs.category
        untried = self._untried(cat, usable)
        if untried:
            return self.rng.choice(untried)
        log_n = math.log(max(1, self.n_cat.get(cat, 1)))

        def ucb(a: str) -> float:
            n = self.n[(cat, a)]
            return self.total[(cat, a)] / n + math.sqrt(2.0 * log_n / n)

        return self._argmax(usable, ucb)


class PlainTS(Policy):
    """Beta(1, 1) per (category, arm), fractional update α += r, β += 1 − r; no decay, no pooling."""

    name = "ts"

    def __init__(self, scenario: Scenario, rng: random.Random) -> None:
        self.avail = Availability(scenario)
        self.rng = rng
        self.ab: dict[tuple[str, str], list[float]] = {}

    def choose(self, obs: Observation) -> str | None:
        usable = self.avail.usable(obs)
        if not usable:
            return None
        best, best_draw = None, -1.0
        for a in usable:
            alpha, beta = self.ab.get((obs.category, a), (1.0, 1.0))
            d = self.rng.betavariate(alpha, beta)
            if d > best_draw:
                best, best_draw = a, d
        return best

    def learn(self, obs: Observation, outcome: Outcome) -> None:
        self.avail.learn(obs, outcome)
        if outcome.wasted:
            return
        ab = self.ab.setdefault((obs.category, outcome.arm), [1.0, 1.0])
        ab[0] += outcome.reward
        ab[1] += 1.0 - outcome.reward
