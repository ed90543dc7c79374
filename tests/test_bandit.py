"""The bandit's invariants: decay by hand-computed numbers, pooling, weights, corrections."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rota.learning import bandit, step
from rota.learning.bandit import OVERALL, Evidence

DAY = 86400.0
HL = 10 * DAY


def test_decay_halves_evidence_after_one_half_life_by_hand() -> None:
    ev = bandit.update(Evidence(t=0.0), 0.8, now=0.0, half_life_s=HL)
    assert (ev.s, ev.f) == pytest.approx((0.8, 0.2))
    # Ten days later (one half-life) the row counts half; then a new 0.4 is added on top.
    ev2 = bandit.update(ev, 0.4, now=HL, half_life_s=HL)
    assert ev2.s == pytest.approx(0.8 * 0.5 + 0.4)
    assert ev2.f == pytest.approx(0.2 * 0.5 + 0.6)
    assert ev2.n == 2 and ev2.t == HL
    # Twenty days after that, read-time decay is a quarter, and nothing is written.
    assert ev2.decayed(HL + 2 * HL, HL) == pytest.approx((ev2.s * 0.25, ev2.f * 0.25))


def test_updating_one_arm_never_decays_another() -> None:
    rows = {("code", "a"): Evidence(s=5, f=5, t=0.0), ("code", "b"): Evidence(s=3, f=1, t=0.0)}
    rows[("code", "a")] = bandit.update(rows[("code", "a")], 1.0, now=HL, half_life_s=HL)
    assert rows[("code", "b")] == Evidence(
        s=3, f=1, t=0.0
    )  # untouched: decays only by its own time


def test_retract_exactly_undoes_update() -> None:
    base = bandit.update(Evidence(t=0.0), 0.6, now=0.0, half_life_s=HL)
    ev = bandit.update(base, 0.3, now=DAY, half_life_s=HL)
    later = bandit.update(ev, 0.9, now=3 * DAY, half_life_s=HL)
    back = bandit.retract(later, 0.3, observed_at=DAY, half_life_s=HL)
    # What is left: 0.6 observed at day 0 and 0.9 at day 3, seen from day 3.
    k3 = bandit.decay_factor(3 * DAY, HL)
    assert back.s == pytest.approx(0.6 * k3 + 0.9)
    assert back.f == pytest.approx(0.4 * k3 + 0.1)
    assert back.n == 2


def test_out_of_order_updates_reach_the_same_evidence() -> None:
    obs = [(0.2, 5 * DAY), (0.9, 1 * DAY), (0.5, 3 * DAY)]
    a = Evidence()
    for r, t in obs:
        a = bandit.update(a, r, t, HL)
    b = Evidence()
    for r, t in sorted(obs, key=lambda o: o[1]):
        b = bandit.update(b, r, t, HL)
    assert (a.s, a.f, a.t) == pytest.approx((b.s, b.f, b.t))


@given(
    rewards=st.lists(st.floats(0, 1), min_size=1, max_size=40),
    gaps=st.lists(st.floats(0, 5 * DAY), min_size=1, max_size=40),
)
@settings(max_examples=60, deadline=None)
def test_evidence_stays_finite_nonnegative_and_bounded(
    rewards: list[float], gaps: list[float]
) -> None:
    ev = Evidence(t=0.0)
    t = 0.0
    for r, g in zip(rewards, gaps, strict=False):
        t += g
        ev = bandit.update(ev, r, now=t, half_life_s=HL)
        assert ev.s >= 0 and ev.f >= 0
        assert ev.s + ev.f <= ev.n + 1e-9  # decay only ever shrinks evidence
    assert ev.n == min(len(rewards), len(gaps))


@given(r=st.floats(0, 1), n=st.integers(1, 30))
@settings(max_examples=60, deadline=None)
def test_posterior_mean_moves_toward_observed_reward(r: float, n: int) -> None:
    ev = Evidence(t=0.0)
    for _ in range(n):
        ev = bandit.update(ev, r, now=0.0, half_life_s=HL)
    p0 = _post(None, None)
    p = _post(ev, ev)
    assert abs(p.mean - r) <= abs(p0.mean - r) + 1e-9
    lo, hi = p.interval()
    assert 0 <= lo <= p.mean <= hi <= 1


def _post(
    cat: Evidence | None, overall: Evidence | None, *, weight: float = 4.0, pooling: float = 6.0
):
    return bandit.posterior(
        prior_mean=0.5,
        category=cat,
        overall=overall,
        now=0.0,
        half_life_s=HL,
        weight=weight,
        prior_strength=3.0,
        pooling_strength=pooling,
    )


def test_sparse_category_is_pulled_toward_the_arms_overall_record() -> None:
    other = Evidence(t=0.0)
    for _ in range(40):
        other = bandit.update(other, 0.9, now=0.0, half_life_s=HL)
    cat = bandit.update(Evidence(t=0.0), 0.2, now=0.0, half_life_s=HL)
    overall = Evidence(s=other.s + cat.s, f=other.f + cat.f, t=0.0, n=41)
    pooled = _post(cat, overall)
    alone = _post(cat, None)
    assert pooled.mean > alone.mean  # borrowed from the good overall record
    # With many category observations the category speaks for itself.
    many = Evidence(t=0.0)
    for _ in range(200):
        many = bandit.update(many, 0.2, now=0.0, half_life_s=HL)
    big = Evidence(s=other.s + many.s, f=other.f + many.f, t=0.0)
    assert _post(many, big).mean == pytest.approx(0.2, abs=0.03)


def test_noise_weight_is_calibrated_from_grade_variance() -> None:
    rng = random.Random(1)
    rows = []
    for _arm, mean in (("a", 0.7), ("b", 0.4)):
        ev = Evidence(t=0.0)
        for _ in range(400):
            ev = bandit.update(ev, rng.betavariate(mean * 6, (1 - mean) * 6), 0.0, HL)
        rows.append(("code", ev))
    w = bandit.noise_weight(rows)
    # Beta(m*6, (1-m)*6) has variance m(1-m)/7, so the calibrated weight is about 7.
    assert 5.5 < w < 8.5
    # Coin flips give weight ~1 (the clip floor).
    flips = Evidence(t=0.0)
    for _ in range(400):
        flips = bandit.update(flips, float(rng.random() < 0.5), 0.0, HL)
    assert bandit.noise_weight([("code", flips)]) == pytest.approx(1.0, abs=0.15)
    # Too little data: the default, and overall rows never count.
    assert bandit.noise_weight([(OVERALL, flips)]) == bandit.DEFAULT_WEIGHT


def test_sampling_is_reproducible_with_a_seed() -> None:
    p = _post(Evidence(s=3, f=2, t=0.0, n=5), None)
    a = [p.sample(random.Random(7)) for _ in range(3)]
    b = [p.sample(random.Random(7)) for _ in range(3)]
    assert a == b


def test_rebuild_matches_incremental_updates() -> None:
    obs = [("code", "a", 0.5, 0.0), ("triage", "a", 0.9, DAY), ("code", "b", 0.1, 2 * DAY)]
    rows = step.rebuild(obs, HL)[0]
    assert rows[(OVERALL, "a")].n == 2
    assert rows[("code", "a")].s == pytest.approx(0.5)
    assert rows[(OVERALL, "a")].s == pytest.approx(0.5 * bandit.decay_factor(DAY, HL) + 0.9)


def test_nan_reward_is_rejected() -> None:
    with pytest.raises(ValueError):
        bandit.update(Evidence(), math.nan, 0.0, HL)
