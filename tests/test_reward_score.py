"""The graded reward (rota.reward.score), as pure functions: magnitude, ordering, penalties,
reasons, settings."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rota.errors import ConfigError
from rota.reward.score import Facts, FollowUp, commits_gain, grade, saturate, suite_outcome
from rota.reward.settings import DEFAULT, from_table
from rota.trajectory.record import SuiteRun, Trajectory, WorkspaceSummary

GREEN = SuiteRun(passed=True, exit_code=0)
RED = SuiteRun(passed=False, exit_code=1)
PR = "https://github.com/acme/demo/pull/42"


def ws(commits=0, lines=0, files=0, uncommitted_files=0, uncommitted_lines=0, **kw):
    return WorkspaceSummary(
        commits=commits,
        lines_added=lines + uncommitted_lines,
        lines_removed=0,
        committed_files=files,
        files_touched=files + uncommitted_files,
        uncommitted_files=uncommitted_files,
        uncommitted_lines=uncommitted_lines,
        **kw,
    )


def traj(calls=0, errors=0, prs=(), **kw):
    return Trajectory(source="test", tool_calls=calls, tool_errors=errors, prs=list(prs), **kw)


def ladder(before=RED, after_good=GREEN):
    """The issue's five sessions, in the order they must grade."""
    return {
        "three commits, tests green, PR": Facts(
            True, traj(4, 0, [PR]), ws(3, 90, 4, tests_before=before, tests_after=after_good)
        ),
        "one small commit": Facts(True, traj(1), ws(1, 1, 1, tests_before=before, tests_after=before)),
        "files changed, no commit": Facts(
            True, traj(1), ws(0, 0, 0, 1, 1, tests_before=before, tests_after=before)
        ),
        "nothing done": Facts(True, traj(), ws(tests_before=before, tests_after=before)),
        "forty failing tool calls": Facts(
            True, traj(40, 40), ws(tests_before=before, tests_after=before)
        ),
    }


def rewards(facts, settings=DEFAULT):
    return [grade(f, settings).reward for f in facts.values()]


def strictly_decreasing(xs):
    return all(a > b for a, b in zip(xs, xs[1:], strict=False))


def test_the_issue_ordering_with_tests_before_and_after():
    r = rewards(ladder())
    assert strictly_decreasing(r), r
    assert r[0] > 0.8 and r[-1] == 0.0


def test_the_ordering_without_a_test_command():
    facts = ladder()
    for f in facts.values():
        f.workspace.tests_before = f.workspace.tests_after = None
    r = rewards(facts)
    assert strictly_decreasing(r), r


def test_the_ordering_with_tests_only_after():
    facts = ladder()
    for f in facts.values():
        f.workspace.tests_before = None
    assert strictly_decreasing(rewards(facts))


def test_breaking_the_tests_scores_below_the_same_session_that_does_not():
    for name, f in ladder(before=GREEN).items():
        kept = grade(f).reward
        f.workspace.tests_after = RED
        broke = grade(f)
        assert broke.reward < kept or kept == 0.0, name
        if kept > 0:
            assert "broke_tests" in {p.name for p in broke.penalties}


def test_more_and_larger_work_scores_higher_with_diminishing_returns():
    def r(commits, lines, files):
        return grade(Facts(True, traj(), ws(commits, lines, files))).reward

    assert r(1, 5, 1) < r(1, 50, 2) < r(1, 500, 10) < r(1, 5000, 100)
    assert r(1, 50, 2) < r(2, 50, 2) < r(3, 50, 2)
    # A diff a hundred times larger is worth far less than a hundred times more.
    gain_small = r(1, 50, 2) - r(1, 5, 1)
    gain_huge = r(1, 50000, 1000) - r(1, 5000, 100)
    assert gain_huge < gain_small
    assert r(1, 10**9, 10**6) <= 1.0


def test_saturating_helpers():
    assert saturate(0, 100) == 0 and saturate(100, 100) == 0.5 and saturate(1e12, 100) < 1
    assert [commits_gain(n) for n in range(4)] == [0.0, 0.5, 0.75, 0.875]


@pytest.mark.parametrize(
    ("before", "after", "value", "broke"),
    [
        (RED, GREEN, 1.0, False),
        (GREEN, GREEN, 0.6, False),
        (GREEN, RED, 0.0, True),
        (RED, RED, 0.0, False),
        (None, GREEN, 0.6, False),
        (None, RED, 0.0, False),
        (SuiteRun(False, 1, 5, 4), SuiteRun(False, 1, 8, 1), 0.5 * 3 / 4, False),
    ],
)
def test_suite_outcome(before, after, value, broke):
    got = suite_outcome(before, after)
    assert got is not None
    assert math.isclose(got[0], value) and got[2] is broke and got[1]


def test_tests_added_while_green_count_more_and_unmeasured_runs_are_left_out():
    plain = suite_outcome(SuiteRun(True, 0, 10, 0), SuiteRun(True, 0, 10, 0))
    added = suite_outcome(SuiteRun(True, 0, 10, 0), SuiteRun(True, 0, 14, 0))
    assert plain[0] < added[0] < 1.0
    assert suite_outcome(GREEN, None) is None
    assert suite_outcome(GREEN, SuiteRun(False, error="interrupted")) is None
    assert suite_outcome(SuiteRun(False, error="could not start"), GREEN)[0] == 0.6


def test_turn_limit_and_failure_score_low():
    done = Facts(True, traj(10, 0), ws(1, 20, 1))
    base = grade(done).reward
    done.trajectory.turn_limit = True
    assert grade(done).reward < base
    crashed = Facts(False, traj(10, 0), ws(1, 20, 1))
    assert grade(crashed).reward < base
    said_error = Facts(True, traj(10, 0, verdict=False), ws(1, 20, 1))
    assert grade(said_error).reward < base


