"""Simulated sessions graded by the product's grading code (rota.simulate.outcomes)."""

from __future__ import annotations

import random
import statistics

import pytest

from rota.errors import ConfigError
from rota.reward.score import grade
from rota.simulate.outcomes import OutcomeSpec, draw_facts, draw_reward, mean_reward, parse


def test_better_sessions_have_a_higher_mean_grade():
    weak = OutcomeSpec(commit=0.2, storm=0.3, crash=0.1)
    base = OutcomeSpec()
    strong = OutcomeSpec(commit=0.9, commits=3, lines=120, fix=0.6, pr=0.5, storm=0.01)
    assert mean_reward(weak) < mean_reward(base) < mean_reward(strong)


def test_draws_are_the_products_grades_and_reproducible():
    spec = OutcomeSpec()
    a = [draw_reward(spec, random.Random(7)) for _ in range(3)]
    assert a[0] == a[1] == a[2]
    f = draw_facts(spec, random.Random(7))
    assert draw_reward(spec, random.Random(7)) == grade(f).reward


def test_grades_have_magnitude_not_just_success():
    rng = random.Random(1)
    rewards = [draw_reward(OutcomeSpec(commit=0.7), rng) for _ in range(2000)]
    assert len({round(r, 2) for r in rewards}) > 30  # many levels, not a coin
    assert 0.0 <= min(rewards) and max(rewards) <= 1.0


def test_judge_noise_adds_spread_around_the_same_mean():
    rng1, rng2 = random.Random(3), random.Random(3)
    quiet = [draw_reward(OutcomeSpec(judge_noise=0.01), rng1) for _ in range(3000)]
    noisy = [draw_reward(OutcomeSpec(judge_noise=0.3), rng2) for _ in range(3000)]
    assert abs(statistics.mean(quiet) - statistics.mean(noisy)) < 0.03
    assert statistics.pstdev(noisy) > statistics.pstdev(quiet)


def test_parse():
    s = parse({"commit": 0.9, "lines": 200, "judge_noise": 0.1}, "arms.outcomes.code", "s.toml")
    assert s.commit == 0.9 and s.lines == 200 and s.judge_noise == 0.1 and s.pr == OutcomeSpec().pr
    for table in ({"commit": 2}, {"lines": -1}, {"commits": 0.5}, {"typo": 1}, {"pr": True}):
        with pytest.raises(ConfigError) as e:
            parse(table, "arms.outcomes.code", "s.toml")
        assert e.value.key.startswith("arms.outcomes.code.")


SCENARIO = """
sessions = 300
seed = 5
[categories]
code = 1
[[arms]]
arm = "claude-code:opus"
tier = "high"
[arms.outcomes.default]
commit = 0.9
commits = 3
lines = 150
fix = 0.7
pr = 0.6
judge_noise = 0.1
[[arms]]
arm = "gptme:glm-5"
tier = "low"
[arms.reward]
code = 0.2
[arms.outcomes.default]
commit = 0.3
storm = 0.4
"""


def test_a_scenario_with_outcomes_is_graded_by_the_product():
    import tomllib

    from rota.reward.score import grade as product_grade  # noqa: F401  (the function used)
    from rota.simulate.runner import run_policy
    from rota.simulate.scenario import parse_scenario
    from rota.simulate.world import Replicate

    sc = parse_scenario(tomllib.loads(SCENARIO), path="s.toml")
    opus, glm = sc.arms
    assert glm.mean("code") == 0.2  # a named mean beats the outcomes' default
    assert opus.mean("code") == mean_reward(opus.outcomes["default"])
    rep = Replicate.build(sc, 0, 1)
    drawn = [r["claude-code:opus"] for r in rep.rewards]
    assert len({round(x, 3) for x in drawn}) > 20  # grades with magnitude
    assert abs(statistics.mean(drawn) - opus.mean("code")) < 0.05
    assert run_policy(sc, rep, "rota", 1).total > run_policy(sc, rep, "random", 1).total


def test_scenario_outcome_errors_name_the_key():
    import tomllib

    from rota.simulate.scenario import parse_scenario

    bad = SCENARIO.replace("commit = 0.9", "commit = 9")
    with pytest.raises(ConfigError) as e:
        parse_scenario(tomllib.loads(bad), path="s.toml")
    assert e.value.key == "arms[0].outcomes.default.commit"
