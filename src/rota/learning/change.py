"""Change detection as state: a sequential test on every evidence row, updated with each grade. Pure.

Each (category, arm) row and each arm's overall (*, arm) row carries a two-sided CUSUM (Page's
cumulative-sum test) over the standardized residuals of the grades it learns: how far each grade
sits from the row's level *before* the suspected change, in standard deviations of the category's
grades. A drop and a rise are tested separately. While a statistic is above zero it is in an
excursion that may be a change; the row keeps the evidence learnt since the excursion began. When
a statistic passes the threshold, the change is detected and the evidence from before it is set
aside for good: the row becomes what was learnt since (an arm-wide change: every row of the arm).

Why state and not a rescan of the recent sessions: it costs a few arithmetic operations per grade
and nothing per decision; a change once detected stays detected (the old record is gone from the
row, so it cannot come back when the arm stops being chosen and its recent grades leave a window);
and a CUSUM is the quickest test for a given false-alarm rate, so moderate drops (0.67 -> 0.50) are
found in about a dozen grades.

The overall row's test takes each grade's residual against its own category's level, so a change in
the mix of categories is not a change of the arm. To set aside an arm-wide change in every
category, each category row also keeps the evidence learnt since the overall row's excursion began
(tagged with when it began: an excursion that ended leaves a stale tag, read as nothing).

The state is a pure function of the grades in the order they were learnt, so it is rebuilt from
the session records by replaying them (rebuild()). A corrected grade (unlearn()) is taken out of
the evidence exactly and out of the excursions' evidence; the statistics keep what they saw.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from rota.learning.bandit import OVERALL, Evidence, clip01, decay_factor, retract, update
from rota.records import record

ALLOWANCE = 0.6  # k: about half the shift (in standard deviations) the test finds quickest
THRESHOLD = 5.0  # h: a statistic past this is a change
MIN_REFERENCE = 8.0  # effective observations of the level before an excursion needed to test it
MIN_AFTER = 5.0  # effective observations in an excursion before it can be a change
Z_CAP = 2.5  # a single grade moves a statistic by at most this (grades are skewed, not normal)
PRIOR_VAR = 0.04  # the variance of grades assumed until a row has measured its own
PRIOR_VAR_WEIGHT = 6.0  # ... worth this many residual degrees of freedom

Key = tuple[str, str]


@record
class Drift:
    """The change test of one evidence row: one CUSUM per direction ("lo": a drop, "hi": a rise).

    lo, hi: the statistics (>= 0). lo_at, hi_at: when the current excursion began (its first
    grade), 0 when there is none. lo_s/lo_f, hi_s/hi_f: the evidence mass learnt since then, at the
    row's clock (as Evidence.s/f). Category rows only: lo_tag/hi_tag, the overall row's excursion
    start the masses lo_os/lo_of, hi_os/hi_of were learnt since.
    """

    lo: float = 0.0
    lo_at: float = 0.0
    lo_s: float = 0.0
    lo_f: float = 0.0
    hi: float = 0.0
    hi_at: float = 0.0
    hi_s: float = 0.0
    hi_f: float = 0.0
    lo_tag: float = 0.0
    lo_os: float = 0.0
    lo_of: float = 0.0
    hi_tag: float = 0.0
    hi_os: float = 0.0
    hi_of: float = 0.0
    changed_at: float = 0.0  # when a change last set this row's older evidence aside (0: never)


NO_DRIFT = Drift()
SIDES = ("lo", "hi")


@record
class Change:
    """A detected change: which row's test fired, in which direction, and since when."""

    category: str  # OVERALL for an arm-wide change
    arm: str
    side: str  # "lo": the grades dropped; "hi": they rose
    since: float  # the first grade of the excursion
    at: float  # the grade that confirmed it


def grade_variance(row: Evidence | None) -> float:
    """The variance of one grade around its row's level: the row's own within-row variance,
    shrunk toward PRIOR_VAR while it has few grades."""
    if row is None or row.n < 2:
        return PRIOR_VAR
    ss = max(0.0, row.sum_r2 - row.sum_r * row.sum_r / row.n)
    return (ss + PRIOR_VAR * PRIOR_VAR_WEIGHT) / (row.n - 1 + PRIOR_VAR_WEIGHT)


