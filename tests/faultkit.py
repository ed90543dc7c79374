"""Helpers for the fault tests (tests/faults/, tests/test_reliability.py): an isolated rota with a
real git workspace and the `scripted` stand-in on PATH, and the checks every fault test makes
afterwards: the database's integrity, no half-written session, posteriors that equal the graded
sessions, no process left behind, the workspace lock free.

Each fault test reports its figure ("100 concurrent runs: 1 ran, 99 exited 75, 0 lost") with
`figure()`; tests/conftest.py prints them all at the end of the run.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import FIXTURES, RotaEnv

FAULT_FAKES = Path(__file__).resolve().parent / "faults" / "fakes"
FIGURES: list[str] = []  # printed by tests/conftest.py's pytest_terminal_summary

FINAL_STATES = ("completed", "rate_limited", "crashed", "timed_out", "interrupted", "abandoned")
GRADED_STATES = ("completed", "crashed", "timed_out")
DAY = 86400.0

# One scripted harness with two arms; {run} and {extra} are appended where they belong.
SCRIPTED_CONFIG = """
categories = ["code", "infrastructure", "strategic"]
default_category = "code"

[workspace]
path = "{workspace}"

[run]
kill_grace_seconds = {grace}
{run}

[harnesses.agent]
command = ["scripted", "harness", "{{model}}", "{{prompt}}"]
timeout_minutes = {timeout}
[harnesses.agent.models]
m1 = {{ tier = "medium" }}
m2 = {{ tier = "high" }}
{extra}
"""

# The built-in claude-code and codex profiles (their limit detection), run by the stand-in.
PROFILES_CONFIG = """
categories = ["code"]
default_category = "code"

[workspace]
path = "{workspace}"

[run]
kill_grace_seconds = {grace}
{run}

[harnesses.claude-code]
command = ["scripted", "harness", "-p", "{{prompt}}", "--model", "{{model}}"]
[harnesses.claude-code.models]
opus = {{ tier = "high", cost = 5.0 }}

