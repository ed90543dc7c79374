"""The issue's ordering on sessions recorded from the seven real CLIs (tests/fixtures/
trajectories/), replayed into real git workspaces and graded by the product's code:

    three commits with tests turned green and a PR > one small commit > files changed without a
    commit > nothing done > forty failing tool calls,

and a session that breaks the tests scores below the same session that does not.
"""

from __future__ import annotations

import pytest

from trajectory_replay import CLIS, load, replay

# Passes once the session's three modules exist: failing before, green after "feature-pr".
FEATURE_CHECK = "test -f app/parser.py && test -f app/formatter.py && test -f app/cli.py"

# Which recording stands for each rung, per CLI. aider answers the mock's plan in one reply and
# commits whatever it edited itself: it cannot leave work uncommitted, cannot run commands (so no
# PR and no failing tool calls), and its first run always adds .aider* to .gitignore. Its
# recordings therefore stand for fewer rungs, with a check that its one commit turns green.
LADDERS = {cli: ("feature-pr", "commit-one", "change-only", "text", "failing-forty") for cli in CLIS}
LADDERS["aider"] = ("feature-pr", "commit-one", "text")
CHECKS = {cli: FEATURE_CHECK for cli in CLIS}
CHECKS["aider"] = "test -f app/parser.py"


@pytest.mark.slow
@pytest.mark.parametrize("cli", CLIS)
def test_recorded_sessions_grade_in_the_issue_order(cli, tmp_path):
    got = []
    for i, scenario in enumerate(LADDERS[cli]):
        r = replay(load(cli, scenario), tmp_path / str(i), check=CHECKS[cli])
        got.append((scenario, r.graded.reward, r))
    rewards = [g[1] for g in got]
    assert all(a > b for a, b in zip(rewards, rewards[1:], strict=False)), [g[:2] for g in got]
    top = got[0][2]
    assert top.workspace.tests_before.passed is False and top.workspace.tests_after.passed
    if cli != "aider":
        assert top.workspace.commits == 3 and top.trajectory.prs
        storm = got[-1][2]
        assert "error_storm" in {p.name for p in storm.graded.penalties}


@pytest.mark.slow
@pytest.mark.parametrize("cli", CLIS)
def test_breaking_the_tests_scores_below_the_same_session(cli, tmp_path):
    rec = load(cli, "commit-one")
    kept = replay(rec, tmp_path / "kept", check="true")
    broke = replay(rec, tmp_path / "broke", check="! test -f hello.txt")
    assert kept.workspace.tests_after.passed and not broke.workspace.tests_after.passed
    assert broke.graded.reward < kept.graded.reward
    assert any("broke_tests" in x or "fail after" in x for x in broke.graded.reasons)


def test_codex_in_its_default_sandbox_cannot_commit_and_grades_as_uncommitted_work(tmp_path):
    sandboxed = replay(load("codex", "feature-pr-sandboxed"), tmp_path / "s", check=FEATURE_CHECK)
    writable = replay(load("codex", "feature-pr"), tmp_path / "w", check=FEATURE_CHECK)
    assert sandboxed.workspace.commits == 0 and sandboxed.workspace.uncommitted_files == 4
    assert sandboxed.trajectory.tool_errors == 3
    assert sandboxed.graded.reward < writable.graded.reward
