"""Grading parts on real git repositories: commits and files changed, scores, combination."""

from __future__ import annotations

import math
import os
import subprocess
from pathlib import Path

import pytest

from rota.session.grading import changes, combine, parse_score, snapshot

GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
}


def git(ws: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=ws, env=GIT_ENV, check=True, capture_output=True)


def commit(ws: Path, name: str, text: str = "x\n") -> None:
    (ws / name).parent.mkdir(parents=True, exist_ok=True)
    (ws / name).write_text(text)
    git(ws, "add", name)
    git(ws, "commit", "-q", "-m", f"add {name}")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    git(ws, "init", "-q")
    return ws


def test_commits_and_files_in_a_repo_without_commits_yet(repo: Path) -> None:
    before = snapshot(repo)
    assert before.git and before.head is None
    commit(repo, "a.txt")
    commit(repo, "dir/b.txt")
    ch = changes(repo, before)
    assert ch.commits == 2 and ch.files_changed == 2 and ch.head_before is None


def test_uncommitted_changes_count_as_files_but_not_commits(repo: Path) -> None:
    commit(repo, "a.txt")
    (repo / "dirty.txt").write_text("already dirty\n")
    before = snapshot(repo)
    ch = changes(repo, before)
    assert ch.commits == 0 and ch.files_changed == 0  # nothing happened during the session
    (repo / "a.txt").write_text("edited\n")
    (repo / "new.txt").write_text("new\n")
    ch = changes(repo, before)
    assert ch.commits == 0 and ch.files_changed == 2
    (repo / "dirty.txt").write_text("edited again, longer\n")
    assert changes(repo, before).files_changed == 3


def test_commit_of_an_already_dirty_file_counts(repo: Path) -> None:
    commit(repo, "a.txt")
    (repo / "a.txt").write_text("work in progress\n")
    before = snapshot(repo)
    git(repo, "commit", "-q", "-am", "finish")
    ch = changes(repo, before)
    assert ch.commits == 1 and ch.files_changed == 1


def test_a_plain_directory_is_scanned_for_changes(tmp_path: Path) -> None:
    ws = tmp_path / "plain"
    ws.mkdir()
    (ws / "keep.txt").write_text("same")
    (ws / "gone.txt").write_text("bye")
    before = snapshot(ws)
    if before.git:  # tmp inside a git checkout: nothing to test here
        pytest.skip("tmp_path is inside a git repository")
    (ws / "gone.txt").unlink()
    (ws / "new.txt").write_text("hi")
    ch = changes(ws, before)
    assert ch.commits is None and ch.files_changed == 2


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("0.8", 0.8),
        ("thinking...\nlooks fine\n0.25\n", 0.25),
        ('{"score": 1}', 1.0),
        ('{"reward": 0.5, "why": "ok"}', 0.5),
        ("0", 0.0),
    ],
)
def test_parse_score_accepts(text: str, score: float) -> None:
    assert parse_score(text) == score


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "printed nothing"),
        ("banana", "'banana'"),
        ("1.7", "from 0 to 1"),
        ("-0.1", "from 0 to 1"),
        ("nan", "from 0 to 1"),
        ('{"verdict": "good"}', "expected a number"),
        ("true", "expected a number"),
    ],
)
def test_parse_score_rejects_with_a_reason(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why.replace("(", r"\(")):
        parse_score(text)


def test_combine_is_a_weighted_mean_over_available_signals() -> None:
    w = {"exit": 0.25, "harness": 0.15, "commits": 0.3, "files": 0.1, "tests": 0.2, "grader": 0.5}
    assert combine({"exit": 1.0, "commits": 0.0}, w) == pytest.approx(0.25 / 0.55)
    assert combine({"exit": 1, "harness": 1, "commits": 1, "files": 1}, w) == 1.0
    assert combine({"exit": 1.0, "grader": 0.2}, w) == pytest.approx((0.25 + 0.1) / 0.75)
    # Zero weights and unknown signals do not count; nothing weighted -> None.
    assert combine({"exit": 0.0, "other": 1.0}, {"exit": 1.0}) == 0.0
    assert combine({"exit": 1.0}, {"exit": 0.0}) is None
    assert combine({"exit": math.nan, "files": 1.0}, w) == 1.0
