"""Each arm's posterior over time, rebuilt from the graded sessions with the product's own learning
code, and the learning events to mark on it (a detected change, a new arm). Pure, no I/O.

At each checkpoint the evidence holds exactly the observations graded by then, learnt through the
learning step the store takes (rota.learning.step.observe: the evidence rows and their change
tests, with what a detected change sets aside), and the posterior is the one select() samples from
(policy.arm_posterior). What the chart shows is what rota believed at that moment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rota.config import Config
from rota.learning import bandit, policy, step
from rota.learning.change import Drift

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
    `since` - 28 days on, any order (when each arm first ran)."""
    half_life_s = config.bandit.half_life_s
    arms = list(config.arms.values())
    out = PosteriorTimeline(times=checkpoints(since, until))
    for cat in categories:
        out.series[cat] = {a.arm: [] for a in arms}
    evidence: dict[tuple[str, str], bandit.Evidence] = {}
    drifts: dict[tuple[str, str], Drift] = {}
    i = 0
    last_change: dict[str, float] = {}
    for t in out.times:
        while i < len(observations) and observations[i][3] <= t:
            cat, arm, reward, at = observations[i]
            learnt = step.observe(evidence, drifts, cat, arm, reward, at, half_life_s)
            evidence.update(learnt.rows)
            drifts.update(learnt.drifts)
            found = learnt.change
            # A change found before the report starts is not news; one found again within
            # REPEAT_S is the same change.
            if found is not None and since < at and at - last_change.get(arm, -REPEAT_S) >= REPEAT_S:
                everywhere = found.category == bandit.OVERALL
                where = "" if everywhere else f" in {found.category}"
                out.events.append(
                    Event(
                        at,
                        "change",
                        arm,
                        f"{arm}: grades {found.label}{where}; older evidence set aside",
                        categories=() if everywhere else (found.category,),
                    )
                )
            if found is not None:
                last_change[arm] = at
            i += 1
        weight = policy.observation_weight(config, evidence)
        for cat in categories:
            for a in arms:
                post = policy.arm_posterior(config, evidence, cat, a, t, weight)
                low, high = post.interval(0.90)
                out.series[cat][a.arm].append(Point(t, post.mean, low, high, post.n))
    first_seen: dict[str, float] = {}
    for _cat, arm, _r, at in observations:
        first_seen.setdefault(arm, at)
    for r in records:
        if getattr(r, "status", "") in NOT_RUN:
            continue
        arm = getattr(r, "arm_ran", None) or getattr(r, "arm", "")
        at = float(getattr(r, "started_at", 0.0) or 0.0)
        if at < first_seen.get(arm, float("inf")):
            first_seen[arm] = at
    out.first_seen = first_seen
    # The arms rota started with are not news; one that first ran a day or more later is.
    start = min(first_seen.values(), default=0.0) + DAY
    for arm, at in sorted(first_seen.items(), key=lambda kv: kv[1]):
        if since < at <= until and at >= start:
            out.events.append(Event(at, "new_arm", arm, f"{arm}: first session"))
    out.events.sort(key=lambda e: e.t)
    return out


NOT_RUN = ("running", "abandoned", "interrupted")  # sessions that never ran to an outcome
