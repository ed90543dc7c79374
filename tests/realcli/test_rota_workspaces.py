"""Workspaces other than a fresh repository, through `rota run` and the real CLIs whose sandbox
decides where they may write: codex (`--sandbox workspace-write`) must be able to commit in a
linked worktree, whose `.git` is a file and whose commits go to the main repository's .git."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mockapi.plan import SCENARIOS
from realcli.rota_run import rota_session
from realcli.session import make_workspace

pytestmark = [pytest.mark.realcli, pytest.mark.slow]


def linked_worktree(path: Path, env: dict[str, str]) -> None:
    main = path.parent / "main-repository"
    make_workspace(main, env)
    subprocess.run(
        ["git", "worktree", "add", "-q", "-b", "agent", str(path)],
        cwd=main, env=env, check=True, capture_output=True,
    )  # fmt: skip


def _log(ws: Path) -> list[str]:
    out = subprocess.run(
        ["git", "log", "--format=%s", "agent"], cwd=ws, capture_output=True, text=True, check=True
    )
    return out.stdout.splitlines()


def test_codex_commits_in_a_linked_worktree(real_cli, tmp_path: Path) -> None:
    run = rota_session(real_cli("codex"), SCENARIOS["commit-one"], tmp_path, workspace=linked_worktree)
    assert (run.workspace / ".git").is_file()
    s = run.session
    assert s is not None and s.status == "completed", run.log[-3000:]
    assert "Read-only file system" not in run.log and "bwrap" not in run.log, run.log[-3000:]
    assert _log(run.workspace) == ["Add hello.txt", "Initial commit"], run.log[-3000:]
    assert dict(s.detail)["workspace"]["commits"] == 1
    dot_git = (tmp_path / "main-repository" / ".git").resolve()
    argv = run.result["argv"]
    dirs = [argv[i + 1] for i, a in enumerate(argv) if a == "--add-dir"]
    assert dirs == [str(dot_git / "worktrees" / "workspace"), str(dot_git)]
