"""Each arm's posterior over time, rebuilt from the graded sessions with the product's own learning
code, and the learning events to mark on it (a detected change, a new arm). Pure, no I/O.

At each checkpoint the evidence holds exactly the observations graded by then (bandit.update, as
the store applies them), shifts in grades are set aside as select() sets them aside
(policy.changed_evidence over the same bounded history), and the posterior is the one select()
samples from (policy.arm_posterior). What the chart shows is what rota believed at that moment.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field

from rota.config import Config
from rota.learning import bandit, policy
from rota.quota.history import HISTORY_LIMIT, LEARN_LOOKBACK_S
from rota.quota.uses import Use, uses_from_rows

DAY = 86400.0
MAX_CHECKPOINTS = 120  # points per line: enough for a smooth chart at any history size
MIN_STEP_S = 3600.0  # no finer than hourly
REPEAT_S = 3 * DAY  # a change found again this soon after the last one is not a new event


@dataclass(frozen=True, slots=True)
class Point:
    t: float
    mean: float
    low: float  # 90% interval
    high: float
    n: int  # graded observations in this category so far


@dataclass(frozen=True, slots=True)
class Event:
    t: float
    kind: str  # "change", "new_arm", "long_block"
    arm: str  # the arm (or the block's scope for long_block)
    text: str
    until: float | None = None  # long_block: when it ended
    categories: tuple[str, ...] = ()  # change: the categories it was found in (() = all)


@dataclass(slots=True)
class PosteriorTimeline:
    times: list[float]
    # category -> arm -> one Point per checkpoint
    series: dict[str, dict[str, list[Point]]] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    first_seen: dict[str, float] = field(default_factory=dict)  # arm -> its first session


def checkpoints(since: float, until: float) -> list[float]:
    span = max(0.0, until - since)
    n = int(min(MAX_CHECKPOINTS, max(2, span // MIN_STEP_S + 1)))
    if span <= 0:
        return [until]
    return [since + span * i / (n - 1) for i in range(n)]


def timeline(
    config: Config,
    observations: Sequence[tuple[str, str, float, float]],
    records: Sequence[object],
    since: float,
    until: float,
    categories: Sequence[str],
) -> PosteriorTimeline:
    """observations: every graded (category, arm, reward, at), oldest first (the whole history:
    the posterior at `since` depends on what came before). records: the session records from
    `since` - 28 days on (what selection's history reads), any order."""
    half_life_s = config.bandit.half_life_s
    uses = sorted(uses_from_rows(_rows(records)), key=lambda u: u.at)
    use_times = [u.at for u in uses]
    arms = list(config.arms.values())
    out = PosteriorTimeline(times=checkpoints(since, until))
    for cat in categories:
        out.series[cat] = {a.arm: [] for a in arms}
    evidence: dict[tuple[str, str], bandit.Evidence] = {}
    i = 0
    changed_before: set[str] = set()
    last_change: dict[str, float] = {}
    for t in out.times:
        while i < len(observations) and observations[i][3] <= t:
            cat, arm, reward, at = observations[i]
            for key in ((cat, arm), (bandit.OVERALL, arm)):
                ev = evidence.get(key) or bandit.Evidence(t=at)
                evidence[key] = bandit.update(ev, reward, at, half_life_s)
            i += 1
        weight = policy.observation_weight(config, evidence)
        history = _history(uses, use_times, t)
        changed = policy.changed_evidence(config, evidence, history, t, weight) if history else {}
        seen = {arm for (_cat, arm) in changed}
        for arm in sorted(seen - changed_before):
            # A shift already set aside when the report starts is not news; one that lapses and
            # is found again within REPEAT_S is the same shift.
            if t > since and t - last_change.get(arm, -REPEAT_S) >= REPEAT_S:
                cats = sorted(c for c, a in changed if a == arm and c != bandit.OVERALL)
                everywhere = (bandit.OVERALL, arm) in changed and len(cats) > 1
                where = "" if everywhere or not cats else f" in {', '.join(cats)}"
                out.events.append(
                    Event(
                        t,
                        "change",
                        arm,
                        f"{arm}: recent grades shifted{where}; older evidence set aside",
                        categories=() if everywhere else tuple(cats),
                    )
                )
            last_change[arm] = t
        changed_before = seen
        current = {**evidence, **changed} if changed else evidence
        for cat in categories:
            for a in arms:
                post = policy.arm_posterior(config, current, cat, a, t, weight)
                low, high = post.interval(0.90)
                out.series[cat][a.arm].append(Point(t, post.mean, low, high, post.n))
    first_seen: dict[str, float] = {}
    for _cat, arm, _r, at in observations:
        first_seen.setdefault(arm, at)
    for u in uses:
        if u.at < first_seen.get(u.arm, float("inf")):
            first_seen[u.arm] = u.at
    out.first_seen = first_seen
    # The arms rota started with are not news; one that first ran a day or more later is.
    start = min(first_seen.values(), default=0.0) + DAY
    for arm, at in sorted(first_seen.items(), key=lambda kv: kv[1]):
        if since < at <= until and at >= start:
            out.events.append(Event(at, "new_arm", arm, f"{arm}: first session"))
    out.events.sort(key=lambda e: e.t)
    return out


NOT_RUN = ("running", "abandoned", "interrupted")  # what Store.recent_uses leaves out


def _rows(records: Sequence[object]) -> list[tuple]:
    """Session records as the lean rows Store.recent_uses reads (so that the history is built by
    the same code, rota.quota.uses.uses_from_rows)."""
    import json

    rows = []
    for r in records:
        status = getattr(r, "status", "")
        if status in NOT_RUN:
            continue
        detail = getattr(r, "detail", None)
        text = None
        if isinstance(detail, dict) and detail.keys() & {"limit", "utilization", "levels"}:
            text = json.dumps(
                {k: detail[k] for k in ("limit", "utilization", "levels") if k in detail},
                default=str,
            )
        arm = getattr(r, "arm_ran", None) or getattr(r, "arm", "")
        rows.append(
            (
                arm,
                status,
                float(getattr(r, "started_at", 0.0) or 0.0),
                getattr(r, "category", ""),
                getattr(r, "reward", None),
                getattr(r, "graded_at", None),
                text,
            )
        )
    return rows


def _history(uses: list[Use], times: list[float], t: float) -> list[Use]:
    """What decide() reads at time t: the sessions of the last 28 days, at most HISTORY_LIMIT."""
    hi = bisect.bisect_right(times, t)
    lo = bisect.bisect_left(times, t - LEARN_LOOKBACK_S, 0, hi)
    lo = max(lo, hi - HISTORY_LIMIT)
    return uses[lo:hi]
