"""What one policy earned in one replicate (RunRecord), and summaries over replicates with 95% CIs."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from rota.simulate.scenario import Scenario

AFTER_EVENT_SLOTS = 100

# Student t, two-sided 95%, by degrees of freedom (replicates - 1).
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


@dataclass(slots=True)
class RunRecord:
    """One policy through one replicate."""

    policy: str
    rewards: list[float]  # per slot (0 for wasted or idle slots)
    cost: float = 0.0  # sum of the cost of the sessions that ran
    sessions: int = 0
    idle: int = 0  # slots where the policy chose no arm
    wasted_visible: int = 0
    wasted_invisible: int = 0
    wasted_outage: int = 0
    exhaustions: int = 0  # distinct (invisible pool, window) pairs that refused a session
    picks: dict[str, int] = field(default_factory=dict)
    # new arm -> [slots since it appeared where it was the best mean, of which the policy picked it]
    new_arm: dict[str, list[int]] = field(default_factory=dict)
    # new arm -> how many of its best slots passed before the policy picked it in 5 of the last 10
    adopted_after: dict[str, float] = field(default_factory=dict)

    @property
    def wasted(self) -> int:
        return self.wasted_visible + self.wasted_invisible + self.wasted_outage

    @property
    def total(self) -> float:
        return math.fsum(self.rewards)


def t975(n: int) -> float:
    df = n - 1
    if df < 1:
        return float("nan")
    if df <= len(_T975):
        return _T975[df - 1]
    return 1.960 + 2.37 / df  # Cornish-Fisher tail of the t distribution


@dataclass(frozen=True, slots=True)
class Stat:
    mean: float
    lo: float
    hi: float
    n: int

    @classmethod
    def of(cls, xs: Sequence[float]) -> Stat:
        xs = [x for x in xs if not math.isnan(x)]
        n = len(xs)
        if n == 0:
            return cls(float("nan"), float("nan"), float("nan"), 0)
        m = math.fsum(xs) / n
        if n == 1:
            return cls(m, m, m, 1)
        var = math.fsum((x - m) ** 2 for x in xs) / (n - 1)
        half = t975(n) * math.sqrt(var / n)
        return cls(m, m - half, m + half, n)


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else float("nan")


@dataclass(slots=True)
class PolicySummary:
    policy: str
    reward_per_slot: Stat
    pct_of_oracle: Stat
    wasted: Stat
    wasted_visible: Stat
    wasted_invisible: Stat
    wasted_outage: Stat
    waste_per_exhaustion: Stat
    cost_per_reward: Stat
    idle: Stat
    events: list[dict[str, object]]
    new_arms: dict[str, Stat]
    adoption: dict[str, Stat]  # best slots until adopted (ADOPT_OF of the last ADOPT_IN picked)
    cumulative: list[float]  # mean cumulative reward by slot (for plots)


def summarise(
    scenario: Scenario, runs: Sequence[dict[str, RunRecord]], policies: Sequence[str]
) -> dict[str, PolicySummary]:
    """Per policy, over replicates. `runs[i][policy]` is replicate i; the oracle must be present."""
    slots = scenario.sessions
    oracle = [r["oracle"] for r in runs]
    marks = scenario.milestones()
    out: dict[str, PolicySummary] = {}
    for name in policies:
        recs = [r[name] for r in runs]
        events: list[dict[str, object]] = []
        for at, label in marks:
            end = min(slots, at + AFTER_EVENT_SLOTS)
            got = [math.fsum(rec.rewards[at:end]) for rec in recs]
            best = [math.fsum(o.rewards[at:end]) for o in oracle]
            events.append(
                {
                    "slot": at,
                    "event": label,
                    "slots": end - at,
                    "reward": Stat.of(got),
                    "pct_of_oracle": Stat.of(
                        [100 * _ratio(g, b) for g, b in zip(got, best, strict=True)]
                    ),
                }
            )
        new_arms: dict[str, Stat] = {}
        adoption: dict[str, Stat] = {}
        for arm in recs[0].new_arm:
            new_arms[arm] = Stat.of(
                [100 * _ratio(rec.new_arm[arm][1], rec.new_arm[arm][0]) for rec in recs]
            )
            adoption[arm] = Stat.of([rec.adopted_after[arm] for rec in recs])
        cum = [0.0] * slots
        for rec in recs:
            acc = 0.0
            for i, x in enumerate(rec.rewards):
                acc += x
                cum[i] += acc
        cum = [c / len(recs) for c in cum]
        out[name] = PolicySummary(
            policy=name,
            reward_per_slot=Stat.of([rec.total / slots for rec in recs]),
            pct_of_oracle=Stat.of(
                [100 * _ratio(rec.total, o.total) for rec, o in zip(recs, oracle, strict=True)]
            ),
            wasted=Stat.of([rec.wasted for rec in recs]),
            wasted_visible=Stat.of([rec.wasted_visible for rec in recs]),
            wasted_invisible=Stat.of([rec.wasted_invisible for rec in recs]),
            wasted_outage=Stat.of([rec.wasted_outage for rec in recs]),
            waste_per_exhaustion=Stat.of(
                [_ratio(rec.wasted_invisible, rec.exhaustions) for rec in recs]
            ),
            cost_per_reward=Stat.of([_ratio(rec.cost, rec.total) for rec in recs]),
            idle=Stat.of([rec.idle for rec in recs]),
            events=events,
            new_arms=new_arms,
            adoption=adoption,
            cumulative=cum,
        )
    return out
