"""The selection pipeline: candidates -> quota and blocks -> rules -> bandit -> Decision. Pure.

`select` is the one decision function: `rota select`, `rota run` and `rota simulate` all call it.
It takes everything it needs as data (config, evidence, quota states, blocks, clock, rng) and
returns a Decision that explains itself for every configured arm.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from types import MappingProxyType

from rota.config import ArmConfig, Config, Rule
from rota.learning import bandit
from rota.learning.pacing import pacing_adjustment
from rota.learning.posteriors import arm_posterior, observation_weight
from rota.quota.history import learned_states
from rota.quota.state import Block, QuotaState, blocking, exhausting, states_for
from rota.quota.uses import Use
from rota.records import record
from rota.timefmt import iso


class Candidate:
    """One arm in a decision: whether it could be chosen, and if not why; its posterior and draw."""

    __slots__ = (
        "arm", "harness", "model", "tier", "cost", "eligible", "reason", "until",
        "mean", "low", "high", "n", "sample", "score", "notes",
    )  # fmt: skip

    def __init__(self, arm: str, harness: str, model: str, tier: str, cost: float) -> None:
        self.arm, self.harness, self.model, self.tier, self.cost = arm, harness, model, tier, cost
        self.eligible = True
        self.reason = ""
        self.until: float | None = None  # when an ineligible arm becomes usable again, if known
        self.mean: float | None = None
        self.low: float | None = None
        self.high: float | None = None
        self.n = 0
        self.sample: float | None = None
        self.score: float | None = None
        self.notes: list[str] = []

    def to_dict(self) -> dict[str, object]:
        return {
            "arm": self.arm,
            "harness": self.harness,
            "model": self.model,
            "tier": self.tier,
            "cost": self.cost,
            "eligible": self.eligible,
            "reason": self.reason,
            "until": self.until,
            "mean": _r(self.mean),
            "interval": [_r(self.low), _r(self.high)] if self.low is not None else None,
            "n": self.n,
            "sample": _r(self.sample),
            "score": _r(self.score),
            "notes": list(self.notes),
        }


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


class Decision:
    """The outcome of select(): the chosen arm (or None), why, and every candidate's story."""

    __slots__ = (
        "category",
        "arm",
        "candidates",
        "earliest_reset",
        "why",
        "weight",
        "seed",
        "decided_at",
    )

    def __init__(
        self,
        category: str,
        arm: str | None,
        candidates: list[Candidate],
        earliest_reset: float | None,
        why: str,
        weight: float,
        seed: int | None = None,
        decided_at: float = 0.0,
    ) -> None:
        self.category, self.arm, self.candidates = category, arm, candidates
        self.earliest_reset, self.why, self.weight = earliest_reset, why, weight
        self.seed, self.decided_at = seed, decided_at

    @property
    def harness(self) -> str | None:
        return self.arm.split(":", 1)[0] if self.arm else None

    @property
    def model(self) -> str | None:
        return self.arm.split(":", 1)[1] if self.arm else None

    def to_dict(self) -> dict[str, object]:
        return {
            "arm": self.arm,
            "harness": self.harness,
            "model": self.model,
            "category": self.category,
            "why": self.why,
            "observation_weight": round(self.weight, 3),
            "earliest_reset": self.earliest_reset,
            "decided_at": self.decided_at,
            "seed": self.seed,
            "candidates": [c.to_dict() for c in self.candidates],
        }


