"""Baselines behave as docs/scenarios.md defines them."""

from __future__ import annotations

import random
import tomllib

from rota.simulate.baselines import UCB1, EpsilonGreedy, Oracle, PlainTS, Static
from rota.simulate.runner import run_policy
from rota.simulate.scenario import parse_scenario
from rota.simulate.world import Observation, Outcome, PoolView, Replicate, World

TWO = """
sessions = 300
[categories]
code = 1
triage = 1
[[arms]]
arm = "a:good"
[arms.reward]
default = 0.8
triage = 0.2
[[arms]]
arm = "b:ok"
[arms.reward]
default = 0.5
[[arms]]
arm = "c:capped"
[arms.reward]
default = 0.9
[[quotas]]
pool = "cap"
arms = ["c:capped"]
window_minutes = 300
capacity = 2
visible = true
[static]
default = ["c:capped", "b:ok", "a:good"]
triage = ["a:good"]
"""


def setup() -> tuple:
    sc = parse_scenario(tomllib.loads(TWO))
    rep = Replicate.build(sc, 0, 1)
    return sc, rep


def test_oracle_takes_the_best_usable_arm() -> None:
    sc, rep = setup()
    rec = run_policy(sc, rep, "oracle", 1)
    assert rec.wasted == 0
    w = World(sc, rep)
    for slot in range(30):
        obs = w.observe(slot)
        best = Oracle(sc, w).choose(obs)
        usable = [a for a in obs.arms if w.usable(slot, a)]
        assert best == max(usable, key=lambda a: rep.means[slot][a])
        w.play(slot, best)
    # two capped sessions per 10-slot window, then the next best
    assert rec.picks["c:capped"] == 2 * 30


def test_static_follows_its_list_and_skips_exhausted_visible_pools() -> None:
    sc, rep = setup()
    rec = run_policy(sc, rep, "static", 1)
    assert rec.wasted == 0  # capacity 2, one unit per session: the probe says when it is full
    st = Static(sc)
    obs = Observation(
        0, 0.0, "code", ("a:good", "b:ok", "c:capped"), (PoolView("cap", 1.0, 10.0, 300, False),)
    )
    assert st.choose(obs) == "b:ok"
    assert st.choose(Observation(0, 0.0, "triage", obs.arms, ())) == "a:good"
    st.learn(obs, Outcome("a:good", True, 0.0, 100.0))  # a limit hit with a reset time
    assert st.choose(Observation(1, 50.0, "triage", obs.arms, ())) is None
    assert st.choose(Observation(2, 100.0, "triage", obs.arms, ())) == "a:good"


def test_plain_ts_is_fractional_beta_without_decay_or_pooling() -> None:
    sc, _ = setup()
    ts = PlainTS(sc, random.Random(1))
    obs = Observation(0, 0.0, "code", ("a:good",), ())
    ts.learn(obs, Outcome("a:good", False, 0.25))
    ts.learn(Observation(1, 9e9, "code", ("a:good",), ()), Outcome("a:good", False, 0.5))
    assert ts.ab[("code", "a:good")] == [1.75, 2.25]
    assert ("triage", "a:good") not in ts.ab
    ts.learn(obs, Outcome("a:good", True, 0.0, None))  # a limit hit is not a grade
    assert ts.ab[("code", "a:good")] == [1.75, 2.25]


def test_ucb1_tries_each_arm_then_bounds() -> None:
    sc, _ = setup()
    u = UCB1(sc, random.Random(2))
    arms = ("a:good", "b:ok")
    seen = []
    for i in range(2):
        obs = Observation(i, float(i), "code", arms, ())
        a = u.choose(obs)
        seen.append(a)
        u.learn(obs, Outcome(a, False, 0.9 if a == "a:good" else 0.1))
    assert sorted(seen) == list(arms)
    assert u.choose(Observation(3, 3.0, "code", arms, ())) == "a:good"


def test_learners_find_the_best_arm() -> None:
    sc, rep = setup()
    oracle = run_policy(sc, rep, "oracle", 3).total
    for name in ("epsilon-greedy", "ucb1", "ts"):
        rec = run_policy(sc, rep, name, 3)
        assert rec.total > 0.8 * oracle, name
    rnd = run_policy(sc, rep, "random", 3)
    assert rnd.total < run_policy(sc, rep, "epsilon-greedy", 3).total


def test_epsilon_greedy_explores_about_a_tenth() -> None:
    sc, _ = setup()
    eg = EpsilonGreedy(sc, random.Random(5))
    arms = ("a:good", "b:ok")
    for a, r in (("a:good", 0.9), ("b:ok", 0.1)):
        eg.learn(Observation(0, 0.0, "code", arms, ()), Outcome(a, False, r))
    picks = [eg.choose(Observation(1, 1.0, "code", arms, ())) for _ in range(2000)]
    share = picks.count("b:ok") / len(picks)
    assert 0.03 < share < 0.08  # ε/2: half the random picks land on the best arm
