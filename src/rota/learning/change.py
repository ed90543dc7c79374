"""Change detection as state: a sequential test on every evidence row, advanced by each grade. Pure.

Each (category, arm) row and each arm's overall (*, arm) row carries a two-sided CUSUM (Page's
cumulative-sum test) over the standardized residuals of the grades it learns: how far each grade
sits from the row's level *before* the suspected change, in standard deviations of the category's
grades. A drop ("dn") and a rise ("up") are tested apart. While a statistic is above zero it is in
an excursion that may be a change, and the row keeps the evidence learnt since the excursion
began. When a statistic passes THRESHOLD with at least MIN_AFTER grades behind it, the change is
detected and the evidence from before it is set aside for good (rota.learning.step applies it).

Why state and not a rescan of the recent sessions: a few arithmetic operations per grade and
nothing per decision; a change once detected stays detected (the old record is gone from the row,
so it cannot come back when the arm stops being chosen and its recent grades leave a window); and
a CUSUM is the quickest test for a given false-alarm rate, so moderate drops (0.67 -> 0.50) are
found in about a dozen grades.

The overall row's test takes each grade's residual against its own category's level, so that a
change in the mix of categories is not a change of the arm. To set aside an arm-wide change in
every category, each category row also keeps what it learnt since the overall row's excursion
began, tagged with when that began (a tag of an excursion that has ended reads as nothing).
"""

from __future__ import annotations

import math

from rota.learning.bandit import Evidence, decay_factor
from rota.records import record

ALLOWANCE = 0.6  # k: about half the shift (in standard deviations) the test finds quickest
THRESHOLD = 6.0  # h: a statistic past this is a change
MIN_REFERENCE = 8.0  # effective grades of the level before an excursion needed to judge one
MIN_AFTER = 5.0  # effective grades in an excursion before it can be a change
Z_CAP = 2.5  # one grade moves a statistic by at most this (grades are skewed, not normal)
KEEP_BEFORE = 5.0  # grades' worth of the level from before a change that still count
PRIOR_VAR = 0.04  # the variance of grades assumed until a row has measured its own
PRIOR_VAR_WEIGHT = 6.0  # ... worth this many residual degrees of freedom

SIDES = ("dn", "up")  # a drop, a rise
SIDE_NAMES = {"dn": "drop", "up": "rise"}


@record
class Drift:
    """The change test of one evidence row, one CUSUM per side ("dn": a drop, "up": a rise).

    dn_g/up_g: the statistics (>= 0). dn_at/up_at: when the current excursion began (its first
    grade; 0 when there is none). dn_s, dn_f / up_s, up_f: the evidence mass learnt since then, at
    the row's clock (as Evidence.s/f). Category rows also keep dn_tag/up_tag, the start of the
    overall row's excursion that dn_os, dn_of / up_os, up_of were learnt since. changed_at: when a
    change last set this row's older evidence aside (0: never).
    """

    dn_g: float = 0.0
    dn_at: float = 0.0
    dn_s: float = 0.0
    dn_f: float = 0.0
    up_g: float = 0.0
    up_at: float = 0.0
    up_s: float = 0.0
    up_f: float = 0.0
    dn_tag: float = 0.0
    dn_os: float = 0.0
    dn_of: float = 0.0
    up_tag: float = 0.0
    up_os: float = 0.0
    up_of: float = 0.0
    changed_at: float = 0.0

    def side(self, side: str) -> tuple[float, float, float, float]:
        """(statistic, excursion start, mass s, mass f) of one side."""
        if side == "dn":
            return self.dn_g, self.dn_at, self.dn_s, self.dn_f
        return self.up_g, self.up_at, self.up_s, self.up_f

    def tagged(self, side: str) -> tuple[float, float, float]:
        """(tag, mass s, mass f) learnt since the overall row's excursion on one side."""
        if side == "dn":
            return self.dn_tag, self.dn_os, self.dn_of
        return self.up_tag, self.up_os, self.up_of


NO_DRIFT = Drift()
DRIFT_FIELDS = Drift._fields
TAG_FIELDS = ("dn_tag", "dn_os", "dn_of", "up_tag", "up_os", "up_of")


