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
from rota.learning.decision import (
    Candidate,
    Decision,
    change_note,
    cost_note,
    explore_note,
    why_text,
)
from rota.learning.pacing import pacing_adjustment
from rota.learning.posteriors import arm_posterior, observation_weight
from rota.quota.history import learned_states
from rota.quota.state import Block, QuotaState, blocking, exhausting, states_for
from rota.quota.uses import Use
from rota.records import record


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


def _rule_reason(arm: ArmConfig, rule: Rule | None, config: Config) -> tuple[str, ...] | None:
    """Why the category's rule keeps the arm out (a reason code for the Candidate), or None."""
    if rule is None:
        return None
    if arm.arm in rule.exclude:
        return ("excluded", rule.category)
    if rule.pin and arm.arm not in rule.pin:
        return ("not_pinned", rule.category)
    rank = config.tier_rank(arm.tier)
    if rule.min_tier and rank < config.tier_rank(rule.min_tier):
        return ("below_min", arm.tier, rule.min_tier, rule.category)
    if rule.max_tier and rank > config.tier_rank(rule.max_tier):
        return ("above_max", arm.tier, rule.max_tier, rule.category)
    return None


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
    pacing: dict[tuple[int, ...], tuple[float, str]] = {}
    for arm in cfg.arms.values():
        if allowed is not None and arm.arm not in allowed:
            continue
        c = Candidate(arm.arm, arm.harness, arm.model, arm.tier, arm.cost)
        candidates.append(c)
        post = arm_posterior(cfg, evidence, inputs.category, arm, now, weight)
        if inputs.changed:
            c.changed_at = _changed_at(inputs.changed, inputs.category, arm.arm, now, half_life_s)
            if c.changed_at:
                c.notes.append(change_note(c.changed_at))
        c.mean = post.mean
        c.low, c.high = post.interval(0.90)
        c.n = post.n
        # The sample is drawn for every arm, eligible or not, so that a seed gives the same
        # draws whatever the quota situation: reproducible and easy to explain.
        c.sample = post.sample(rng, settings.exploration)

        if not arm.enabled or not cfg.harnesses[arm.harness].enabled:
            c.rule_out(("disabled",))
            continue
        scopes = all_scopes[arm.arm]
        blk = blocking(scopes, inputs.blocks, now)
        if blk is not None:
            c.rule_out(("blocked", blk.scope_kind, blk.scope, blk.until), blk.until, blk.reason)
            continue
        ex = exhausting(scopes, states, now)
        if ex is not None:
            code = ("exhausted", ex.scope_kind, ex.scope, ex.window, ex.source, ex.resets_at)
            c.rule_out(code, ex.resets_at, ex.reason)
            continue
        full = [
            p
            for p in scopes.pools
            if cfg.pools[p].concurrency and inputs.pool_busy.get(p, 0) >= cfg.pools[p].concurrency
        ]
        if full:
            c.rule_out(("pool", full[0], cfg.pools[full[0]].concurrency))
            continue
        reason = _rule_reason(arm, rule, cfg)
        if reason:
            c.rule_out(reason)
            continue

        score = c.sample
        if inputs.costs is not None and arm.arm in inputs.costs:
            relative, how = inputs.costs[arm.arm]
            c.cost = round(relative, 4)  # comparable across arms (prefer_cheapest)
        else:
            relative, how = arm.cost / max_cost, ""
        if settings.cost_weight and relative:
            c.cost_penalty = settings.cost_weight * relative
            score -= c.cost_penalty
            c.notes.append(
                cost_note(c.cost_penalty) + (f" ({how})" if how.startswith("measured") else "")
            )
        if cfg.pacing.enabled:
            covering = states_for(scopes, states)
            # Arms covered by the same windows (a harness's models) are paced alike.
            key = tuple(map(id, covering))
            paced = pacing.get(key)
            if paced is None:
                paced = pacing[key] = pacing_adjustment(covering, cfg.pacing, now)
            delta, note = paced
            if delta:
                c.pacing = delta
                score += delta
                c.notes.append(note)
        overall = evidence.get((bandit.OVERALL, arm.arm))
        tried = overall.decayed(now, half_life_s) if overall else (0.0, 0.0)
        if sum(tried) < settings.explore_min_trials:
            # Deliberate, bounded exploration: an arm with (almost) no record is tried first, until it
            # has explore_min_trials observations; otherwise it stays at its prior forever.
            score += 1.0
            c.explore = settings.explore_min_trials
            c.notes.append(explore_note(c.explore))
        c.score = score

    eligible = [c for c in candidates if c.eligible]
    earliest = min((c.until for c in candidates if c.until is not None), default=None)
    if not eligible:
        code: tuple[object, ...] = ("none",) if candidates else ("no_arms",)
        why = why_text(code, None, earliest)
        return Decision(
            inputs.category, None, candidates, earliest, why, weight, decided_at=now, why_code=code
        )

    if rule is not None and rule.pin:
        order = {a: i for i, a in enumerate(rule.pin)}
        best = min(eligible, key=lambda c: order.get(c.arm, len(order)))
        code = ("pin", rule.category)
    else:
        best = max(eligible, key=lambda c: c.score or 0.0)
        code = ("draw",)
        near = [c for c in eligible if (best.score or 0.0) - (c.score or 0.0) <= settings.near_tie]
        if rule is not None and rule.prefer_cheapest and len(near) > 1:
            cheapest = min(near, key=lambda c: (c.cost, -(c.score or 0.0)))
            if cheapest is not best:
                code = ("cheapest", len(near), settings.near_tie, rule.category)
                best = cheapest
    why = why_text(code, best, None)
    return Decision(
        inputs.category, best.arm, candidates, None, why, weight, decided_at=now, why_code=code
    )


def _changed_at(
    changed: Mapping[tuple[str, str], float], category: str, arm: str, now: float, hl: float
) -> float:
    """When a change in the arm's grades (in this category or overall) was found, if within a
    half-life; else 0."""
    at = max(changed.get((category, arm), 0.0), changed.get((bandit.OVERALL, arm), 0.0))
    return at if at and now - at <= hl else 0.0
