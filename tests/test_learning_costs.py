"""Measured cost per session and the relative cost the bandit's cost term uses
(rota.learning.costs)."""

from __future__ import annotations

import pytest

from rota.learning.costs import measure, relative_costs, usd_per_token
from rota.trajectory.record import Trajectory, Usage


def test_measure_means_per_arm():
    m = measure(
        [
            ("claude-code:opus", 2.0, 100_000),
            ("claude-code:opus", 4.0, 300_000),
            ("codex:gpt-5.4", None, 50_000),
            ("codex:gpt-5.4", None, None),
        ]
    )
    opus, codex = m["claude-code:opus"], m["codex:gpt-5.4"]
    assert (opus.sessions, opus.usd, opus.tokens) == (2, 3.0, 200_000)
    assert (codex.sessions, codex.usd, codex.tokens, codex.token_sessions) == (2, None, 50_000, 1)
    assert usd_per_token(m) == pytest.approx(6.0 / 400_000)


def test_tokens_are_priced_at_the_rate_of_arms_that_report_dollars():
    m = measure([("a:x", 1.0, 100_000), ("b:y", None, 200_000)])
    rel = relative_costs({}, ["a:x", "b:y"], m)
    assert rel["b:y"][0] == 1.0 and rel["a:x"][0] == pytest.approx(0.5)
    assert "per session over 1" in rel["a:x"][1]


def test_without_any_dollar_figure_arms_compare_in_tokens():
    m = measure([("a:x", None, 100), ("b:y", None, 400)])
    rel = relative_costs({}, ["a:x", "b:y"], m)
    assert rel["a:x"][0] == 0.25 and "tokens" in rel["a:x"][1]


def test_fixed_costs_stay_relative_to_the_dearest_constant():
    rel = relative_costs({"a:x": 5.0, "b:y": 1.0}, ["c:z"], measure([("c:z", 0.3, None)]))
    assert rel["a:x"] == (1.0, "cost 5 (set)") and rel["b:y"][0] == 0.2
    assert rel["c:z"][0] == 1.0  # the only measured arm is the dearest measured arm


def test_an_arm_not_measured_yet_gets_the_mean_of_the_others():
    m = measure([("a:x", 1.0, None), ("b:y", 3.0, None)])
    rel = relative_costs({}, ["a:x", "b:y", "new:arm"], m)
    assert rel["new:arm"][0] == pytest.approx((1 / 3 + 1) / 2)
    assert "no session reported" in rel["new:arm"][1]
    assert relative_costs({}, ["new:arm"], {})["new:arm"][0] == 0.5


def test_a_trajectory_records_its_cost():
    t = Trajectory(source="claude-code stream-json", usage=Usage(100, 20), cost_usd=0.01234567)
    assert t.cost_summary() == {
        "source": "claude-code stream-json",
        "tokens": 120,
        "input_tokens": 100,
        "output_tokens": 20,
        "usd": 0.012346,
    }
    assert Trajectory().cost_summary() is None
