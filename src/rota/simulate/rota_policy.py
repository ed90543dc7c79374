"""The `rota` policy: the product's own selection, fed as `rota run` would feed it.

- The config is built from the scenario as a user would declare it (arms with tier and cost, pools
  with the harnesses/arms they cover, no capacities) and validated by rota.config.parse_config, so
  every bandit and pacing setting is the product default.
- Visible pools become QuotaStates, as a probe reports them.
- A wasted session becomes the LimitHit the harness's own profile reports, and the session
  outcome's own rule (rota.session.outcome.limit_blocks, given the quota states this slot saw and
  the blocks made so far) turns it into blocks.
- Graded rewards are learnt with rota.learning.step.observe, the learning step the store takes:
  the evidence rows and their change tests, with what a detected change sets aside.
- Every session is kept as a rota.quota.uses.Use (what Store.recent_uses makes of the sessions
  table) in rota.quota.learnt.QuotaLearning, which keeps what quota learning finds in that
  history up to date as sessions are added (what select works out from the history it is given:
  the same states, without rescanning up to 1,000 sessions before every decision).
- Each slot calls rota.learning.policy.select.
Nothing here tunes the policy: a better simulated rota needs a better product.
"""

from __future__ import annotations

import random
from typing import Any

from rota.config import Config, parse_config
from rota.harnesses.base import LimitHit
from rota.learning import bandit, policy, step
from rota.learning.change import Drift
from rota.quota.history import LEARN_LOOKBACK_S
from rota.quota.learnt import QuotaLearning
from rota.quota.state import Block, Level, QuotaState, levels_of, pool_use
from rota.quota.uses import Use
from rota.session.outcome import limit_blocks
from rota.simulate.scenario import Scenario
from rota.simulate.world import Observation, Outcome, Policy

_TIER_ORDER = ("free", "lowest", "low", "medium", "high", "highest", "max")


def tier_order(scenario: Scenario) -> list[str]:
    """Weakest first: the usual labels in their usual order; otherwise by the mean cost of arms."""
    tiers = list(dict.fromkeys(a.tier for a in scenario.arms))
    if all(t in _TIER_ORDER for t in tiers):
        return sorted(tiers, key=_TIER_ORDER.index)

    def mean_cost(t: str) -> float:
        costs = [a.cost for a in scenario.arms if a.tier == t]
        return sum(costs) / len(costs)

    return sorted(tiers, key=lambda t: (mean_cost(t), tiers.index(t)))


def config_dict(scenario: Scenario) -> dict[str, Any]:
    """The rota.toml a user would write for this scenario's arms and pools."""
    harnesses: dict[str, Any] = {}
    for a in scenario.arms:
        h = harnesses.setdefault(a.harness, {"models": {}})
        h["models"][a.model] = {"tier": a.tier, "cost": a.cost}
    pools: dict[str, Any] = {}
    for q in scenario.quotas:
        p: dict[str, Any] = {}
        if q.harnesses:
            p["harnesses"] = list(q.harnesses)
        if q.arms:
            p["arms"] = list(q.arms)
        pools[q.pool] = p
    return {
        "categories": list(scenario.categories),
        "tiers": tier_order(scenario),
        "harnesses": harnesses,
        "pools": pools,
    }


def build_config(scenario: Scenario) -> Config:
    return parse_config(config_dict(scenario), path=f"{scenario.path} (as a rota config)")


def check_config(scenario: Scenario) -> None:
    build_config(scenario)


