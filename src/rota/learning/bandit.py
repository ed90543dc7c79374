"""Beta posteriors over graded rewards: update, per-arm time decay, pooling, sampling. Pure, no I/O.

Evidence is stored unweighted: s (success mass, sum of rewards) and f (failure mass, sum of
1 - reward), both decayed by the wall time since *that row's* last update. The observation weight
is applied when a posterior is read, so that a better noise estimate applies to all history and a
grade correction is an exact subtraction.

Why weights: a graded reward in [0, 1] is far less noisy than a coin flip. A unit-weight update
sizes the posterior for Bernoulli variance m(1-m) and so over-explores; weighing each observation by
w = m(1-m)/s^2, with s^2 the measured within-arm variance of grades, gives the posterior the width the
data really supports.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping

from rota.records import record

OVERALL = "*"  # the category key of an arm's record over all categories

DEFAULT_WEIGHT = 2.0  # before enough grades are recorded to estimate their noise
MIN_WEIGHT = 1.0
MAX_WEIGHT = 12.0
MIN_DOF_FOR_AUTO = 6  # residual degrees of freedom needed before the weight is calibrated


@record
class Evidence:
    """One (category, arm) record. s/f decay with time; n/sum_r/sum_r2 are raw, for noise and counts."""

    s: float = 0.0
    f: float = 0.0
    t: float = 0.0  # epoch seconds at which s and f were last brought up to date
    n: int = 0
    sum_r: float = 0.0
    sum_r2: float = 0.0

    def decayed(self, now: float, half_life_s: float) -> tuple[float, float]:
        k = decay_factor(now - self.t, half_life_s)
        return self.s * k, self.f * k


@record
class Posterior:
    alpha: float
    beta: float
    n: int  # raw observations in this category
    effective: float  # decayed observations in this category

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)

    def interval(self, level: float = 0.90) -> tuple[float, float]:
        """Central credible interval (normal approximation to the Beta, clipped to [0, 1])."""
        a, b = self.alpha, self.beta
        var = a * b / ((a + b) ** 2 * (a + b + 1))
        z = _Z.get(level, 1.6449)
        half = z * math.sqrt(var)
        mean = a / (a + b)
        return max(0.0, mean - half), min(1.0, mean + half)

    def sample(self, rng: random.Random, exploration: float = 1.0) -> float:
        """A Thompson draw; `exploration` scales its spread around the mean (1 = plain TS).

        Below 1 the draw is greedier: calibrated TS keeps trying arms that are a few points worse
        for hundreds of sessions, which costs more than it teaches over a quota-bound horizon.
        """
        x = rng.betavariate(self.alpha, self.beta)
        if exploration == 1.0:
            return x
        m = self.mean
        return m + exploration * (x - m)


_Z = {0.80: 1.2816, 0.90: 1.6449, 0.95: 1.9600}
_INF = math.inf


def decay_factor(elapsed_s: float, half_life_s: float) -> float:
    if elapsed_s <= 0 or half_life_s <= 0 or half_life_s == _INF:
        return 1.0
    return 0.5 ** (elapsed_s / half_life_s)


def update(ev: Evidence, reward: float, now: float, half_life_s: float) -> Evidence:
    """Add one graded observation made at time `now`. Only this row decays, by its own time.

    Order does not matter: an observation older than the row's clock is added already decayed to
    it, so concurrent writers that commit out of time order reach the same evidence.
    """
    r = clip01(reward)
    if now >= ev.t:
        s, f = ev.decayed(now, half_life_s)
        k, t = 1.0, now
    else:
        s, f = ev.s, ev.f
        k, t = decay_factor(ev.t - now, half_life_s), ev.t
    return Evidence(
        s=s + r * k,
        f=f + (1.0 - r) * k,
        t=t,
        n=ev.n + 1,
        sum_r=ev.sum_r + r,
        sum_r2=ev.sum_r2 + r * r,
    )


def retract(ev: Evidence, reward: float, observed_at: float, half_life_s: float) -> Evidence:
    """Remove one earlier observation exactly as much as it still counts at the row's clock."""
    r = clip01(reward)
    k = decay_factor(ev.t - observed_at, half_life_s)
    n = max(0, ev.n - 1)
    return Evidence(
        s=max(0.0, ev.s - r * k),
        f=max(0.0, ev.f - (1.0 - r) * k),
        t=ev.t,
        n=n,
        sum_r=ev.sum_r - r if n else 0.0,
        sum_r2=ev.sum_r2 - r * r if n else 0.0,
    )