def test_error_storm_scales_with_count_and_rate():
    def r(calls, errors):
        return grade(Facts(True, traj(calls, errors), ws(1, 20, 1))).reward

    assert r(100, 5) == r(100, 0)  # a few failures cost nothing
    assert r(40, 40) < r(100, 40) < r(100, 10) <= r(100, 0)


def test_pull_request_push_and_merge():
    def r(prs=(), pushed=(), merged=None):
        f = Facts(True, traj(2, 0, prs), ws(1, 20, 1, pushed_refs=list(pushed)))
        if merged is not None:
            f.followup = FollowUp(pr_merged=merged)
        return grade(f).reward

    assert r() < r(pushed=["refs/remotes/origin/x"]) < r(prs=[PR]) < r(prs=[PR], merged=True)


def test_followups_lower_the_grade():
    f = Facts(True, traj(2, 0), ws(2, 40, 2))
    base = grade(f).reward
    f.followup = FollowUp(reverted=1)
    one = grade(f)
    f.followup = FollowUp(reverted=2)
    both = grade(f)
    assert both.reward < one.reward < base
    assert "reverted" in {p.name for p in one.penalties}
    f.followup = FollowUp(on_default_branch=False)
    assert grade(f).reward < base
    f.followup = FollowUp(on_default_branch=True)
    assert grade(f).reward == base


def test_judge_and_grader_are_gains():
    f = Facts(True, traj(2, 0), ws(1, 20, 1))
    base = grade(f).reward
    f.judge = 1.0
    assert grade(f).reward > base
    f.judge = 0.0
    assert grade(f).reward < base
    f.judge, f.grader = None, 0.9
    assert "grader" in {p.name for p in grade(f).gains}


def test_every_grade_comes_with_its_reasons():
    for f in ladder().values():
        g = grade(f)
        assert g.reasons and all(isinstance(x, str) and x for x in g.reasons)
        d = g.to_dict()
        assert d["reward"] == g.reward and set(d["gains"]) >= {"finished", "commits", "size"}
    storm = grade(ladder()["forty failing tool calls"])
    assert any("40 of 40 tool calls failed" in x for x in storm.reasons)


def test_not_a_git_repository_grades_from_the_rest():
    f = Facts(True, traj(3, 0), WorkspaceSummary(git=False))
    g = grade(f)
    assert g.reward is not None and {p.name for p in g.gains} == {"finished", "pr"}


def test_no_gain_with_a_weight_gives_no_grade():
    s = DEFAULT.with_(weights={k: 0.0 for k in DEFAULT.weights})
    assert grade(Facts(True), s).reward is None


facts_strategy = st.builds(
    Facts,
    exit_ok=st.booleans(),
    trajectory=st.builds(
        Trajectory,
        source=st.sampled_from(["x", "none"]),
        tool_calls=st.integers(0, 500),
        tool_errors=st.integers(0, 500),
        turn_limit=st.booleans(),
        verdict=st.sampled_from([None, True, False]),
        prs=st.lists(st.just(PR), max_size=2),
    ),
    workspace=st.builds(
        WorkspaceSummary,
        git=st.booleans(),
        commits=st.one_of(st.none(), st.integers(0, 50)),
        lines_added=st.integers(0, 10**6),
        lines_removed=st.integers(0, 10**6),
        committed_files=st.integers(0, 1000),
        uncommitted_files=st.integers(0, 100),
        uncommitted_lines=st.integers(0, 10**5),
        tests_before=st.sampled_from([None, GREEN, RED]),
        tests_after=st.sampled_from([None, GREEN, RED]),
    ),
    judge=st.one_of(st.none(), st.floats(0, 1)),
    followup=st.one_of(st.none(), st.builds(FollowUp, reverted=st.integers(0, 60))),
)


@given(facts_strategy)
def test_any_facts_grade_within_bounds(f):
    g = grade(f)
    assert g.reward is None or 0.0 <= g.reward <= 1.0


def test_settings_from_config():
    s = from_table(
        {
            "test_before": True,
            "judge": "claude-code:haiku",
            "weights": {"commits": 0.5, "exit": 0.2},
            "penalties": {"error_storm": 0.5},
            "size_half": 50,
            "followup_command": ["forge-status", "--json"],
        },
        "rota.toml",
    )
    assert s.test_before and s.judge == "claude-code:haiku"
    assert s.weights["commits"] == 0.5 and s.weights["finished"] == 0.2  # "exit" is the old name
    assert s.penalties["error_storm"] == 0.5 and s.size_half == 50.0
    assert s.followup_command == ("forge-status", "--json")


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ({"weights": {"commitz": 1}}, "grading.weights.commitz"),
        ({"weights": {"commits": -1}}, "grading.weights.commits"),
        ({"penalties": {"broke_tests": 2}}, "grading.penalties.broke_tests"),
        ({"judge": "haiku"}, "grading.judge"),
        ({"test_before": "yes"}, "grading.test_before"),
        ({"size_half": 0}, "grading.size_half"),
        ({"storm_free": 10, "storm_full": 5}, "grading.storm_full"),
        ({"followup_command": "gh pr view"}, "grading.followup_command"),
        ({"nonsense": 1}, "grading.nonsense"),
    ],
)
def test_bad_settings_name_file_and_key(table, key):
    with pytest.raises(ConfigError) as e:
        from_table(table, "rota.toml")
    assert e.value.key == key and "rota.toml" in str(e.value) and "expected" in str(e.value)