class RotaPolicy(Policy):
    name = "rota"

    def __init__(self, scenario: Scenario, rng: random.Random) -> None:
        self.config = build_config(scenario)
        self.rng = rng
        self.half_life_s = self.config.bandit.half_life_s
        self.evidence: dict[tuple[str, str], bandit.Evidence] = {}
        self.drifts: dict[tuple[str, str], Drift] = {}  # the evidence rows' change tests
        self.changed: dict[tuple[str, str], float] = {}  # rows a detected change set aside, when
        self.blocks: list[Block] = []  # active
        self.block_history: list[Block] = []  # what the store's blocks table would hold
        self.window = {q.pool: f"{q.window_minutes:g}m" for q in scenario.quotas}
        self.last_decision: policy.Decision | None = None
        self.lookback_s = LEARN_LOOKBACK_S
        # The sessions table, as quota learning reads it (as decide() does: the same lookback and
        # the same row cap), and what it learns from it.
        self.quota = QuotaLearning(self.config.all_scopes(), lookback_s=self.lookback_s)
        self._profiles: dict[str, object] = {}
        self._states: list[QuotaState] = []
        self._levels: tuple[Level, ...] = ()

    @property
    def history(self) -> list[Use]:
        """Every session so far, oldest first (the sessions table)."""
        return self.quota.uses

    # -- what a probe reports ------------------------------------------------------------------
    def quota_states(self, obs: Observation) -> list[QuotaState]:
        return [
            QuotaState(
                scope_kind="pool",
                scope=p.pool,
                window=self.window[p.pool],
                available=p.available,
                utilization=p.used_fraction,
                resets_at=p.resets_at,
                source="api",
                window_minutes=p.window_minutes,
                observed_at=obs.now,
            )
            for p in obs.pools
        ]

    def choose(self, obs: Observation) -> str | None:
        self.blocks = [b for b in self.blocks if b.until > obs.now]
        self._states = self.quota_states(obs)
        self._levels = levels_of(self._states)
        # What select adds to the probes from a history it is given, kept as state here.
        learnt = self.quota.learned_states(self._states, obs.now)
        inputs = policy.SelectionInput(
            config=self.config,
            category=obs.category,
            now=obs.now,
            evidence=self.evidence,
            changed=self.changed,
            quota_states=[*self._states, *learnt] if learnt else self._states,
            blocks=self.blocks,
            arms=obs.arms,
        )
        decision = policy.select(inputs, self.rng)
        self.last_decision = decision
        return decision.arm

    # -- what `rota run` does after the session ------------------------------------------------
    def limit_hit(self, harness: str, resets_at: float | None) -> LimitHit:
        """The LimitHit the harness's own profile reports (per arm for multi-provider CLIs)."""
        prof = self._profiles.get(harness)
        if prof is None:
            from rota.harnesses.registry import profile_for

            prof = self._profiles[harness] = profile_for(harness, self.config.harnesses[harness])
        per_arm = bool(getattr(prof, "scope_arm", False))
        return LimitHit(
            message="usage limit reached",
            resets_at=resets_at,
            scope_kind="arm" if per_arm else "harness",
            scope="" if per_arm else harness,
        )

    def learn(self, obs: Observation, outcome: Outcome) -> None:
        arm = self.config.arms[outcome.arm]
        pools = self.config.arm_scopes(arm.arm).pools
        blocked: tuple[str, ...] = ()
        if outcome.wasted:
            hit = self.limit_hit(arm.harness, outcome.resets_at)
            blocks, scopes = limit_blocks(
                self.config, hit, arm.arm, obs.now, seen=self._states, previous=self.block_history
            )
            self.blocks.extend(blocks)
            self.block_history.extend(blocks)
            blocked = tuple(f"{k}:{s}" for k, s in scopes)
        self.quota.add(
            Use(
                arm=arm.arm,
                at=obs.now,
                limited=outcome.wasted,
                resets_at=outcome.resets_at,
                blocked=blocked,
                utilization=pool_use(self._states, pools),
                levels=self._levels,
                category=obs.category,
                reward=None if outcome.wasted else outcome.reward,
                graded_at=None if outcome.wasted else obs.now,
            )
        )
        if outcome.wasted:
            return  # a limit hit is not a grade
        # The store's learning step, on the same rows.
        learnt = step.observe(
            self.evidence,
            self.drifts,
            obs.category,
            arm.arm,
            outcome.reward,
            obs.now,
            self.half_life_s,
        )
        self.evidence.update(learnt.rows)
        self.drifts.update(learnt.drifts)
        if learnt.change is not None:
            for key, d in learnt.drifts.items():
                if d.changed_at:
                    self.changed[key] = d.changed_at