def merge(a: Evidence, b: Evidence, half_life_s: float) -> Evidence:
    """Two records of one (category, arm), as if all their observations had been made in one
    store (`rota store migrate`): decay is multiplicative, so bringing both to the later time and
    adding is exact."""
    t = max(a.t, b.t)
    sa, fa = a.decayed(t, half_life_s)
    sb, fb = b.decayed(t, half_life_s)
    return Evidence(
        s=sa + sb, f=fa + fb, t=t, n=a.n + b.n, sum_r=a.sum_r + b.sum_r, sum_r2=a.sum_r2 + b.sum_r2
    )


def clip01(x: float) -> float:
    if math.isnan(x):
        raise ValueError("reward is NaN")
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else float(x)


def noise_weight(rows: Iterable[tuple[str, Evidence]]) -> float:
    """w = m(1-m)/s^2 from the pooled within-(category, arm) variance of recorded grades.

    rows: (category, evidence) pairs; overall rows are ignored. Clipped to [MIN_WEIGHT, MAX_WEIGHT];
    DEFAULT_WEIGHT until there are MIN_DOF_FOR_AUTO residual degrees of freedom.
    """
    ss = 0.0
    dof = 0
    total = 0.0
    count = 0
    for cat, ev in rows:
        n = ev.n
        if n == 0 or cat == OVERALL:
            continue
        sum_r = ev.sum_r
        total += sum_r
        count += n
        if n >= 2:
            within = ev.sum_r2 - sum_r * sum_r / n
            if within > 0.0:  # max(0, within): rounding can make it a hair negative
                ss += within
            dof += n - 1
    if dof < MIN_DOF_FOR_AUTO or count == 0:
        return DEFAULT_WEIGHT
    m = total / count
    var = ss / dof
    if var <= 1e-9:
        return MAX_WEIGHT
    return min(MAX_WEIGHT, max(MIN_WEIGHT, m * (1.0 - m) / var))


def posterior(
    *,
    prior_mean: float,
    category: Evidence | None,
    overall: Evidence | None,
    now: float,
    half_life_s: float,
    weight: float,
    prior_strength: float,
    pooling_strength: float,
) -> Posterior:
    """The (category, arm) posterior, pulled toward the arm's record in other categories.

    Hierarchy: tier prior -> the arm over all *other* categories -> this category. The category
    borrows at most `pooling_strength` observations' worth from the arm's overall mean, so a
    category with few observations looks like the arm in general, and one with many speaks for
    itself.
    """
    cs, cf = category.decayed(now, half_life_s) if category else (0.0, 0.0)
    os_, of = overall.decayed(now, half_life_s) if overall else (0.0, 0.0)
    # Exclude this category's own evidence from the arm's overall record (no double counting).
    # (Comparisons written out, not max/min: select runs this for every arm of every decision.)
    os_ = os_ - cs if os_ - cs > 0.0 else 0.0
    of = of - cf if of - cf > 0.0 else 0.0
    k0 = prior_strength * weight
    a_o = prior_mean * k0 + weight * os_
    b_o = (1.0 - prior_mean) * k0 + weight * of
    m_o = a_o / (a_o + b_o)
    borrowed = pooling_strength * weight
    if a_o + b_o < borrowed:
        borrowed = a_o + b_o
    if borrowed < k0:
        borrowed = k0  # never less certain than the prior alone
    alpha = m_o * borrowed + weight * cs
    beta = (1.0 - m_o) * borrowed + weight * cf
    return Posterior(
        alpha if alpha > 1e-6 else 1e-6,
        beta if beta > 1e-6 else 1e-6,
        category.n if category else 0,
        cs + cf,
    )


def tier_prior_mean(rank: int, n_tiers: int, low: float = 0.45, high: float = 0.60) -> float:
    """The prior mean for a tier: stronger tiers start higher, so a fresh install follows tiers."""
    if n_tiers <= 1:
        return (low + high) / 2
    return low + (high - low) * rank / (n_tiers - 1)


def evidence_table(
    rows: Mapping[tuple[str, str], Evidence],
) -> Iterable[tuple[str, Evidence]]:
    return ((cat, ev) for (cat, _arm), ev in rows.items())
