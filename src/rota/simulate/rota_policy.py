"""The `rota` policy: the product's own selection, fed as `rota run` would feed it.

- The config is built from the scenario as a user would declare it (arms with tier and cost, pools
  with the harnesses/arms they cover, no capacities) and validated by rota.config.parse_config, so
  every bandit and pacing setting is the product default.
- Visible pools become QuotaStates, as a probe reports them.
- A wasted session becomes the LimitHit a harness profile reports, and the product's own
  rate-limit handling (rota.quota) turns it into blocks.
- Graded rewards update the evidence with rota.bandit.update, exactly as the store does.
- Each slot calls rota.policy.select.
Nothing here tunes the policy: a better simulated rota needs a better product.
"""

from __future__ import annotations

import random
from typing import Any

from rota import bandit, policy, quota
from rota.config import Config, parse_config
from rota.harnesses.base import LimitHit
from rota.simulate.baselines import Policy
from rota.simulate.scenario import Scenario
from rota.simulate.world import Observation, Outcome

DAY = 86400.0
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
        self.half_life_s = self.config.bandit.half_life_days * DAY
        self.evidence: dict[tuple[str, str], bandit.Evidence] = {}
        self.blocks: list[quota.Block] = []  # active
        self.block_history: list[quota.Block] = []  # what the store's blocks table would hold
        self.window = {q.pool: f"{q.window_minutes:g}m" for q in scenario.quotas}
        self.last_decision: policy.Decision | None = None
        self.history: list[quota.Use] = []  # the sessions table, as quota learning reads it
        self.lookback_s = quota.LEARN_LOOKBACK_S
        self._probed: dict[str, float] = {}

    # -- what a probe reports ------------------------------------------------------------------
    def quota_states(self, obs: Observation) -> list[quota.QuotaState]:
        return [
            quota.QuotaState(
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
        cut = obs.now - self.lookback_s
        if self.history and self.history[0].at < cut:
            self.history = [u for u in self.history if u.at >= cut]
        self._probed = {p.pool: p.used_fraction for p in obs.pools}
        inputs = policy.SelectionInput(
            config=self.config,
            category=obs.category,
            now=obs.now,
            evidence=self.evidence,
            quota_states=self.quota_states(obs),
            blocks=self.blocks,
            arms=obs.arms,
            history=self.history,
        )
        decision = policy.select(inputs, self.rng)
        self.last_decision = decision
        return decision.arm

    # -- what `rota run` does after the session ------------------------------------------------
    def learn(self, obs: Observation, outcome: Outcome) -> None:
        arm = self.config.arms[outcome.arm]
        scopes = self.config.arm_scopes(arm.arm)
        self.history.append(
            quota.Use(
                arm=arm.arm,
                at=obs.now,
                limited=outcome.wasted,
                resets_at=outcome.resets_at,
                utilization={p: u for p, u in self._probed.items() if p in scopes.pools},
            )
        )
        if outcome.wasted:
            # What a harness profile reports: a limit on the harness, with the reset if it said one.
            hit = LimitHit(
                message="usage limit reached",
                resets_at=outcome.resets_at,
                scope_kind="harness",
                scope=arm.harness,
            )
            self._limit(hit, scopes, obs.now)
            return
        for key in ((obs.category, arm.arm), (bandit.OVERALL, arm.arm)):
            ev = self.evidence.get(key) or bandit.Evidence(t=obs.now)
            self.evidence[key] = bandit.update(ev, outcome.reward, obs.now, self.half_life_s)

    def _limit(self, hit: LimitHit, scopes: quota.ArmScopes, now: float) -> None:
        """What the runner does with a LimitHit: block what it covers, until the reset or a backoff."""
        for kind, scope in quota.limit_scopes(
            scopes, hit.scope_kind, hit.scope, reset_known=hit.resets_at is not None
        ):
            previous = max(
                (b for b in self.block_history if b.scope_kind == kind and b.scope == scope),
                key=lambda b: b.created_at,
                default=None,
            )
            b = quota.block_after_limit(
                kind, scope, resets_at=hit.resets_at, now=now, previous=previous, reason=hit.message
            )
            self.blocks.append(b)
            self.block_history.append(b)