def _level(s: float, f: float, since_s: float, since_f: float) -> tuple[float, float] | None:
    """(mean, mass) of a row's evidence from before an excursion, or None when too little."""
    ps, pf = max(0.0, s - since_s), max(0.0, f - since_f)
    mass = ps + pf
    if mass < MIN_REFERENCE:
        return None
    return ps / mass, mass


def _clock(row: Evidence, at: float, hl: float) -> tuple[float, float]:
    """(k, w): the factor that brings masses kept at `row`'s clock to its clock after learning a
    grade made at `at`, and that grade's weight there (bandit.update: the clock never goes back)."""
    if at >= row.t:
        return decay_factor(at - row.t, hl), 1.0
    return 1.0, decay_factor(row.t - at, hl)


def _z(level: tuple[float, float] | None, r: float, var: float, sign: float) -> float | None:
    """A grade's standardized residual against a reference level, in a side's direction (+1: a
    rise, -1: a drop); the reference's own uncertainty widens the scale (1 + 1/mass)."""
    if level is None:
        return None
    z = sign * (r - level[0]) / math.sqrt(var * (1.0 + 1.0 / level[1]))
    return z if -Z_CAP <= z <= Z_CAP else math.copysign(Z_CAP, z)


Side = tuple[float, float, float, float]  # statistic, excursion start, mass s, mass f


def _cusum(side: Side, z: float | None, at: float, add: tuple[float, float]) -> Side:
    """One side's test after one grade (its masses already at the new clock)."""
    g, start, ms, mf = side
    if z is None:  # the grade cannot be judged; an excursion under way still learnt it
        return (g, start, ms + add[0], mf + add[1]) if g > 0.0 else side
    g2 = g + z - ALLOWANCE
    if g2 <= 0.0:
        return 0.0, 0.0, 0.0, 0.0
    if g <= 0.0:  # an excursion begins with this grade
        return g2, at, add[0], add[1]
    return g2, start, ms + add[0], mf + add[1]


def _levels(
    row: Evidence, lo: tuple[float, float], hi: tuple[float, float], at: float, hl: float
) -> tuple[tuple[float, float] | None, tuple[float, float] | None]:
    """The reference level per side: `row` (brought to its clock after a grade at `at`) less the
    masses learnt since each side's excursion began (kept at the row's clock)."""
    k, _ = _clock(row, at, hl)
    s, f = row.s * k, row.f * k
    return _level(s, f, lo[0] * k, lo[1] * k), _level(s, f, hi[0] * k, hi[1] * k)


def _test(
    row: Evidence,
    d: Drift,
    levels: tuple[tuple[float, float] | None, tuple[float, float] | None],
    r: float,
    var: float,
    at: float,
    hl: float,
) -> tuple[Drift, str | None]:
    """A row's test after one grade judged against the reference levels (per side). Returns the
    new test and the side that fired, if one did."""
    k, w = _clock(row, at, hl)
    add = (r * w, (1.0 - r) * w)
    lo = _cusum((d.lo, d.lo_at, d.lo_s * k, d.lo_f * k), _z(levels[0], r, var, -1.0), at, add)
    hi = _cusum((d.hi, d.hi_at, d.hi_s * k, d.hi_f * k), _z(levels[1], r, var, 1.0), at, add)
    new = d._replace(
        lo=lo[0], lo_at=lo[1], lo_s=lo[2], lo_f=lo[3], hi=hi[0], hi_at=hi[1], hi_s=hi[2], hi_f=hi[3]
    )  # fmt: skip
    fired = [
        (g, side) for g, side, ms, mf in ((*lo[:1], "lo", *lo[2:]), (*hi[:1], "hi", *hi[2:]))
        if g > THRESHOLD and ms + mf >= MIN_AFTER
    ]  # fmt: skip
    return new, max(fired)[1] if fired else None


def _since(ev: Evidence, s: float, f: float) -> Evidence:
    """The row as if only `s`/`f` (the evidence learnt since a change) had been learnt; the raw
    counts stay (they measure noise and volume, not the level)."""
    return ev._replace(s=max(0.0, min(s, ev.s)), f=max(0.0, min(f, ev.f)))


