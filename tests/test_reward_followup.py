"""Delayed signals from a real git repository and a follow-up command (rota.reward.followup)."""

from __future__ import annotations

import sys

from rota.reward.followup import changed, check_git, due, run_command
from rota.reward.score import Facts, FollowUp, grade
from rota.trajectory.record import Trajectory, WorkspaceSummary
from rota.trajectory.workspace import baseline, summarize
from trajectory_replay import git, make_workspace

DAY = 86400.0


def session_on_branch(ws, name="feature"):
    """A session that made two commits on a branch; returns their shas (newest first)."""
    git(ws, "checkout", "-q", "-b", name)
    base = baseline(ws)
    for f in ("a.txt", "b.txt"):
        (ws / f).write_text(f + "\n")
        git(ws, "add", f)
        git(ws, "commit", "-q", "-m", f"Add {f}")
    return summarize(ws, base)


def test_commits_not_yet_on_the_default_branch(tmp_path):
    ws = tmp_path / "ws"
    make_workspace(ws, None)
    s = session_on_branch(ws)
    fu = check_git(ws, s.commit_shas, ended_at=1000.0, now=1000.0 + DAY, days=7)
    assert fu.on_default_branch is None and fu.reverted == 0  # may still be merged
    late = check_git(ws, s.commit_shas, ended_at=1000.0, now=1000.0 + 8 * DAY, days=7)
    assert late.on_default_branch is False and "not on refs/heads/main" in late.notes[0]


def test_merged_and_rebased_commits_are_on_the_default_branch(tmp_path):
    ws = tmp_path / "ws"
    make_workspace(ws, None)
    s = session_on_branch(ws)
    git(ws, "checkout", "-q", "main")
    git(ws, "merge", "-q", "--ff-only", "feature")
    assert check_git(ws, s.commit_shas, ended_at=0, now=10, days=7).on_default_branch is True

    ws2 = tmp_path / "ws2"
    make_workspace(ws2, None)
    s2 = session_on_branch(ws2)
    git(ws2, "checkout", "-q", "main")
    (ws2 / "c.txt").write_text("c\n")
    git(ws2, "add", "c.txt")
    git(ws2, "commit", "-q", "-m", "Someone else's work")
    git(ws2, "cherry-pick", "feature~1", "feature")  # same patches, other shas
    assert check_git(ws2, s2.commit_shas, ended_at=0, now=10, days=7).on_default_branch is True


def test_a_reverted_commit_is_found_and_lowers_the_grade(tmp_path):
    ws = tmp_path / "ws"
    make_workspace(ws, None)
    base = baseline(ws)
    (ws / "a.txt").write_text("a\n")
    git(ws, "add", "a.txt")
    git(ws, "commit", "-q", "-m", "Add a")
    s = summarize(ws, base)
    facts = Facts(True, Trajectory(source="x", tool_calls=1, tool_errors=0), s)
    before = grade(facts).reward
    git(ws, "revert", "--no-edit", "HEAD")
    fu = check_git(ws, s.commit_shas, ended_at=0, now=10, days=7)
    assert fu.reverted == 1 and changed(None, fu)
    facts.followup = fu
    after = grade(facts)
    assert after.reward < before and "reverted" in {p.name for p in after.penalties}


def test_followup_command_reports_a_merged_pr(tmp_path):
    ws = tmp_path / "ws"
    make_workspace(ws, None)
    script = tmp_path / "forge.py"
    script.write_text(
        "import json, sys\n"
        "s = json.load(sys.stdin)\n"
        "print(json.dumps({'pr_merged': s['prs'] == ['https://github.com/a/b/pull/1']}))\n"
    )
    session = {"session_id": 3, "prs": ["https://github.com/a/b/pull/1"], "commits": []}
    fu = run_command([sys.executable, str(script)], ws, session, FollowUp())
    assert fu.pr_merged is True and changed(None, fu)
    f = Facts(True, Trajectory(source="x", prs=session["prs"]), WorkspaceSummary(commits=1, lines_added=5, lines_removed=0, committed_files=1, files_touched=1))
    opened = grade(f).reward
    f.followup = fu
    assert grade(f).reward > opened


def test_followup_command_failures_change_nothing(tmp_path):
    for body in ("raise SystemExit(2)", "print('merged!')", "print('[1, 2]')"):
        script = tmp_path / "bad.py"
        script.write_text(body + "\n")
        fu = run_command([sys.executable, str(script)], tmp_path, {}, FollowUp(reverted=1))
        assert fu.reverted == 1 and fu.pr_merged is None and fu.notes
    missing = run_command(["/nonexistent/forge"], tmp_path, {}, FollowUp())
    assert missing.notes and not changed(None, missing)


def test_due():
    assert due(0.0, None, 3 * DAY, 7) and due(0.0, 2 * DAY, 3 * DAY, 7)
    assert due(0.0, 6 * DAY, 9 * DAY, 7)  # once more after the window
    assert not due(0.0, 8 * DAY, 9 * DAY, 7)