@record
class SelectionInput:
    config: Config
    category: str
    now: float
    evidence: Mapping[tuple[str, str], bandit.Evidence]
    quota_states: Sequence[QuotaState] = ()
    blocks: Sequence[Block] = ()
    pool_busy: Mapping[str, int] = MappingProxyType({})  # running sessions per pool
    arms: Sequence[str] | None = None  # restrict to these arms (the simulator's existing arms)
    # Recent sessions (rota.quota.uses.Use): limits that no probe reports are learnt from own hits.
    history: Sequence[Use] = ()
    # arm -> (relative cost in [0, 1], how it was found), when some arm's cost is measured
    # (rota.learning.costs.relative_costs); None: each arm's cost over the dearest arm's.
    costs: Mapping[str, tuple[float, str]] | None = None
    # When a detected change last set aside an arm's older evidence, per row (rota.learning.step).
    changed: Mapping[tuple[str, str], float] = MappingProxyType({})


def learned_from_history(
    config: Config, history: Sequence[Use], states: Sequence[QuotaState], now: float
) -> list[QuotaState]:
    """What the recorded sessions add to the probes (rota.quota.history.learned_states), for every arm."""
    return learned_states(config.all_scopes(), history, states, now)


def rule_for(config: Config, category: str) -> Rule | None:
    return config.rules.get(category) or config.rules.get("default")


def _rule_reason(arm: ArmConfig, rule: Rule | None, config: Config) -> str:
    if rule is None:
        return ""
    where = f"rules.{rule.category}"
    if arm.arm in rule.exclude:
        return f"excluded by rule {where}.exclude"
    if rule.pin and arm.arm not in rule.pin:
        return f"not pinned by rule {where}.pin"
    rank = config.tier_rank(arm.tier)
    if rule.min_tier and rank < config.tier_rank(rule.min_tier):
        return f"tier {arm.tier} is below min_tier {rule.min_tier} ({where})"
    if rule.max_tier and rank > config.tier_rank(rule.max_tier):
        return f"tier {arm.tier} is above max_tier {rule.max_tier} ({where})"
    return ""


