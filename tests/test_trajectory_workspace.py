"""What a session left in a real git workspace (rota.trajectory.workspace) and test runs
(rota.trajectory.suite)."""

from __future__ import annotations

import sys

from rota.trajectory.suite import counts, run_suite
from rota.trajectory.workspace import baseline, default_branch, summarize
from trajectory_replay import git, make_workspace


def test_commits_lines_files_and_messages(tmp_path):
    ws = tmp_path / "ws"
    make_workspace(ws, None)
    base = baseline(ws)
    (ws / "a.py").write_text("one\ntwo\nthree\n")
    git(ws, "add", "a.py")
    git(ws, "commit", "-q", "-m", "Add a")
    (ws / "README.md").write_text("# demo project\n")  # 1 line kept, 2 removed
    git(ws, "commit", "-q", "-am", "Shorter readme")
    s = summarize(ws, base)
    assert s.git and s.commits == 2 and s.commit_messages == ["Shorter readme", "Add a"]
    assert len(s.commit_shas) == 2 and s.head_before != s.head_after
    assert s.lines_added == 3 and s.lines_removed == 2
    assert s.files_touched == s.committed_files == 2
    assert s.uncommitted_files == 0 and s.committed_lines == 5 and s.branch == "main"


def test_uncommitted_and_untracked_work(tmp_path):
    ws = tmp_path / "ws"
    make_workspace(ws, None)
    (ws / "old-untracked.txt").write_text("left from before\n")
    base = baseline(ws)
    (ws / "new.txt").write_text("a\nb\n")
    (ws / "README.md").write_text("changed\n")
    s = summarize(ws, base)
    assert s.commits == 0 and s.uncommitted_files == 2 and s.files_touched == 2
    assert s.uncommitted_lines == 2 + 1 + 3  # new file, and README: 1 added, 3 removed
    assert s.changed


def test_nothing_done(tmp_path):
    ws = tmp_path / "ws"
    make_workspace(ws, None)
    s = summarize(ws, baseline(ws))
    assert s.commits == 0 and s.files_touched == 0 and not s.changed and s.pushed_refs == []


def test_a_push_moves_a_remote_tracking_ref(tmp_path):
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    ws = tmp_path / "ws"
    make_workspace(ws, None)
    git(ws, "remote", "add", "origin", str(remote))
    git(ws, "push", "-q", "-u", "origin", "main")
    base = baseline(ws)
    (ws / "b.txt").write_text("b\n")
    git(ws, "add", "b.txt")
    git(ws, "commit", "-q", "-m", "b")
    git(ws, "push", "-q")
    s = summarize(ws, base)
    assert s.pushed_refs == ["refs/remotes/origin/main"]
    assert default_branch(ws) == "refs/heads/main"


def test_not_a_git_repository(tmp_path):
    s = summarize(tmp_path, baseline(tmp_path))
    assert not s.git and s.commits is None and s.notes


def test_run_suite_passes_fails_and_cannot_start(tmp_path):
    ok = run_suite([sys.executable, "-c", "print('3 passed in 0.1s')"], tmp_path)
    assert ok.passed and ok.tests_passed == 3 and ok.tests_failed == 0
    bad = run_suite([sys.executable, "-c", "print('1 failed, 2 passed'); raise SystemExit(1)"], tmp_path)
    assert not bad.passed and bad.exit_code == 1 and (bad.tests_passed, bad.tests_failed) == (2, 1)
    missing = run_suite(["/nonexistent/test-runner"], tmp_path)
    assert not missing.passed and missing.error.startswith("could not start")
    slow = run_suite([sys.executable, "-c", "import time; time.sleep(30)"], tmp_path, timeout_s=0.5)
    assert slow.timed_out and not slow.passed


def test_counts_from_common_runners():
    assert counts("=== 3 passed, 2 failed in 0.1s ===") == (3, 2)
    assert counts("Tests:       1 failed, 4 passed, 5 total") == (4, 1)
    assert counts("test result: ok. 7 passed; 0 failed; 0 ignored") == (7, 0)
    assert counts("Ran 5 tests in 0.01s\n\nFAILED (failures=2)") == (3, 2)
    assert counts("Ran 5 tests in 0.01s\n\nOK") == (5, 0)
    assert counts("--- PASS: TestA\n--- FAIL: TestB\nFAIL\tpkg") == (1, 1)
    assert counts("nothing to see") == (None, None)
