"""rota.learning.change: change detection as state, one sequential test per evidence row."""

from __future__ import annotations

import random

import pytest

from rota.learning import bandit, change, step
from rota.learning.bandit import OVERALL, Evidence

ARM = "codex:gpt-5.4"
HL = 14 * 86400.0
T0 = 1_767_225_600.0
HOUR = 3600.0


def grades(rng: random.Random, means: dict[str, float], n: int, start: int = 0):  # type: ignore[no-untyped-def]
    """n grades an hour apart, each in a random one of `means`' categories, Beta(mean*6, ...)."""
    cats = list(means)
    out = []
    for i in range(start, start + n):
        cat = cats[rng.randrange(len(cats))]
        m = means[cat]
        out.append((cat, ARM, rng.betavariate(m * 6, (1 - m) * 6), T0 + i * HOUR))
    return out


def run(observations):  # type: ignore[no-untyped-def]
    """Learn grades one at a time; (rows, tests, [(index, change)])."""
    rows: dict[tuple[str, str], Evidence] = {}
    drifts: dict[tuple[str, str], change.Drift] = {}
    found = []
    for i, (cat, arm, r, at) in enumerate(observations):
        learnt = step.observe(rows, drifts, cat, arm, r, at, HL)
        rows.update(learnt.rows)
        drifts.update(learnt.drifts)
        if learnt.change is not None:
            found.append((i, learnt.change))
    return rows, drifts, found


def plain(observations):  # type: ignore[no-untyped-def]
    """The evidence rows without change detection: bandit.update on both rows."""
    rows: dict[tuple[str, str], Evidence] = {}
    for cat, arm, r, at in observations:
        for key in ((cat, arm), (OVERALL, arm)):
            rows[key] = bandit.update(rows.get(key) or Evidence(t=at), r, at, HL)
    return rows


def mean_of(ev: Evidence) -> float:
    return ev.s / (ev.s + ev.f)


def test_without_a_change_the_evidence_is_plain_learning() -> None:
    """Until a test fires, the rows are exactly bandit.update's: decisions do not change."""
    for seed in range(5):
        obs = grades(random.Random(seed), {"code": 0.6, "triage": 0.5}, 80)
        _, _, found = run(obs)
        quiet = found[0][0] if found else len(obs)
        assert quiet > 20
        rows, _, _ = run(obs[:quiet])
        assert rows == plain(obs[:quiet])


def test_a_moderate_drop_is_found_within_a_couple_dozen_grades() -> None:
    delays = []
    for seed in range(20):
        rng = random.Random(seed)
        obs = grades(rng, {"code": 0.67}, 150) + grades(rng, {"code": 0.50}, 60, start=150)
        _, _, found = run(obs)
        after = [i - 150 for i, ch in found if i >= 150 and ch.side == "dn"]
        delays.append(after[0] + 1 if after else 999)
    delays.sort()
    assert delays[10] <= 24  # median
    assert sum(d <= 35 for d in delays) >= 16


def test_a_rise_is_found() -> None:
    rng = random.Random(7)
    obs = grades(rng, {"code": 0.45}, 150) + grades(rng, {"code": 0.64}, 40, start=150)
    rows, _, found = run(obs)
    assert any(i >= 150 and ch.side == "up" for i, ch in found)
    assert mean_of(rows[("code", ARM)]) > 0.58


def test_false_alarms_are_rare_without_a_change() -> None:
    alarms = 0
    for seed in range(20):
        _, _, found = run(grades(random.Random(100 + seed), {"code": 0.6}, 300))
        alarms += len(found)
    assert alarms <= 30  # 6,000 grades: at most 5 per 1,000


def test_a_detected_change_stays_detected() -> None:
    """Once set aside, the old record does not come back when the arm is no longer chosen."""
    rng = random.Random(11)
    obs = grades(rng, {"code": 0.70}, 200) + grades(rng, {"code": 0.45}, 30, start=200)
    rows, drifts, found = run(obs)
    assert any(i >= 200 and ch.side == "dn" for i, ch in found)
    later = obs[-1][3] + 60 * 86400
    post = bandit.posterior(
        prior_mean=0.5,
        category=rows[("code", ARM)],
        overall=rows[(OVERALL, ARM)],
        now=later,
        half_life_s=HL,
        weight=4.0,
        prior_strength=1.0,
        pooling_strength=1.0,
    )
    assert post.mean < 0.52  # the new level (0.45), not the old (0.70)
    assert drifts[("code", ARM)].changed_at > 0 or drifts[(OVERALL, ARM)].changed_at > 0