@record
class Change:
    """A detected change: which row's test found it, which way, and since when."""

    category: str  # bandit.OVERALL for an arm-wide change
    arm: str
    side: str  # "dn": the grades dropped; "up": they rose
    since: float  # the first grade of the excursion
    at: float  # the grade that confirmed it

    @property
    def label(self) -> str:
        return SIDE_NAMES[self.side]


Level = tuple[float, float]  # (mean, mass) of a row's evidence before an excursion


def grade_variance(row: Evidence | None) -> float:
    """The variance of one grade around its row's level: the row's own within-row variance,
    shrunk toward PRIOR_VAR while it has few grades."""
    if row is None or row.n < 2:
        return PRIOR_VAR
    ss = max(0.0, row.sum_r2 - row.sum_r * row.sum_r / row.n)
    return (ss + PRIOR_VAR * PRIOR_VAR_WEIGHT) / (row.n - 1 + PRIOR_VAR_WEIGHT)


def clock(row: Evidence, at: float, half_life_s: float) -> tuple[float, float]:
    """(k, w): the factor that brings masses kept at `row`'s clock to its clock after learning a
    grade made at `at`, and that grade's weight there (as bandit.update: the clock never goes
    back)."""
    if at >= row.t:
        return decay_factor(at - row.t, half_life_s), 1.0
    return 1.0, decay_factor(row.t - at, half_life_s)


def level(s: float, f: float, since_s: float, since_f: float) -> Level | None:
    """(mean, mass) of evidence (s, f) less what was learnt since an excursion began, or None
    when too little is left to judge a grade against."""
    ps, pf = max(0.0, s - since_s), max(0.0, f - since_f)
    mass = ps + pf
    if mass < MIN_REFERENCE:
        return None
    return ps / mass, mass


def levels(
    row: Evidence,
    dn: tuple[float, float],
    up: tuple[float, float],
    at: float,
    half_life_s: float,
) -> tuple[Level | None, Level | None]:
    """The reference level per side: `row` (brought to its clock after a grade at `at`) less the
    masses (kept at the row's clock) learnt since each side's excursion began."""
    k, _ = clock(row, at, half_life_s)
    s, f = row.s * k, row.f * k
    return level(s, f, dn[0] * k, dn[1] * k), level(s, f, up[0] * k, up[1] * k)


def residual(ref: Level | None, r: float, var: float, sign: float) -> float | None:
    """A grade's standardized residual against a reference level, in a side's direction (+1: a
    rise, -1: a drop), capped at Z_CAP; the reference's own uncertainty widens the scale."""
    if ref is None:
        return None
    z = sign * (r - ref[0]) / math.sqrt(var * (1.0 + 1.0 / ref[1]))
    return z if -Z_CAP <= z <= Z_CAP else math.copysign(Z_CAP, z)


def _cusum(
    side: tuple[float, float, float, float], z: float | None, at: float, add: tuple[float, float]
) -> tuple[float, float, float, float]:
    """One side after one grade (its masses already at the new clock)."""
    g, start, ms, mf = side
    if z is None:  # the grade cannot be judged; an excursion under way still learnt it
        return (g, start, ms + add[0], mf + add[1]) if g > 0.0 else side
    g2 = g + z - ALLOWANCE
    if g2 <= 0.0:
        return 0.0, 0.0, 0.0, 0.0
    if g <= 0.0:  # an excursion begins with this grade
        return g2, at, add[0], add[1]
    return g2, start, ms + add[0], mf + add[1]


def advance(
    row: Evidence,
    d: Drift,
    refs: tuple[Level | None, Level | None],
    r: float,
    var: float,
    at: float,
    half_life_s: float,
) -> tuple[Drift, str | None]:
    """A row's test after one grade, judged against the reference levels (per side). Returns the
    new test and the side that found a change, if one did."""
    k, w = clock(row, at, half_life_s)
    add = (r * w, (1.0 - r) * w)
    dn = _cusum((d.dn_g, d.dn_at, d.dn_s * k, d.dn_f * k), residual(refs[0], r, var, -1.0), at, add)
    up = _cusum((d.up_g, d.up_at, d.up_s * k, d.up_f * k), residual(refs[1], r, var, 1.0), at, add)
    new = d._replace(
        dn_g=dn[0], dn_at=dn[1], dn_s=dn[2], dn_f=dn[3],
        up_g=up[0], up_at=up[1], up_s=up[2], up_f=up[3],
    )  # fmt: skip
    found = [
        (g, side)
        for side, (g, _, ms, mf) in (("dn", dn), ("up", up))
        if g > THRESHOLD and ms + mf >= MIN_AFTER
    ]
    return new, max(found)[1] if found else None


