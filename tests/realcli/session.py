"""Run one real CLI through one scenario, inside a loopback-only namespace, and record what it did.

    rec = run_scenario(CLIS["codex"], SCENARIOS["commit-one"], tmp_path)
    rec.exit_code, rec.stdout, rec.commits, rec.requests ...

The CLI gets a fresh git workspace (one initial commit), its own HOME with only the config files
its `CLI.prepare` writes, a minimal environment (no variable of the caller's, PWD set to the
workspace), and a mock provider that only it can reach.
"""

from __future__ import annotations

import glob
import os
import signal
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mockapi import handler
from mockapi.plan import Scenario
from mockapi.server import MockAPI
from realcli.clis import CLI, base_path, install_dir
from realcli.netns import LoopbackNamespace

DEFAULT_TIMEOUT = 180.0
HANG_TIMEOUT = 25.0  # a hang is ended by us after this long


@dataclass
class Recording:
    cli: str
    version: str
    scenario: str
    argv: list[str]
    env: dict[str, str]  # the CLI's own variables (credentials masked)
    exit_code: int | None
    timed_out: bool
    seconds: float
    started_at: float  # epoch seconds: the reference for resets printed as a wall time
    ended_at: float
    stdout: str
    stderr: str
    commits: list[dict[str, Any]]  # new commits: subject, files
    status: list[str]  # `git status --porcelain` afterwards
    requests: list[dict[str, Any]]  # what the CLI sent the provider
    artifacts: dict[str, str] = field(default_factory=dict)  # HOME-relative path -> text
    workspace_files: dict[str, str] = field(default_factory=dict)  # new or changed, small text
    paths: dict[str, str] = field(default_factory=dict)  # placeholders: <WORKSPACE>, <HOME>

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def make_workspace(path: Path, env: dict[str, str]) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / "README.md").write_text("# demo project\n\nA workspace for agent tests.\n")

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=path, env=env, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("add", "README.md")
    git("commit", "-q", "-m", "Initial commit")


def _git_out(ws: Path, env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ws, env=env, capture_output=True, text=True, check=False
    ).stdout


def base_env(home: Path, workspace: Path) -> dict[str, str]:
    return {
        "PATH": base_path(),
        "HOME": str(home),
        "USER": os.environ.get("USER", "root"),
        "LOGNAME": os.environ.get("USER", "root"),
        "SHELL": "/bin/bash",
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "TERM": "dumb",
        "NO_COLOR": "1",
        "CI": "1",
        "PWD": str(workspace),
        "TMPDIR": str(home / "tmp"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "GIT_AUTHOR_NAME": "Agent",
        "GIT_AUTHOR_EMAIL": "agent@example.invalid",
        "GIT_COMMITTER_NAME": "Agent",
        "GIT_COMMITTER_EMAIL": "agent@example.invalid",
    }


def _mask(env: dict[str, str]) -> dict[str, str]:
    secret = ("KEY", "TOKEN", "SECRET")
    return {k: ("<masked>" if any(s in k for s in secret) else v) for k, v in env.items()}


class MockInNamespace:
    """The mock server, listening inside a fresh loopback-only namespace."""

    def __init__(self, scenario: Scenario) -> None:
        self.ns = LoopbackNamespace(lambda: MockAPI(handler(scenario)))
        self.api: MockAPI = self.ns.value  # type: ignore[assignment]
        self.api.start()

    def close(self) -> None:
        self.api.stop()
        self.ns.close()

    def __enter__(self) -> MockInNamespace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_scenario(
    cli: CLI,
    scenario: Scenario,
    root: Path,
    model: str | None = None,
    timeout: float | None = None,
) -> Recording:
    home, ws = root / "home", root / "workspace"
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Agent\n\temail = agent@example.invalid\n"
        "[init]\n\tdefaultBranch = main\n",
        encoding="utf-8",
    )
    env = base_env(home, ws)
    make_workspace(ws, env)
    model = model or cli.model
    timeout = timeout or (HANG_TIMEOUT if scenario.hang else DEFAULT_TIMEOUT)
    with MockInNamespace(scenario) as mock:
        own = cli.prepare(home, ws, mock.api.url, scenario)
        for key, value in scenario.cli_env:
            if value is None:
                own.pop(key, None)
            else:
                own[key] = value
        env.update(own)
        argv = cli.argv(scenario.prompt, ws, model)
        started_at = time.time()
        started = time.monotonic()
        proc = subprocess.Popen(
            [*mock.ns.prefix(), *argv],
            cwd=ws,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        timed_out = False
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc)
            out, err = proc.communicate()
        seconds = time.monotonic() - started
        ended_at = time.time()
        requests = [r.summary() for r in mock.api.requests]
    base = _git_out(ws, env, "rev-list", "--max-parents=0", "HEAD").strip()
    commits = []
    for line in _git_out(ws, env, "log", "--format=%H%x09%s", f"{base}..HEAD").splitlines():
        sha, _, subject = line.partition("\t")
        files = _git_out(ws, env, "show", "--name-only", "--format=", sha).split()
        commits.append({"subject": subject, "files": files})
    commits.reverse()
    status = [x for x in _git_out(ws, env, "status", "--porcelain", "-uall").splitlines() if x]
    return Recording(
        cli=cli.name,
        version=cli.version() or "?",
        scenario=scenario.name,
        argv=argv,
        env=_mask(own),
        exit_code=None if timed_out else proc.returncode,
        timed_out=timed_out,
        seconds=round(seconds, 1),
        started_at=round(started_at, 3),
        ended_at=round(ended_at, 3),
        stdout=out.decode("utf-8", "replace"),
        stderr=err.decode("utf-8", "replace"),
        commits=commits,
        status=status,
        requests=requests,
        artifacts=_artifacts(home, cli.artifacts(home)),
        workspace_files=_changed_files(ws, env, base),
        paths={
            "<WORKSPACE>": str(ws),
            "<HOME>": str(home),
            "<URL>": mock.api.url,
            "<REALCLI>": str(install_dir()),
        },
    )


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=5)
            return
        except subprocess.TimeoutExpired:
            continue


def _artifacts(home: Path, patterns: list[str], limit: int = 400_000) -> dict[str, str]:
    out: dict[str, str] = {}
    for pat in patterns:
        for p in sorted(glob.glob(str(home / pat), recursive=True)):
            path = Path(p)
            if path.is_file():
                out[str(path.relative_to(home))] = path.read_text("utf-8", "replace")[:limit]
    return out


def _changed_files(ws: Path, env: dict[str, str], base: str, limit: int = 20_000) -> dict[str, str]:
    names = set(_git_out(ws, env, "diff", "--name-only", base).split())
    names |= set(_git_out(ws, env, "ls-files", "--others", "--exclude-standard").split())
    out = {}
    for n in sorted(names):
        p = ws / n
        if p.is_file() and p.stat().st_size <= limit:
            out[n] = p.read_text("utf-8", "replace")
    return out
