"""Helpers for the `rota run` / `rota loop` / grading tests: a real git workspace, the fake
harnesses of tests/fakes on PATH, and readers for what they recorded."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conftest import FIXTURES, RotaEnv

FAKES = Path(__file__).resolve().parent / "fakes"

# Fake claude and codex through their real profiles (argv, limit detection, model seen), plus a
# custom `agent` harness. {extra} is appended (e.g. a [run] table).
RUN_CONFIG = """
categories = ["code", "infrastructure", "strategic"]
default_category = "code"

[workspace]
path = "{workspace}"

[run]
kill_grace_seconds = {grace}
{run}

[harnesses.claude-code]
# IS_SANDBOX: the suite runs as root in CI, where the profile (like the real claude) refuses
# bypassPermissions without it
env = {{ FAKE_SECRET = "sk-ant-oat01-THISISAFAKESECRETVALUE0123456789", IS_SANDBOX = "1" }}
[harnesses.claude-code.models]
opus = {{ tier = "high", cost = 5.0 }}
sonnet = {{ tier = "medium", cost = 1.5 }}

[harnesses.codex]
[harnesses.codex.models]
"gpt-5.4" = {{ tier = "medium", cost = 1.0 }}
{extra}
"""

AGENT_CONFIG = """
categories = ["code", "infrastructure", "strategic"]
default_category = "code"

[workspace]
path = "{workspace}"

[run]
kill_grace_seconds = {grace}
{run}

[harnesses.agent]
command = ["agent", "{{model}}", "{{prompt}}"]
timeout_minutes = {timeout}
[harnesses.agent.models]
m1 = {{ tier = "medium" }}
{extra}
"""


class RunEnv(RotaEnv):
    """RotaEnv + a git workspace with one commit + tests/fakes first on PATH + $FAKE_DIR."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.fake_dir = root / "fake"
        self.fake_dir.mkdir()
        self.env.update(
            {
                "PATH": f"{FAKES}{os.pathsep}{self.env.get('PATH', '')}",
                "FAKE_DIR": str(self.fake_dir),
                "FAKE_FIXTURES": str(FIXTURES),
                "GIT_AUTHOR_NAME": "Fake Agent",
                "GIT_AUTHOR_EMAIL": "agent@example.invalid",
                "GIT_COMMITTER_NAME": "Fake Agent",
                "GIT_COMMITTER_EMAIL": "agent@example.invalid",
                "GIT_CONFIG_NOSYSTEM": "1",
                "ROTA_MACHINE": "testbox",
            }
        )
        # The many short-lived rota processes compile rota once, into a cache outside the tree
        # (PYTHONDONTWRITEBYTECODE would make each of them recompile every module).
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.env["PYTHONPYCACHEPREFIX"] = str(
            Path(tempfile.gettempdir()) / f"rota-test-pycache-{os.getuid()}"
        )
        self.git("init", "-q", "-b", "main")
        (self.workspace / "README.md").write_text("a workspace\n")
        self.git("add", "README.md")
        self.git("commit", "-q", "-m", "initial")

    def git(self, *args: str) -> str:
        return subprocess.run(
            ["git", *args],
            cwd=self.workspace,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").strip()

    def config_with(
        self,
        template: str = RUN_CONFIG,
        *,
        run: str = "",
        extra: str = "",
        timeout: float = 5,
        grace: float = 2,
    ) -> None:
        self.write_config(
            template,
            run=textwrap.dedent(run),
            extra=textwrap.dedent(extra),
            timeout=str(timeout),
            grace=str(grace),
        )

    def queue(self, name: str, *modes: str) -> None:
        with open(self.fake_dir / f"{name}.queue", "a") as fh:
            fh.writelines(m + "\n" for m in modes)

    def calls(self) -> list[dict[str, Any]]:
        p = self.fake_dir / "calls.jsonl"
        if not p.exists():
            return []
        return [json.loads(line) for line in p.read_text().splitlines() if line.strip()]

    def run_json(self, *args: str, timeout: float = 60) -> tuple[int, dict[str, Any], str]:
        proc = self.run(*args, "--json", timeout=timeout)
        try:
            data = json.loads(proc.stdout) if proc.stdout.strip() else {}
        except ValueError:
            raise AssertionError(f"not JSON:\n{proc.stdout}\n{proc.stderr}") from None
        return proc.returncode, data, proc.stderr

    def popen(self, *args: str, stderr_file: Path | None = None) -> subprocess.Popen[str]:
        """Start rota in the background; stderr to a file when the test must watch it live."""
        err = open(stderr_file, "w") if stderr_file is not None else subprocess.PIPE
        try:
            return subprocess.Popen(
                [sys.executable, "-m", "rota.cli", *args],
                env=self.env,
                cwd=self.root,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
            )
        finally:
            if stderr_file is not None:
                err.close()

    def sessions(self) -> list[dict[str, Any]]:
        """Every session record, newest first (read from the real SQLite file in-process)."""
        if not (self.state / "rota.db").exists():
            return []
        with self.store() as store:
            return [r.to_dict() for r in store.recent_sessions(1000)]

    def n(self, arm: str, category: str = "code") -> int:
        """Graded observations behind (category, arm)'s posterior."""
        with self.store() as store:
            ev = store.evidence().get((category, arm))
        return 0 if ev is None else ev.n

    def blocks(self) -> list[dict[str, Any]]:
        with self.store() as store:
            return [
                {
                    "scope": f"{b.scope_kind}:{b.scope}",
                    "until_ts": b.until,
                    "reason": b.reason,
                    "source": b.source,
                    "hits": b.hits,
                }
                for b in store.active_blocks(time.time())
            ]

    def status(self) -> dict[str, Any]:
        return json.loads(self.run("status", "--json", check=True).stdout)

    def posterior(self, arm: str, category: str = "code") -> dict[str, Any]:
        for p in self.status()["posteriors"]:
            if p["arm"] == arm and p["category"] == category:
                return p
        raise AssertionError(f"no posterior for {arm} {category}")

    def wait_for_file(
        self, name: str, proc: subprocess.Popen[str] | None = None, timeout: float = 30
    ) -> Path:
        p = self.fake_dir / name
        wait_until(lambda: p.exists() or (proc is not None and proc.poll() is not None), timeout)
        if not p.exists():
            out, err = proc.communicate() if proc is not None else ("", "")
            raise AssertionError(f"{name} never appeared\n{out}\n{err}")
        return p


def wait_until(cond: Callable[[], bool], timeout: float = 30, step: float = 0.05) -> bool:
    """Poll until cond() is true or the (generous) deadline passes; returns cond()."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return cond()


def live(pid: int) -> bool:
    """A process that exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def kill_quietly(*pids: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def new_run_env(tmp_path: Path) -> RunEnv:
    """For each test module's `run_env` fixture."""
    return RunEnv(tmp_path)


# The grade of the fake `agent`'s "ok" session (one commit of one line in one file; no test
# command, no pull request): finished 1 × 0.10 + commits ½ × 0.25 + size 11/111 × 0.20, over the
# weights of the gains measured (finished, commits, size, pr: 0.70).
AGENT_OK_GAINS = 0.10 + 0.25 * 0.5 + 0.20 * 11 / 111
AGENT_OK_REWARD = AGENT_OK_GAINS / 0.70


def gain(session: dict[str, Any], name: str) -> float | None:
    """The value of one gain of a recorded session's grade (None when it was not measured)."""
    g = session["signals"].get("grade", {}).get("gains", {}).get(name)
    return None if g is None else g["value"]
