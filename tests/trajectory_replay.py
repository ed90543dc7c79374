"""Replaying a recorded real-CLI session (tests/fixtures/trajectories/) into a real git workspace,
so that rota's own readers, workspace measurement, test runs and grade see what they would have
seen after that session.

A recording holds what the CLI printed, the files it left in its HOME (session logs), the commits
it made (subject and files) and the files it changed. The replay makes a fresh repository, runs
the test command before (rota's baseline), makes the same commits with the same contents, leaves
the same uncommitted files, writes the CLI's own files into a HOME, and runs the test command
after. Everything after the harness is the product's code.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from rota.reward.score import Facts, Graded, grade
from rota.reward.settings import DEFAULT, RewardSettings
from rota.trajectory import HarnessOutput, Trajectory, WorkspaceSummary, read
from rota.trajectory.suite import run_suite
from rota.trajectory.workspace import baseline, summarize

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "trajectories"
CLIS = ("claude-code", "codex", "gemini", "opencode", "gptme", "aider", "copilot")
SCENARIOS = ("feature-pr", "commit-one", "change-only", "text", "failing-forty")
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Agent",
    "GIT_AUTHOR_EMAIL": "agent@example.invalid",
    "GIT_COMMITTER_NAME": "Agent",
    "GIT_COMMITTER_EMAIL": "agent@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def load(cli: str, scenario: str) -> dict:
    return json.loads((FIXTURES / cli / f"{scenario}.json").read_text(encoding="utf-8"))


def git(ws: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    return subprocess.run(
        ["git", *args], cwd=ws, env=env, check=True, capture_output=True, text=True
    ).stdout


def make_workspace(ws: Path, check: str | None) -> None:
    """A repository like the recording's (README.md, one commit), plus check.sh when given."""
    ws.mkdir(parents=True, exist_ok=True)
    (ws / "README.md").write_text("# demo project\n\nA workspace for agent tests.\n")
    files = ["README.md"]
    if check is not None:
        (ws / "check.sh").write_text("#!/bin/sh\n" + check + "\n")
        files.append("check.sh")
    git(ws, "init", "-q", "-b", "main")
    git(ws, "add", *files)
    git(ws, "commit", "-q", "-m", "Initial commit")


@dataclass
class Replayed:
    trajectory: Trajectory
    workspace: WorkspaceSummary
    graded: Graded
    exit_ok: bool


def harness_output(rec: dict, root: Path, started_at: float | None = None) -> HarnessOutput:
    """What the harness left for rota's readers: its output, and its own files under a HOME."""
    ws, home = root / "workspace", root / "home"
    home.mkdir(parents=True, exist_ok=True)
    ws.mkdir(parents=True, exist_ok=True)

    def sub(text: str) -> str:
        return text.replace("<WORKSPACE>", str(ws)).replace("<HOME>", str(home))

    for rel, text in rec["artifacts"].items():
        p = home / sub(rel)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(sub(text), encoding="utf-8")
    return HarnessOutput(
        stdout=sub(rec["stdout"]),
        stderr=sub(rec["stderr"]),
        exit_code=rec["exit_code"],
        env={"HOME": str(home), "CODEX_HOME": str(home / ".codex")},
        workspace=ws,
        started_at=started_at if started_at is not None else time.time() - 1,
        ended_at=time.time() + 1,
    )


def replay(
    rec: dict,
    root: Path,
    *,
    check: str | None = None,
    settings: RewardSettings = DEFAULT,
) -> Replayed:
    ws = root / "workspace"
    make_workspace(ws, check)
    test_cmd = ["sh", "check.sh"] if check is not None else None
    base = baseline(ws)
    if test_cmd:
        base.tests = run_suite(test_cmd, ws, timeout_s=60)
    started = time.time()
    contents = rec["workspace_files"]
    for commit in rec["commits"]:
        for f in commit["files"]:
            p = ws / f
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(contents.get(f, ""), encoding="utf-8")
        git(ws, "add", "--", *commit["files"])
        git(ws, "commit", "-q", "-m", commit["subject"])
    for line in rec["status"]:
        path = line[3:]
        p = ws / path
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(contents.get(path, ""), encoding="utf-8")
    out = harness_output(rec, root, started)
    traj = read(rec["cli"], out)
    after = run_suite(test_cmd, ws, timeout_s=60) if test_cmd else None
    summary = summarize(ws, base, after)
    exit_ok = rec["exit_code"] == 0 and not rec["timed_out"]
    graded = grade(Facts(exit_ok=exit_ok, trajectory=traj, workspace=summary), settings)
    return Replayed(traj, summary, graded, exit_ok)
