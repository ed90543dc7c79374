"""`kill -9` of rota at random points of its run, over and over, then checks: the database's own
integrity check, no half-written session, posteriors equal to the graded sessions, no session
left `running` once the next run has looked, the workspace lock free, and nothing rota started
still running."""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from faultkit import (
    FaultEnv,
    bounded,  # noqa: F401 - the time bound of every test here
    evidence_mismatch,
    figure,
    half_written,
    integrity,
    kill_groups,
    no_traceback,
    wait_until,
)

pytestmark = [pytest.mark.faults, pytest.mark.usefixtures("bounded")]

SCALE = float(os.environ.get("ROTA_FAULTS_SCALE", "1"))
SEED = int(os.environ.get("ROTA_FAULTS_SEED", "15"))


def _describe(pid: int, calls: list[dict[str, Any]]) -> str:
    """What a leftover process is, for the failure message."""
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        cmd = "?"
    role = next((c["role"] for c in calls if c["pid"] == pid or c["pgid"] == pid), "?")
    return f"{cmd.strip()} (group of {role}; {len(calls)} commands that run)"


@pytest.fixture(scope="module")
def kill_loop(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Runs rota `n` times, SIGKILLing it at a random moment in about half of them."""
    rng = random.Random(SEED)
    n = max(10, int(80 * SCALE))
    fenv = FaultEnv(tmp_path_factory.mktemp("kill9"))
    fenv.configure(
        run='test_command = ["scripted", "test"]\ngrader_command = ["scripted", "grader"]\n',
        grace=1,
    )
    # The harness takes a moment and leaves a grandchild; test and grader take a moment too, so
    # that a random kill lands in every step: start-up, lock, decision, harness, grading, record.
    fenv.plan("harness", sleep=0.1, children=1, commit=True)
    fenv.plan("test")
    fenv.plan("grader", stdout="0.8\n")
    killed = busy = clean = 0
    errors: list[str] = []
    leftovers_after_kill: list[int] = []
    t = time.monotonic()
    fenv.run("run", check=True)  # how long a whole run takes here: kills land all along it
    span = time.monotonic() - t
    t0 = time.monotonic()
    for _ in range(n):
        calls_before = len(fenv.calls())
        proc = fenv.popen("run")
        if rng.random() < 0.5:
            time.sleep(rng.uniform(0.0, span))
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                killed += 1
        _, err = proc.communicate(timeout=120)
        if proc.returncode == 75:
            busy += 1
        elif proc.returncode == 0:
            clean += 1
        if proc.returncode not in (0, 75, -signal.SIGKILL) or not no_traceback(err):
            errors.append(f"exit {proc.returncode}: {err[-400:]}")
        if proc.returncode == -signal.SIGKILL:
            new = fenv.calls()[calls_before:]
            # What rota started must go with it (give it the kill grace and a little more).
            wait_until(lambda new=new: not fenv.leftover_processes(new), timeout=10)
            for pid in fenv.leftover_processes(new):
                leftovers_after_kill.append(f"{pid} {_describe(pid, new)}")
    final = fenv.run("run")  # the next run recovers what the kills left
    elapsed = time.monotonic() - t0
    result = {
        "fenv": fenv,
        "n": n,
        "killed": killed,
        "busy": busy,
        "clean": clean,
        "errors": errors,
        "leftovers": leftovers_after_kill,
        "final": final,
        "elapsed": elapsed,
    }
    yield result
    kill_groups(c["pgid"] for c in fenv.calls())


def test_kill_9_loop_leaves_the_store_consistent(kill_loop: dict[str, Any]) -> None:
    fenv: FaultEnv = kill_loop["fenv"]
    sessions = fenv.sessions()
    statuses = [s["status"] for s in sessions]
    mismatch = evidence_mismatch(fenv.db)
    torn = half_written(fenv.db)
    figure(
        f"{kill_loop['n']} runs with {kill_loop['killed']} kill -9 at random points: "
        f"integrity {integrity(fenv.db)}, {len(torn)} half-written sessions, "
        f"{statuses.count('completed')} completed, {statuses.count('abandoned')} abandoned, "
        f"{statuses.count('running')} left running, {len(mismatch)} posteriors off, "
        f"{kill_loop['busy']} busy ({kill_loop['elapsed']:.1f} s, seed {SEED})"
    )
    assert kill_loop["final"].returncode == 0, kill_loop["final"].stderr
    assert kill_loop["errors"] == []
    assert integrity(fenv.db) == "ok"
    assert torn == []
    assert "running" not in statuses  # the final run recovered every one
    assert mismatch == []
    assert kill_loop["busy"] == 0, "a killed holder kept the lock"


def test_kill_9_loop_leaves_no_process_behind(kill_loop: dict[str, Any]) -> None:
    left = kill_loop["leftovers"]
    figure(f"{kill_loop['killed']} kill -9 of rota: {len(left)} processes it started outlived it")
    assert left == []