[harnesses.codex]
command = ["scripted", "harness", "exec", "-m", "{{model}}", "{{prompt}}"]
[harnesses.codex.models]
"gpt-5.4" = {{ tier = "medium", cost = 1.0 }}
{extra}
"""


@pytest.fixture
def bounded() -> Iterator[None]:
    """A fault test fails, rather than hangs, past its bound ($ROTA_FAULT_TEST_LIMIT_S, 180 s)."""
    limit = float(os.environ.get("ROTA_FAULT_TEST_LIMIT_S", "180"))

    def over(signum: int, frame: object) -> None:
        raise TimeoutError(f"fault test ran over its bound of {limit:.0f} s")

    old = signal.signal(signal.SIGALRM, over)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def figure(text: str) -> str:
    """Report one measured figure of the fault suite (printed at the end of the pytest run)."""
    FIGURES.append(text)
    print(text)
    return text


class FaultEnv(RotaEnv):
    """RotaEnv + a git workspace with one commit + tests/faults/fakes first on PATH + $FAULT_DIR."""

    def __init__(self, root: Path, *, workspace: Path | None = None) -> None:
        super().__init__(root)
        if workspace is not None:
            self.workspace = workspace
        self.fault_dir = root / "fault"
        self.fault_dir.mkdir(exist_ok=True)
        self.env.update(
            {
                "PATH": f"{FAULT_FAKES}{os.pathsep}{self.env.get('PATH', '')}",
                "FAULT_DIR": str(self.fault_dir),
                "FAKE_FIXTURES": str(FIXTURES),
                "GIT_AUTHOR_NAME": "Fake Agent",
                "GIT_AUTHOR_EMAIL": "agent@example.invalid",
                "GIT_COMMITTER_NAME": "Fake Agent",
                "GIT_COMMITTER_EMAIL": "agent@example.invalid",
                "GIT_CONFIG_NOSYSTEM": "1",
                "ROTA_MACHINE": "faultbox",
            }
        )
        # Many short-lived rota processes: compile rota once, into a cache outside the tree.
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.env["PYTHONPYCACHEPREFIX"] = str(
            Path(tempfile.gettempdir()) / f"rota-test-pycache-{os.getuid()}"
        )
        self.init_workspace(self.workspace)

    # -- set-up ----------------------------------------------------------------------------------
    def init_workspace(self, path: Path) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        if not (path / ".git").exists():
            self.git(path, "init", "-q", "-b", "main")
            (path / "README.md").write_text("a workspace\n")
            self.git(path, "add", "README.md")
            self.git(path, "commit", "-q", "-m", "initial")
        return path

    def git(self, cwd: Path, *args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=cwd, env=self.env, check=True, capture_output=True, text=True
        ).stdout

    def configure(
        self,
        template: str = SCRIPTED_CONFIG,
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

    def plan(self, role: str, **plan: Any) -> None:
        """What `scripted ROLE` does on every call (until changed)."""
        (self.fault_dir / f"{role}.json").write_text(json.dumps(plan))

    def queue(self, role: str, *plans: dict[str, Any]) -> None:
        """What the next calls of `scripted ROLE` do, one plan each, before falling back."""
        with open(self.fault_dir / f"{role}.queue", "a") as fh:
            fh.writelines(json.dumps(p) + "\n" for p in plans)

    # -- running ---------------------------------------------------------------------------------
    def popen(self, *args: str, **kw: Any) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "rota.cli", *args],
            env=self.env,
            cwd=self.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            **kw,
        )

    def wait_started(self, name: str, proc: subprocess.Popen[str] | None = None, timeout=30.0):
        """The JSON a `wait` plan wrote when it reached its wait point."""
        p = self.fault_dir / f"{name}.started"
        wait_until(lambda: p.exists() or (proc is not None and proc.poll() is not None), timeout)
        if not p.exists():
            out, err = proc.communicate(timeout=30) if proc is not None else ("", "")
            raise AssertionError(f"{name} never started\nstdout: {out}\nstderr: {err}")
        return json.loads(p.read_text())

    def release(self, name: str) -> None:
        (self.fault_dir / f"{name}.release").write_text("go")

    def calls(self, role: str | None = None) -> list[dict[str, Any]]:
        p = self.fault_dir / "calls.jsonl"
        if not p.exists():
            return []
        out = [json.loads(x) for x in p.read_text().splitlines() if x.strip()]
        return [c for c in out if role is None or c["role"] == role]

    # -- what is left ----------------------------------------------------------------------------
    @property
    def db(self) -> Path:
        return self.state / "rota.db"

    def rows(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        return db_rows(self.db, sql, params)

    def sessions(self) -> list[dict[str, Any]]:
        cols = ("id", "status", "arm", "arm_ran", "category", "reward", "graded_at", "ended_at")
        rows = self.rows(f"SELECT {', '.join(cols)} FROM sessions ORDER BY id")
        return [dict(zip(cols, r, strict=True)) for r in rows]

    def leftover_processes(self, calls: list[dict[str, Any]] | None = None) -> list[int]:
        """Live processes in the process group of any command rota started."""
        groups = {c["pgid"] for c in (self.calls() if calls is None else calls)}
        return sorted(p for g in groups for p in group_members(g))


# ---------------------------------------------------------------------------------------------
# Checks


def db_rows(db: Path, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return list(conn.execute(sql, tuple(params)).fetchall())
    finally:
        conn.close()


def integrity(db: Path) -> str:
    """SQLite's own verdict on the file: 'ok' or the problems it found."""
    return "; ".join(str(r[0]) for r in db_rows(db, "PRAGMA integrity_check"))