def select(inputs: SelectionInput, rng: random.Random) -> Decision:
    cfg = inputs.config
    now = inputs.now
    settings = cfg.bandit
    half_life_s = settings.half_life_s
    weight = observation_weight(cfg, inputs.evidence)
    rule = rule_for(cfg, inputs.category)
    allowed = set(inputs.arms) if inputs.arms is not None else None
    states: Sequence[QuotaState] = inputs.quota_states
    evidence = inputs.evidence
    if inputs.history:
        states = [*states, *learned_from_history(cfg, inputs.history, states, now)]

    all_scopes = cfg.all_scopes()
    max_cost = max((a.cost for a in cfg.arms.values()), default=1.0) or 1.0
    candidates: list[Candidate] = []
    for arm in cfg.arms.values():
        if allowed is not None and arm.arm not in allowed:
            continue
        c = Candidate(arm.arm, arm.harness, arm.model, arm.tier, arm.cost)
        candidates.append(c)
        post = arm_posterior(cfg, evidence, inputs.category, arm, now, weight)
        note = _change_note(inputs.changed, inputs.category, arm.arm, now, half_life_s)
        if note:
            c.notes.append(note)
        c.mean = post.mean
        c.low, c.high = post.interval(0.90)
        c.n = post.n
        # The sample is drawn for every arm, eligible or not, so that a seed gives the same
        # draws whatever the quota situation: reproducible and easy to explain.
        c.sample = post.sample(rng, settings.exploration)

        if not arm.enabled or not cfg.harnesses[arm.harness].enabled:
            c.eligible, c.reason = False, "disabled in config"
            continue
        scopes = all_scopes[arm.arm]
        blk = blocking(scopes, inputs.blocks, now)
        if blk is not None:
            c.eligible, c.until = False, blk.until
            c.reason = f"blocked ({blk.scope_kind} {blk.scope}) until {_iso(blk.until)}" + (
                f": {blk.reason}" if blk.reason else ""
            )
            continue
        ex = exhausting(scopes, states, now)
        if ex is not None:
            c.eligible, c.until = False, ex.resets_at
            label = f"{ex.scope_kind} {ex.scope}" + (f" {ex.window}" if ex.window else "")
            c.reason = (
                f"exhausted ({label}, {ex.source})"
                + (f" until {_iso(ex.resets_at)}" if ex.resets_at else "")
                + (f": {ex.reason}" if ex.reason else "")
            )
            continue
        full = [
            p
            for p in scopes.pools
            if cfg.pools[p].concurrency and inputs.pool_busy.get(p, 0) >= cfg.pools[p].concurrency
        ]
        if full:
            c.eligible = False
            c.reason = (
                f"pool {full[0]} is at its concurrency limit ({cfg.pools[full[0]].concurrency})"
            )
            continue
        reason = _rule_reason(arm, rule, cfg)
        if reason:
            c.eligible, c.reason = False, reason
            continue

        score = c.sample
        if inputs.costs is not None and arm.arm in inputs.costs:
            relative, how = inputs.costs[arm.arm]
            c.cost = round(relative, 4)  # comparable across arms (prefer_cheapest)
        else:
            relative, how = arm.cost / max_cost, ""
        if settings.cost_weight and relative:
            penalty = settings.cost_weight * relative
            score -= penalty
            c.notes.append(
                f"cost -{penalty:.3f}" + (f" ({how})" if how.startswith("measured") else "")
            )
        if cfg.pacing.enabled:
            delta, note = pacing_adjustment(states_for(scopes, states), cfg.pacing, now)
            if delta:
                score += delta
                c.notes.append(note)
        overall = evidence.get((bandit.OVERALL, arm.arm))
        tried = overall.decayed(now, half_life_s) if overall else (0.0, 0.0)
        if sum(tried) < settings.explore_min_trials:
            # Deliberate, bounded exploration: an arm with (almost) no record is tried first, until it
            # has explore_min_trials observations; otherwise it stays at its prior forever.
            score += 1.0
            c.notes.append(f"explore: fewer than {settings.explore_min_trials} observations")
        c.score = score

    eligible = [c for c in candidates if c.eligible]
    earliest = min((c.until for c in candidates if c.until is not None), default=None)
    if not eligible:
        why = "no eligible arm: " + (
            f"earliest reset {_iso(earliest)}" if earliest else "no reset time known"
        )
        if not candidates:
            why = "no arms configured: add models under [harnesses.NAME.models]"
        return Decision(inputs.category, None, candidates, earliest, why, weight, decided_at=now)

    if rule is not None and rule.pin:
        order = {a: i for i, a in enumerate(rule.pin)}
        best = min(eligible, key=lambda c: order.get(c.arm, len(order)))
        why = f"pinned by rules.{rule.category}.pin"
    else:
        best = max(eligible, key=lambda c: c.score or 0.0)
        why = f"highest Thompson draw {best.sample:.3f} (score {best.score:.3f})"
        near = [c for c in eligible if (best.score or 0.0) - (c.score or 0.0) <= settings.near_tie]
        if rule is not None and rule.prefer_cheapest and len(near) > 1:
            cheapest = min(near, key=lambda c: (c.cost, -(c.score or 0.0)))
            if cheapest is not best:
                why = (
                    f"cheapest of {len(near)} near-equal arms (within {settings.near_tie}), "
                    f"rules.{rule.category}.prefer_cheapest"
                )
                best = cheapest
    return Decision(inputs.category, best.arm, candidates, None, why, weight, decided_at=now)


def _change_note(
    changed: Mapping[tuple[str, str], float], category: str, arm: str, now: float, hl: float
) -> str:
    """A change detected in the arm's grades within a half-life, as --explain says it."""
    at = max(changed.get((category, arm), 0.0), changed.get((bandit.OVERALL, arm), 0.0))
    if not at or now - at > hl:
        return ""
    return f"its grades shifted (found {_iso(at)}): evidence from before set aside"


def _iso(ts: float | None) -> str:
    """To the second: reasons read the same whatever the clock's fractions."""
    return "unknown" if ts is None else str(iso(int(ts)))