def _tagged(cd: Drift, od: Drift, side: str) -> tuple[float, float]:
    """A category row's mass since the overall row's current excursion on `side` (at the category
    row's clock), or nothing when its tag is stale."""
    if getattr(od, side) > 0.0 and getattr(cd, f"{side}_tag") == getattr(od, f"{side}_at"):
        return getattr(cd, f"{side}_os"), getattr(cd, f"{side}_of")
    return 0.0, 0.0


def _arm_changed(ev: Evidence, d: Drift, arm_test: Drift, side: str) -> Evidence | None:
    """A category row after its arm's test found a change on `side`, or None to keep it as is.

    By the grades the category learnt since the change began (m of them, their level against the
    category's level before):
    - clearly moved the same way: only they count from now on;
    - clearly moved less than the change (it is another category's): the row is kept;
    - too few to tell (or none): the level from before stays, but weighs as MIN_AFTER grades, so
      that the next few grades there decide.
    """
    ms, mf = _tagged(d, arm_test, side)
    m = ms + mf
    before = _level(ev.s, ev.f, ms, mf)
    if before is not None and m > 1e-9:
        shift = (ms / m - before[0]) / math.sqrt(grade_variance(ev))
        if side == "lo":
            shift = -shift
        margin = 2.0 / math.sqrt(m)
        if shift - margin > 0.0:
            return _since(ev, ms, mf)
        if shift + margin < ALLOWANCE:
            return None
    ps, pf = max(0.0, ev.s - ms), max(0.0, ev.f - mf)
    if ps + pf <= MIN_AFTER:
        return None
    k = MIN_AFTER / (ps + pf)
    return ev._replace(s=ps * k + ms, f=pf * k + mf)


def learn(
    rows: Mapping[Key, Evidence],
    drifts: Mapping[Key, Drift],
    category: str,
    arm: str,
    reward: float,
    at: float,
    half_life_s: float,
) -> tuple[dict[Key, Evidence], dict[Key, Drift], Change | None]:
    """The learning step with change detection: the rows and tests one grade changes.

    rows/drifts: at least the arm's (category, arm) and (OVERALL, arm) rows; for an arm-wide
    change to reach every category, all of the arm's rows. Returns the changed evidence rows, the
    changed tests, and the change this grade confirmed, if any.
    """
    r = clip01(reward)
    hl = half_life_s
    ck, ok = (category, arm), (OVERALL, arm)
    cat = rows.get(ck) or Evidence(t=at)
    ovr = rows.get(ok) or Evidence(t=at)
    cd = drifts.get(ck) or NO_DRIFT
    od = drifts.get(ok) or NO_DRIFT
    var = grade_variance(cat)

    # The category's own test, against its level before each side's excursion.
    own = _levels(cat, (cd.lo_s, cd.lo_f), (cd.hi_s, cd.hi_f), at, hl)
    cd2, cat_fired = _test(cat, cd, own, r, var, at, hl)
    # The arm's test: this grade against its category's level before the arm's excursions.
    o_lo, o_hi = _tagged(cd, od, "lo"), _tagged(cd, od, "hi")
    od2, arm_fired = _test(ovr, od, _levels(cat, o_lo, o_hi, at, hl), r, var, at, hl)
    # The category's mass since the arm's current excursions (at the category row's clock).
    k, w = _clock(cat, at, hl)
    add = (r * w, (1.0 - r) * w)
    tags: dict[str, float] = {}
    for side, (ms, mf) in (("lo", o_lo), ("hi", o_hi)):
        start = getattr(od2, f"{side}_at")
        if getattr(od2, side) <= 0.0:  # no excursion (any more)
            ms = mf = start = 0.0
        else:  # the excursion goes on (ms/mf: what this category learnt in it) or begins here
            ms, mf = ms * k + add[0], mf * k + add[1]
        tags.update({f"{side}_tag": start, f"{side}_os": ms, f"{side}_of": mf})
    cd2 = cd2._replace(**tags)

    new_rows = {ck: update(cat, r, at, hl), ok: update(ovr, r, at, hl)}
    new_drifts = {ck: cd2, ok: od2}
    if arm_fired is not None:
        start = getattr(od2, f"{arm_fired}_at")
        new_rows[ok] = _since(
            new_rows[ok], getattr(od2, f"{arm_fired}_s"), getattr(od2, f"{arm_fired}_f")
        )
        new_drifts[ok] = NO_DRIFT._replace(changed_at=at)
        for key in {key for key in rows if key[1] == arm and key[0] != OVERALL} | {ck}:
            d = new_drifts.get(key) or drifts.get(key) or NO_DRIFT
            ev = _arm_changed(new_rows.get(key) or rows[key], d, od2, arm_fired)
            if ev is not None:
                new_rows[key] = ev
                new_drifts[key] = NO_DRIFT._replace(changed_at=at)
        return new_rows, new_drifts, Change(OVERALL, arm, arm_fired, start, at)
    if cat_fired is not None:
        old = new_rows[ck]
        new = _since(old, getattr(cd2, f"{cat_fired}_s"), getattr(cd2, f"{cat_fired}_f"))
        new_rows[ck] = new
        new_drifts[ck] = NO_DRIFT._replace(
            **{
                n: getattr(cd2, n) for n in ("lo_tag", "lo_os", "lo_of", "hi_tag", "hi_os", "hi_of")
            },
            changed_at=at,
        )
        # The arm's overall row loses the same mass: other categories must not inherit it.
        o = new_rows[ok]
        k_o = decay_factor(o.t - new.t, hl) if o.t >= new.t else 1.0
        new_rows[ok] = o._replace(
            s=max(0.0, o.s - (old.s - new.s) * k_o), f=max(0.0, o.f - (old.f - new.f) * k_o)
        )
        return (
            new_rows,
            new_drifts,
            Change(category, arm, cat_fired, getattr(cd2, f"{cat_fired}_at"), at),
        )
    return new_rows, new_drifts, None