def tagged_mass(cat: Drift, overall: Drift, side: str) -> tuple[float, float]:
    """What a category row learnt since the overall row's current excursion on `side` (at the
    category row's clock), or nothing when its tag is stale."""
    g, start, _, _ = overall.side(side)
    tag, ms, mf = cat.tagged(side)
    if g > 0.0 and tag == start:
        return ms, mf
    return 0.0, 0.0


def retag(
    cat_row: Evidence,
    cat: Drift,
    before: tuple[tuple[float, float], tuple[float, float]],
    overall: Drift,
    r: float,
    at: float,
    half_life_s: float,
) -> Drift:
    """A category row's masses since the overall row's excursions, after one grade of its own.

    before: tagged_mass() per side before the grade; overall: the overall row's test after it.
    """
    k, w = clock(cat_row, at, half_life_s)
    changes: dict[str, float] = {}
    for side, (ms, mf) in zip(SIDES, before, strict=True):
        g, start, _, _ = overall.side(side)
        if g <= 0.0:  # no excursion (any more)
            ms = mf = start = 0.0
        else:  # the excursion goes on (ms/mf: what this category learnt in it) or begins here
            ms, mf = ms * k + r * w, mf * k + (1.0 - r) * w
        changes[f"{side}_tag"], changes[f"{side}_os"], changes[f"{side}_of"] = start, ms, mf
    return cat._replace(**changes)


def since(ev: Evidence, s: float, f: float) -> Evidence:
    """The row once a change is found: what was learnt since it, (s, f), and the level from
    before it weighing at most KEEP_BEFORE grades (so that an arm whose drop was noise is not
    written off for good: it still gets tried, and its next grades decide). The raw counts stay
    (they measure noise and volume, not the level)."""
    s, f = max(0.0, min(s, ev.s)), max(0.0, min(f, ev.f))
    ps, pf = ev.s - s, ev.f - f
    if ps + pf > KEEP_BEFORE:
        k = KEEP_BEFORE / (ps + pf)
        ps, pf = ps * k, pf * k
    return ev._replace(s=s + ps, f=f + pf)


def after_arm_change(ev: Evidence, cat: Drift, overall: Drift, side: str) -> Evidence | None:
    """A category row once its arm's test found a change on `side`, or None to keep it as is.

    By what the category learnt since the change began (its level then against its level before):
    - clearly moved the same way: only that counts from now on;
    - clearly moved less than the change (the change is another category's): kept;
    - too little to tell (or nothing): the level from before stays, but weighs as MIN_AFTER grades,
      so that the next few grades there decide.
    """
    ms, mf = tagged_mass(cat, overall, side)
    m = ms + mf
    ref = level(ev.s, ev.f, ms, mf)
    if ref is not None and m > 1e-9:
        shift = (ms / m - ref[0]) / math.sqrt(grade_variance(ev))
        if side == "dn":
            shift = -shift
        margin = 2.0 / math.sqrt(m)
        if shift - margin > 0.0:
            return since(ev, ms, mf)
        if shift + margin < ALLOWANCE:
            return None
    ps, pf = max(0.0, ev.s - ms), max(0.0, ev.f - mf)
    if ps + pf <= MIN_AFTER:
        return None
    k = MIN_AFTER / (ps + pf)
    return ev._replace(s=ps * k + ms, f=pf * k + mf)


def forget(d: Drift, r: float, observed_at: float, weight: float) -> Drift:
    """A test with one earlier grade (weighing `weight` at the row's clock) taken out of the
    evidence of every excursion it belonged to; the statistics keep what they saw (a sequential
    test cannot forget one grade)."""
    changes: dict[str, float] = {}
    for start, ms, mf in (
        ("dn_at", "dn_s", "dn_f"),
        ("up_at", "up_s", "up_f"),
        ("dn_tag", "dn_os", "dn_of"),
        ("up_tag", "up_os", "up_of"),
    ):
        if 0.0 < getattr(d, start) <= observed_at:
            changes[ms] = max(0.0, getattr(d, ms) - r * weight)
            changes[mf] = max(0.0, getattr(d, mf) - (1.0 - r) * weight)
    return d._replace(**changes) if changes else d
