"""The grader command's score parsing, and reading a workspace that is not a git repository."""

from __future__ import annotations

import math
import os
import subprocess
from pathlib import Path

import pytest

from rota.reward.grader import parse_score
from rota.reward.score import Facts, grade
from rota.trajectory.record import Trajectory
from rota.trajectory.workspace import baseline, summarize


def test_a_plain_directory_is_scanned_for_changes(tmp_path: Path) -> None:
    ws = tmp_path / "plain"
    ws.mkdir()
    (ws / "keep.txt").write_text("same")
    (ws / "gone.txt").write_text("bye")
    base = baseline(ws)
    if base.snapshot.git:  # tmp inside a git checkout: nothing to test here
        pytest.skip("the temporary directory is inside a git repository")
    (ws / "gone.txt").unlink()
    (ws / "new.txt").write_text("hello")
    s = summarize(ws, base)
    assert not s.git and s.files_touched == 2 and s.commits is None
    g = grade(Facts(True, Trajectory(), s))
    assert {p.name for p in g.gains} == {"finished", "size"}  # no transcript: no PR to see
    assert g.reward is not None and g.reward > grade(Facts(True, Trajectory(), summarize(ws, baseline(ws)))).reward


def test_a_git_workspace_where_git_fails_is_unknown_not_a_crash(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "init", "-q"], cwd=ws, env=env, check=True)
    base = baseline(ws)
    (ws / ".git" / "HEAD").write_text("garbage\n")  # a broken repository
    s = summarize(ws, base)
    assert isinstance(s.notes, list)  # measured what it could, raised nothing


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("0.75", 0.75),
        ("thinking...\n1\n", 1.0),
        ('{"score": 0.4}', 0.4),
        ('log line\n{"reward": 0}', 0.0),
        ("0", 0.0),
    ],
)
def test_parse_score_accepts(text: str, score: float) -> None:
    assert math.isclose(parse_score(text), score)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "printed nothing"),
        ("great job", "expected a number"),
        ("1.5", "from 0 to 1"),
        ("nan", "from 0 to 1"),
        ('{"score": "high"}', "expected a number"),
    ],
)
def test_parse_score_rejects_with_a_reason(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_score(text)
