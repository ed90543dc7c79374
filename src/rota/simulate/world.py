"""The simulated environment: slots, categories, arms, reward draws, quota pools, outages, events.

One `Replicate` holds everything random about one run of the world (the category of each slot and
the graded reward every arm *would* earn at each slot), so that every policy in a replicate faces
exactly the same world (common random numbers: differences between policies are not noise in the
world). A `World` replays a replicate for one policy and keeps that policy's quota use.

Time: slot i happens at T0 + i * interval. Quota windows are fixed from t = 0 (slot 0).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from rota.simulate.outcomes import OutcomeSpec, draw_reward
from rota.simulate.scenario import ArmSpec, QuotaSpec, Scenario, Work, mean_of

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z: simulated clocks start here
EPS = 1e-9


@dataclass(frozen=True, slots=True)
class PoolView:
    """What a probe reports about a visible pool before a slot."""

    pool: str
    used_fraction: float
    resets_at: float
    window_minutes: float
    available: bool


@dataclass(frozen=True, slots=True)
class Observation:
    slot: int
    now: float  # epoch seconds
    category: str
    arms: tuple[str, ...]  # the arms that exist at this slot
    pools: tuple[PoolView, ...]  # visible pools only


@dataclass(frozen=True, slots=True)
class Outcome:
    arm: str
    wasted: bool
    reward: float  # 0 when wasted
    resets_at: float | None = None  # told on a limit hit when the pool's reset is known
    cause: str = ""  # for metrics only (policies must not use it): pool name or "outage"
    visible: bool = False  # for metrics only: the refusing pool was visible

    @property
    def limited(self) -> bool:
        return self.wasted


class Policy:
    """What plays the world: choose() an arm (or None) for a slot; learn() from what happened."""

    name = "policy"

    def choose(self, obs: Observation) -> str | None:
        raise NotImplementedError

    def learn(self, obs: Observation, outcome: Outcome) -> None:
        pass


def slot_time(scenario: Scenario, slot: int) -> float:
    return T0 + slot * scenario.interval_minutes * 60.0


def window_index(scenario: Scenario, quota: QuotaSpec, slot: int) -> int:
    return int(math.floor(slot * scenario.interval_minutes / quota.window_minutes + EPS))


def window_reset(quota: QuotaSpec, k: int) -> float:
    return T0 + (k + 1) * quota.window_minutes * 60.0


def beta_draw(rng: random.Random, mean: float, spread: float) -> float:
    if mean <= 0.0:
        return 0.0
    if mean >= 1.0:
        return 1.0
    return rng.betavariate(mean * spread, (1.0 - mean) * spread)


@dataclass(slots=True)
class Replicate:
    """The random part of one run of the world, shared by every policy."""

    index: int
    categories: list[str]  # per slot
    means: list[dict[str, float]]  # per slot: existing arm -> true mean for that slot's category
    rewards: list[dict[str, float]]  # per slot: existing arm -> the reward it would earn
    unavailable: list[frozenset[str]]  # per slot: arms failing every session (outages)
    existing: list[tuple[str, ...]]  # per slot: arms that exist

    @classmethod
    def build(cls, scenario: Scenario, index: int, seed: int) -> Replicate:
        rng = random.Random(f"rota-simulate:{seed}:{index}")
        cats = list(scenario.categories)
        weights = list(scenario.categories.values())
        categories = rng.choices(cats, weights=weights, k=scenario.sessions)

        tables: dict[str, dict[str, Work]] = {a.arm: a.work for a in scenario.arms}
        events = list(scenario.events)
        outages: list[tuple[float, float, set[str]]] = []
        means: list[dict[str, float]] = []
        rewards: list[dict[str, float]] = []
        unavailable: list[frozenset[str]] = []
        existing: list[tuple[str, ...]] = []
        ei = 0
        for slot in range(scenario.sessions):
            while ei < len(events) and events[ei].at <= slot:
                ev = events[ei]
                ei += 1
                hit = [a for a in scenario.arms if a.arm == ev.arm or a.harness == ev.harness]
                for a in hit:  # missing categories keep theirs
                    tables[a.arm].update(ev.reward)
                    tables[a.arm].update(ev.outcomes)
                if ev.unavailable_for_minutes:
                    start = slot_time(scenario, ev.at)
                    end = start + ev.unavailable_for_minutes * 60.0
                    outages.append((start, end, {a.arm for a in hit}))
            now = slot_time(scenario, slot)
            cat = categories[slot]
            here = tuple(a.arm for a in scenario.arms if a.start <= slot)
            m = {a: mean_of(tables[a], cat) for a in here}
            means.append(m)
            rewards.append(
                {a.arm: _draw(rng, tables[a.arm], cat, m[a.arm], a) for a in _arms(scenario, here)}
            )
            down: set[str] = set()
            for start, end, arms in outages:
                if start <= now < end:
                    down |= arms
            unavailable.append(frozenset(down & set(here)))
            existing.append(here)
        return cls(index, categories, means, rewards, unavailable, existing)


def _draw(rng: random.Random, table: dict[str, Work], cat: str, mean: float, arm: ArmSpec) -> float:
    """One session's reward: graded by the product's code from drawn outcomes, or a Beta draw
    around the mean."""
    work = table.get(cat, table.get("default"))
    if isinstance(work, OutcomeSpec):
        return draw_reward(work, rng)
    return beta_draw(rng, mean, arm.spread)


def _arms(scenario: Scenario, names: tuple[str, ...]) -> list[ArmSpec]:
    return [a for a in scenario.arms if a.arm in names]


@dataclass(slots=True)
class World:
    """One policy's run through one replicate: quota use per pool and window."""

    scenario: Scenario
    rep: Replicate
    used: dict[str, float] = field(default_factory=dict)  # pool -> units used in window `win`
    win: dict[str, int] = field(default_factory=dict)
    _covering: dict[str, tuple[QuotaSpec, ...]] = field(default_factory=dict)
    _units: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for a in self.scenario.arms:
            self._covering[a.arm] = tuple(q for q in self.scenario.quotas if q.covers(a))
            self._units[a.arm] = a.units
        for q in self.scenario.quotas:
            self.used[q.pool] = 0.0
            self.win[q.pool] = 0

    def _roll(self, slot: int) -> None:
        for q in self.scenario.quotas:
            k = window_index(self.scenario, q, slot)
            if k != self.win[q.pool]:
                self.win[q.pool] = k
                self.used[q.pool] = 0.0

    def observe(self, slot: int) -> Observation:
        self._roll(slot)
        views = tuple(
            PoolView(
                pool=q.pool,
                used_fraction=min(1.0, self.used[q.pool] / q.capacity) if q.capacity else 1.0,
                resets_at=window_reset(q, self.win[q.pool]),
                window_minutes=q.window_minutes,
                available=self.used[q.pool] < q.capacity - EPS,
            )
            for q in self.scenario.quotas
            if q.visible
        )
        return Observation(
            slot=slot,
            now=slot_time(self.scenario, slot),
            category=self.rep.categories[slot],
            arms=self.rep.existing[slot],
            pools=views,
        )

    def full_pools(self, arm: str) -> list[QuotaSpec]:
        """Pools covering `arm` without room for one of its sessions now."""
        units = self._units[arm]
        return [q for q in self._covering[arm] if self.used[q.pool] + units > q.capacity + EPS]

    def usable(self, slot: int, arm: str) -> bool:
        """Would a session of `arm` run now? (The oracle's knowledge; call after observe.)"""
        if arm not in self.rep.rewards[slot] or arm in self.rep.unavailable[slot]:
            return False
        return not self.full_pools(arm)

    def play(self, slot: int, arm: str) -> Outcome:
        """Run one session of `arm` at `slot` (after observe(slot))."""
        if arm not in self.rep.rewards[slot]:
            raise ValueError(f"policy chose {arm!r}, which does not exist at slot {slot}")
        if arm in self.rep.unavailable[slot]:
            return Outcome(arm, True, 0.0, None, "outage")
        full = self.full_pools(arm)
        if full:
            # The error is about the pool that keeps the arm out longest.
            q = max(full, key=lambda q: window_reset(q, self.win[q.pool]))
            reset = window_reset(q, self.win[q.pool]) if q.reset_known else None
            return Outcome(arm, True, 0.0, reset, q.pool, q.visible)
        units = self._units[arm]
        for q in self._covering[arm]:
            self.used[q.pool] += units
        return Outcome(arm, False, self.rep.rewards[slot][arm])
