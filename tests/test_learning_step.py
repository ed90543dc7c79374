"""One learning step: the simulator and the stores learn through step.observe, and agree exactly.

A simulated history (the `rota` policy in `rota simulate`, with a regression that the change
tests find) is recorded again, session by session, through a real store (SQLite, and PostgreSQL
when the suite has one). Both must hold the same evidence rows and change tests to the last bit,
so the posteriors that select() reads are identical. A grade correction through the store (`rota
grade`) then equals the simulator's rows corrected with step.unobserve and step.observe, and a
rebuild of the whole history from the sessions table.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from rota.learning import bandit, step
from rota.learning.posteriors import arm_posterior
from rota.simulate.rota_policy import RotaPolicy
from rota.simulate.scenario import load_scenario
from rota.simulate.world import Replicate, World
from rota.store import open_url
from rota.store.base import SessionOutcome, Store

REPO = Path(__file__).resolve().parent.parent
SCENARIO = REPO / "examples" / "scenarios" / "drift.toml"
SESSIONS = 700  # every arm and category, limit hits, and the regression at slot 500


def simulate() -> tuple[RotaPolicy, list[tuple[str, str, float, float]]]:
    """Run the product's policy through one replicate; return it and its graded observations."""
    scenario = dataclasses.replace(load_scenario(SCENARIO), sessions=SESSIONS)
    rep = Replicate.build(scenario, 0, scenario.seed)
    world = World(scenario, rep)
    policy = RotaPolicy(scenario, random.Random(7))
    graded: list[tuple[str, str, float, float]] = []
    wasted = 0
    for slot in range(scenario.sessions):
        obs = world.observe(slot)
        arm = policy.choose(obs)
        if arm is None:
            continue
        out = world.play(slot, arm)
        policy.learn(obs, out)
        if out.wasted:
            wasted += 1
        else:
            graded.append((obs.category, arm, out.reward, obs.now))
    assert wasted and len({(c, a) for c, a, _, _ in graded}) >= 8  # a history worth checking
    return policy, graded


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'rota.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    s = open_url(url)
    try:
        yield s
    finally:
        s.close()


def record(store: Store, graded: list[tuple[str, str, float, float]], hl: float) -> list[int]:
    """Each observation as `rota run` records it: a session started, then finished graded."""
    ids = []
    for category, arm, reward, at in graded:
        sid = store.start_session(
            category=category,
            arm=arm,
            started_at=at - 1200.0,
            decision_id=None,
            pid=None,
            machine="m",
            workspace="w",
        )
        store.finish_session(
            sid, SessionOutcome(status="completed", ended_at=at, reward=reward), half_life_s=hl
        )
        ids.append(sid)
    return ids


def test_a_simulated_history_and_the_store_learn_the_same(store: Store) -> None:
    policy, graded = simulate()
    hl = policy.half_life_s
    ids = record(store, graded, hl)

    assert store.evidence() == policy.evidence  # every row, to the last bit
    assert store.drifts() == {k: policy.drifts[k] for k in store.drifts()}  # and every test
    assert any(d.changed_at for d in policy.drifts.values())  # a change was found and set aside
    evidence, changed = store.evidence_and_changes()
    assert evidence == policy.evidence and changed == policy.changed
    config = policy.config
    now = graded[-1][3] + 3600.0
    weight = 2.0
    for category in config.categories:
        for arm in config.arms.values():
            simulated = arm_posterior(config, policy.evidence, category, arm, now, weight)
            assert arm_posterior(config, store.evidence(), category, arm, now, weight) == simulated

    # A grade correction (`rota grade`): the store's transaction is the same two steps.
    i = len(graded) // 2
    category, arm, old, at = graded[i]
    corrected = 1.0 - old
    store.set_grade(ids[i], corrected, now=now, half_life_s=hl)
    rows, drifts = dict(policy.evidence), dict(policy.drifts)
    back = step.unobserve(rows, drifts, category, arm, old, at, hl)
    rows.update(back.rows)
    drifts.update(back.drifts)
    again = step.observe(rows, drifts, category, arm, corrected, at, hl)
    rows.update(again.rows)
    assert store.evidence() == rows

    # ...and, where no change was found since, equals the history rebuilt with the corrected
    # grade in its place (a sequential test cannot forget one grade: after the correction, tests
    # may differ from a replay).
    rebuilt, _ = step.rebuild(store.graded_observations(), hl)
    assert [o[:3] for o in store.graded_observations()][i] == (category, arm, corrected)
    assert set(rebuilt) == set(rows)
    for key, ev in rebuilt.items():
        if any(d.changed_at > at for k, d in policy.drifts.items() if k[1] == key[1]):
            continue
        got = rows[key]
        assert (got.n, got.t) == (ev.n, ev.t)
        assert (got.s, got.f, got.sum_r, got.sum_r2) == pytest.approx(
            (ev.s, ev.f, ev.sum_r, ev.sum_r2), rel=1e-9, abs=1e-9
        )


def test_observe_updates_the_category_row_and_the_overall_row_only() -> None:
    hl = 14 * 86400.0
    rows = {("triage", "b"): bandit.Evidence(s=1.0, f=1.0, t=0.0, n=2)}
    learnt = step.observe(rows, {}, "code", "a", 0.75, 100.0, hl)
    assert set(learnt.rows) == set(learnt.drifts) == {("code", "a"), (bandit.OVERALL, "a")}
    assert learnt.change is None
    for ev in learnt.rows.values():
        assert (ev.s, ev.f, ev.t, ev.n) == (0.75, 0.25, 100.0, 1)
    rows.update(learnt.rows)
    back = step.unobserve(rows, learnt.drifts, "code", "a", 0.75, 100.0, hl)
    for ev in back.rows.values():
        assert (ev.s, ev.f, ev.n, ev.sum_r) == (0.0, 0.0, 0, 0.0)
    assert rows[("triage", "b")] == bandit.Evidence(s=1.0, f=1.0, t=0.0, n=2)