def half_written(db: Path) -> list[str]:
    """Session rows whose fields contradict their status (what a torn write would leave).
    A completed session without a grade is fine: grading was interrupted."""
    bad = []
    cols = "id, status, ended_at, reward, graded_at, exit_code, signals, detail"
    for sid, status, ended, reward, graded_at, _code, signals, detail in db_rows(
        db, f"SELECT {cols} FROM sessions"
    ):
        why = []
        if status not in (*FINAL_STATES, "running"):
            why.append(f"unknown status {status!r}")
        if status in FINAL_STATES and ended is None:
            why.append("final without ended_at")
        if status == "running" and ended is not None:
            why.append("running with ended_at")
        if (reward is None) != (graded_at is None):
            why.append("reward and graded_at disagree")
        if reward is not None and status not in GRADED_STATES:
            why.append(f"graded yet {status}")
        for name, text in (("signals", signals), ("detail", detail)):
            try:
                json.loads(text)
            except (TypeError, ValueError):
                why.append(f"{name} is not JSON")
        if why:
            bad.append(f"session {sid}: {', '.join(why)}")
    return bad


def evidence_mismatch(db: Path, half_life_s: float = 14 * DAY) -> list[str]:
    """Evidence rows that differ from the graded sessions folded in again (n exactly; s and f
    brought to a common time). Empty when every posterior equals its graded sessions."""
    from rota.learning import bandit

    replay: dict[tuple[str, str], bandit.Evidence] = {}
    obs = db_rows(
        db,
        "SELECT category, COALESCE(arm_ran, arm), reward, graded_at FROM sessions "
        "WHERE reward IS NOT NULL ORDER BY graded_at, id",
    )
    for cat, arm, reward, at in obs:
        for key in ((cat, arm), (bandit.OVERALL, arm)):
            replay[key] = bandit.update(
                replay.get(key, bandit.Evidence(t=at)), reward, at, half_life_s
            )
    stored = {
        (r[0], r[1]): bandit.Evidence(s=r[2], f=r[3], t=r[4], n=r[5], sum_r=r[6], sum_r2=r[7])
        for r in db_rows(db, "SELECT category, arm, s, f, t, n, sum_r, sum_r2 FROM evidence")
    }
    bad = []
    for key in sorted(set(replay) | set(stored)):
        a, b = replay.get(key), stored.get(key)
        if a is None or b is None:
            if (a or b).n:  # type: ignore[union-attr]
                bad.append(f"{key}: only {'stored' if a is None else 'replayed'}")
            continue
        if a.n != b.n:
            bad.append(f"{key}: n {b.n} stored, {a.n} graded")
            continue
        t = max(a.t, b.t)
        for name, x, y in zip(
            ("s", "f"), a.decayed(t, half_life_s), b.decayed(t, half_life_s), strict=True
        ):
            if not math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-9):
                bad.append(f"{key}: {name} {y} stored, {x} graded")
    return bad


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes in a process group."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                rest = fh.read().decode("ascii", "replace").rpartition(")")[2].split()
        except OSError:
            continue
        if len(rest) > 2 and rest[0] not in ("Z", "X") and int(rest[2]) == pgid:
            out.append(int(name))
    return out


def live(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().decode("ascii", "replace").rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def threads_of(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return 0


def kill_groups(pgids: Iterable[int]) -> None:
    """Clean-up after a test: SIGKILL whatever is left in these process groups."""
    for g in set(pgids):
        try:
            os.killpg(g, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def wait_until(cond: Callable[[], bool], timeout: float = 30, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return cond()


def no_traceback(text: str) -> bool:
    return "Traceback (most recent call last)" not in text


def faketime_env(offset: str) -> dict[str, str]:
    """Variables that run a process (and its children) with the system clock moved by `offset`
    ("+365d", "-100d", "+4h"): libfaketime intercepts the C library's clock calls, so Python,
    SQLite and git all see the same wrong clock. Monotonic clocks are left alone."""
    try:
        import libfaketime
    except ImportError:
        pytest.skip("needs libfaketime: pip install -e '.[test]'")
    lib = Path(libfaketime.__file__).parent / "vendor" / "libfaketime" / "src" / "libfaketime.so.1"
    if not lib.exists():
        pytest.skip(f"libfaketime has no {lib.name} for this platform")
    return {
        "LD_PRELOAD": str(lib),
        "FAKETIME": offset,
        "DONT_FAKE_MONOTONIC": "1",
        "FAKETIME_NO_CACHE": "1",
    }