def test_an_arm_wide_change_sets_aside_every_category() -> None:
    rng = random.Random(5)
    before = {"code": 0.70, "triage": 0.60, "docs": 0.65}
    after = {k: v - 0.25 for k, v in before.items()}
    obs = grades(rng, before, 240) + grades(rng, after, 40, start=240)
    rows, _, found = run(obs)
    arm_wide = [ch for i, ch in found if i >= 240 and ch.category == OVERALL]
    assert arm_wide and arm_wide[0].side == "dn"
    for cat in after:
        ev = rows[(cat, ARM)]
        assert ev.s + ev.f < 25  # the old evidence is gone from every category
        if ev.s + ev.f > 4:
            assert mean_of(ev) < before[cat] - 0.12


def test_a_change_in_one_category_leaves_the_others() -> None:
    rng = random.Random(9)
    obs = grades(rng, {"code": 0.70, "triage": 0.55, "docs": 0.6}, 300)
    obs += grades(rng, {"code": 0.35, "triage": 0.55}, 40, start=300)
    before = run(obs[:300])[0]
    rows, _, found = run(obs)
    assert [ch for i, ch in found if i >= 300]
    assert mean_of(rows[("code", ARM)]) < 0.5
    # triage's grades did not move: its level stays (its record weighs less until they tell).
    assert mean_of(rows[("triage", ARM)]) == pytest.approx(0.55, abs=0.06)
    # docs learnt nothing since: its level stays, weighed as a few grades.
    docs, docs_before = rows[("docs", ARM)], before[("docs", ARM)]
    assert docs.s + docs.f <= docs_before.s + docs_before.f
    assert mean_of(docs) == pytest.approx(mean_of(docs_before), abs=0.01)


def test_the_store_may_pass_only_the_arms_rows() -> None:
    """learn() needs the arm's rows, not the whole table: the same result either way."""
    rng = random.Random(2)
    other = grades(rng, {"code": 0.5}, 50)
    other = [(c, "claude-code:opus", r, at) for c, _, r, at in other]
    mine = grades(rng, {"code": 0.7, "docs": 0.6}, 200) + grades(rng, {"code": 0.4}, 40, 200)
    obs = sorted(other + mine, key=lambda o: o[3])
    rows_all, drifts_all, found_all = run(obs)
    rows: dict[tuple[str, str], Evidence] = {}
    drifts: dict[tuple[str, str], change.Drift] = {}
    found = []
    for cat, arm, r, at in obs:
        mine_rows = {k: v for k, v in rows.items() if k[1] == arm}
        mine_drifts = {k: v for k, v in drifts.items() if k[1] == arm}
        learnt = step.observe(mine_rows, mine_drifts, cat, arm, r, at, HL)
        rows.update(learnt.rows)
        drifts.update(learnt.drifts)
        found += [learnt.change] if learnt.change else []
    assert rows == rows_all and drifts == drifts_all
    assert found == [ch for _, ch in found_all] and found


def test_rebuild_replays_the_grades() -> None:
    rng = random.Random(4)
    obs = grades(rng, {"code": 0.7}, 100) + grades(rng, {"code": 0.4}, 30, start=100)
    rows, drifts, found = run(obs)
    assert step.rebuild(obs, HL) == (rows, drifts)


def test_unlearn_takes_a_grade_out_of_the_evidence_exactly() -> None:
    rng = random.Random(8)
    obs = grades(rng, {"code": 0.6}, 40)
    rows, drifts, _ = run(obs)
    cat, arm, r, at = obs[-3]
    back = step.unobserve(rows, drifts, cat, arm, r, at, HL)
    for key in ((cat, arm), (OVERALL, arm)):
        assert back.rows[key] == bandit.retract(rows[key], r, at, HL)
        d, d2 = drifts[key], back.drifts[key]
        assert d2.dn_g == d.dn_g and d2.up_g == d.up_g  # the statistics keep what they saw
        assert d2.dn_s <= d.dn_s and d2.up_s <= d.up_s


def test_a_nan_grade_is_refused() -> None:
    with pytest.raises(ValueError):
        step.observe({}, {}, "code", ARM, float("nan"), T0, HL)


def test_grade_variance_is_measured_and_shrunk() -> None:
    assert change.grade_variance(None) == change.PRIOR_VAR
    steady = Evidence(s=50, f=50, t=T0, n=100, sum_r=50.0, sum_r2=100 * 0.25 + 99 * 0.01)
    assert 0.005 < change.grade_variance(steady) < 0.02