def unlearn(
    rows: Mapping[Key, Evidence],
    drifts: Mapping[Key, Drift],
    category: str,
    arm: str,
    reward: float,
    observed_at: float,
    half_life_s: float,
) -> tuple[dict[Key, Evidence], dict[Key, Drift]]:
    """learn() taken back (a grade corrected by `rota grade`): the grade leaves the evidence rows
    exactly (bandit.retract) and the evidence of every excursion it belonged to; the statistics
    keep what they saw (a sequential test cannot forget one grade)."""
    r = clip01(reward)
    new_rows: dict[Key, Evidence] = {}
    new_drifts: dict[Key, Drift] = {}
    for key in ((category, arm), (OVERALL, arm)):
        ev = rows.get(key)
        if ev is None:
            continue
        new_rows[key] = retract(ev, r, observed_at, half_life_s)
        d = drifts.get(key) or NO_DRIFT
        w = decay_factor(ev.t - observed_at, half_life_s)
        changes: dict[str, float] = {}
        for side in SIDES:
            for start, ms, mf in (
                (f"{side}_at", f"{side}_s", f"{side}_f"),
                (f"{side}_tag", f"{side}_os", f"{side}_of"),
            ):
                if 0.0 < getattr(d, start) <= observed_at:
                    changes[ms] = max(0.0, getattr(d, ms) - r * w)
                    changes[mf] = max(0.0, getattr(d, mf) - (1.0 - r) * w)
        new_drifts[key] = d._replace(**changes)
    return new_rows, new_drifts


def rebuild(
    observations: Iterable[tuple[str, str, float, float]], half_life_s: float
) -> tuple[dict[Key, Evidence], dict[Key, Drift], list[Change]]:
    """Evidence and tests rebuilt from (category, arm, reward, at) grades in the order they were
    learnt, through learn(): what the store holds after the same grades."""
    rows: dict[Key, Evidence] = {}
    drifts: dict[Key, Drift] = {}
    changes: list[Change] = []
    for cat, arm, reward, at in observations:
        new_rows, new_drifts, change = learn(rows, drifts, cat, arm, reward, at, half_life_s)
        rows.update(new_rows)
        drifts.update(new_drifts)
        if change is not None:
            changes.append(change)
    return rows, drifts, changes
