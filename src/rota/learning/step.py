"""The learning step: one grade into the evidence rows and their change tests. Pure, no I/O.

A grade of `arm` in `category` updates two evidence rows, (category, arm) and the arm's overall
(*, arm) row (bandit.update: each decayed by its own clock), and advances their change tests
(rota.learning.change). When a test finds a change, the evidence from before it is set aside: in
the category row (and, by the same mass, the overall row) for a change of one category; in every
row of the arm for an arm-wide one.

The stores (finish_session, set_grade), the simulator and rebuild() learn through observe() and
unobserve() and nothing else, so a history learnt live and the same history replayed in the order
it was learnt hold the same rows and tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rota.learning import change
from rota.learning.bandit import OVERALL, Evidence, clip01, decay_factor, retract, update
from rota.learning.change import NO_DRIFT, Change, Drift
from rota.records import record

Key = tuple[str, str]


@record
class Learnt:
    """What one grade changed: evidence rows, tests, and the change it confirmed (or None)."""

    rows: dict[Key, Evidence]
    drifts: dict[Key, Drift]
    change: Change | None = None


def rows_of(category: str, arm: str) -> tuple[Key, Key]:
    """The rows a grade changes, in the order the stores lock them: the arm's overall row first
    (it serialises the arm's writers, so that an arm-wide change may then take the arm's other
    rows), then the category's."""
    return (OVERALL, arm), (category, arm)


def observe(
    rows: Mapping[Key, Evidence],
    drifts: Mapping[Key, Drift],
    category: str,
    arm: str,
    reward: float,
    at: float,
    half_life_s: float,
) -> Learnt:
    """Learn one grade of `arm` in `category`, made at `at`.

    rows/drifts: at least the arm's (category, arm) and (OVERALL, arm) rows and tests (missing
    ones start empty at `at`); for an arm-wide change to reach every category, all of the arm's.
    """
    r = clip01(reward)
    hl = half_life_s
    ok, ck = rows_of(category, arm)
    cat = rows.get(ck) or Evidence(t=at)
    ovr = rows.get(ok) or Evidence(t=at)
    cd = drifts.get(ck) or NO_DRIFT
    od = drifts.get(ok) or NO_DRIFT
    var = change.grade_variance(cat)

    # The category's own test, against its level before each side's excursion.
    own = change.levels(cat, (cd.dn_s, cd.dn_f), (cd.up_s, cd.up_f), at, hl)
    cd2, cat_found = change.advance(cat, cd, own, r, var, at, hl)
    # The arm's test: this grade against its category's level before the arm's excursions.
    tagged = (change.tagged_mass(cd, od, "dn"), change.tagged_mass(cd, od, "up"))
    refs = change.levels(cat, tagged[0], tagged[1], at, hl)
    od2, arm_found = change.advance(ovr, od, refs, r, var, at, hl)
    cd2 = change.retag(cat, cd2, tagged, od2, r, at, hl)

    new_rows = {ok: update(ovr, r, at, hl), ck: update(cat, r, at, hl)}
    new_drifts = {ok: od2, ck: cd2}
    if arm_found is not None:
        return _arm_change(rows, drifts, new_rows, new_drifts, category, arm, arm_found, at)
    if cat_found is not None:
        return _category_change(new_rows, new_drifts, category, arm, cat_found, at, hl)
    return Learnt(new_rows, new_drifts)


def _arm_change(
    rows: Mapping[Key, Evidence],
    drifts: Mapping[Key, Drift],
    new_rows: dict[Key, Evidence],
    new_drifts: dict[Key, Drift],
    category: str,
    arm: str,
    side: str,
    at: float,
) -> Learnt:
    """The arm's test found a change: its overall row keeps what it learnt since; each category
    row as change.after_arm_change says."""
    ok, ck = rows_of(category, arm)
    od = new_drifts[ok]
    _, start, ms, mf = od.side(side)
    new_rows[ok] = change.since(new_rows[ok], ms, mf)
    new_drifts[ok] = NO_DRIFT._replace(changed_at=at)
    for key in sorted({k for k in rows if k[1] == arm and k[0] != OVERALL} | {ck}):
        d = new_drifts.get(key) or drifts.get(key) or NO_DRIFT
        ev = change.after_arm_change(new_rows.get(key) or rows[key], d, od, side)
        if ev is not None:
            new_rows[key] = ev
            new_drifts[key] = NO_DRIFT._replace(changed_at=at)
    return Learnt(new_rows, new_drifts, Change(OVERALL, arm, side, start, at))


def _category_change(
    new_rows: dict[Key, Evidence],
    new_drifts: dict[Key, Drift],
    category: str,
    arm: str,
    side: str,
    at: float,
    hl: float,
) -> Learnt:
    """The category's test found a change: the row keeps what it learnt since, and the arm's
    overall row loses the same mass (other categories must not inherit it)."""
    ok, ck = rows_of(category, arm)
    cd = new_drifts[ck]
    _, start, ms, mf = cd.side(side)
    old = new_rows[ck]
    new = new_rows[ck] = change.since(old, ms, mf)
    keep = {n: getattr(cd, n) for n in change.TAG_FIELDS}  # the arm's test is not this one's
    new_drifts[ck] = NO_DRIFT._replace(**keep, changed_at=at)
    o = new_rows[ok]
    k = decay_factor(o.t - new.t, hl) if o.t >= new.t else 1.0
    new_rows[ok] = o._replace(
        s=max(0.0, o.s - (old.s - new.s) * k), f=max(0.0, o.f - (old.f - new.f) * k)
    )
    return Learnt(new_rows, new_drifts, Change(category, arm, side, start, at))


def unobserve(
    rows: Mapping[Key, Evidence],
    drifts: Mapping[Key, Drift],
    category: str,
    arm: str,
    reward: float,
    observed_at: float,
    half_life_s: float,
) -> Learnt:
    """observe() taken back (a grade corrected by `rota grade`): the grade leaves the evidence
    rows exactly (bandit.retract) and the evidence of every excursion it was part of."""
    r = clip01(reward)
    new_rows: dict[Key, Evidence] = {}
    new_drifts: dict[Key, Drift] = {}
    for key in rows_of(category, arm):
        ev = rows.get(key) or Evidence(t=observed_at)
        new_rows[key] = retract(ev, r, observed_at, half_life_s)
        weight = decay_factor(ev.t - observed_at, half_life_s)
        new_drifts[key] = change.forget(drifts.get(key) or NO_DRIFT, r, observed_at, weight)
    return Learnt(new_rows, new_drifts)


def rebuild(
    observations: Iterable[tuple[str, str, float, float]], half_life_s: float
) -> tuple[dict[Key, Evidence], dict[Key, Drift]]:
    """Evidence rows and tests rebuilt from (category, arm, reward, at) grades in the order they
    were learnt (the sessions' graded time): what the store holds after the same grades."""
    rows: dict[Key, Evidence] = {}
    drifts: dict[Key, Drift] = {}
    for cat, arm, reward, at in observations:
        learnt = observe(rows, drifts, cat, arm, reward, at, half_life_s)
        rows.update(learnt.rows)
        drifts.update(learnt.drifts)
    return rows, drifts
