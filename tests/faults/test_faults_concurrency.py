"""Concurrent `rota run`: many at once on one workspace (exactly one runs, the rest exit 75), and
sessions from many workspaces on one store (every one recorded, posteriors equal to the graded
sessions, the database intact)."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from faultkit import (
    FaultEnv,
    bounded,  # noqa: F401 - the time bound of every test here
    evidence_mismatch,
    figure,
    half_written,
    integrity,
    no_traceback,
    wait_until,
)

pytestmark = [pytest.mark.faults, pytest.mark.usefixtures("bounded")]

SCALE = float(os.environ.get("ROTA_FAULTS_SCALE", "1"))  # < 1 for a quicker local pass


def test_concurrent_runs_on_one_workspace_one_runs_the_rest_exit_75(tmp_path: Path) -> None:
    n = max(10, int(100 * SCALE))
    fenv = FaultEnv(tmp_path)
    fenv.configure()
    fenv.plan("harness", wait="holder", commit=True)
    t0 = time.monotonic()
    procs = [fenv.popen("run") for _ in range(n)]
    try:
        fenv.wait_started("holder")
        # Everyone but the holder gives up at once; only then may the holder finish.
        assert wait_until(lambda: sum(p.poll() is not None for p in procs) >= n - 1, timeout=120)
        fenv.release("holder")
        outs = [p.communicate(timeout=60) for p in procs]
    finally:
        for p in procs:
            p.kill()
    codes = [p.returncode for p in procs]
    ran, busy = codes.count(0), codes.count(75)
    sessions = fenv.sessions()
    lost = n - ran - busy
    figure(
        f"{n} concurrent runs on one workspace: {ran} ran, {busy} exited 75, {lost} lost "
        f"({time.monotonic() - t0:.1f} s)"
    )
    assert all(no_traceback(err) for _, err in outs)
    assert ran == 1 and busy == n - 1, codes
    assert [s["status"] for s in sessions] == ["completed"]
    assert len(fenv.calls("harness")) == 1  # the busy ones started nothing
    busy_err = next(err for (_, err), c in zip(outs, codes, strict=True) if c == 75)
    assert "busy" in busy_err and "pid" in busy_err  # it names the holder


def test_sessions_from_many_workspaces_on_one_store_are_all_recorded(tmp_path: Path) -> None:
    workspaces, per_workspace, parallel = max(4, int(40 * SCALE)), 3, 4
    fenv = FaultEnv(tmp_path)
    fenv.configure(run='test_command = ["scripted", "test"]')
    # A mix of outcomes: graded ones of both kinds, crashes, rate limits (exit 75 is gptme's
    # limit code only; here a plain failure), so that the posteriors see varied grades.
    fenv.plan("harness", commit=True)
    dirs = [fenv.init_workspace(tmp_path / f"ws{i}") for i in range(workspaces)]
    jobs = [d for _ in range(per_workspace) for d in dirs]
    t0 = time.monotonic()

    def one(ws: Path) -> tuple[int, str]:
        p = fenv.run("run", "--workspace", str(ws), timeout=120)
        return p.returncode, p.stderr

    with ThreadPoolExecutor(parallel) as pool:
        results = list(pool.map(one, jobs))
    elapsed = time.monotonic() - t0
    codes = [c for c, _ in results]
    sessions = fenv.sessions()
    mismatch = evidence_mismatch(fenv.db)
    figure(
        f"{len(jobs)} sessions from {workspaces} workspaces on one store ({parallel} at once): "
        f"{len(sessions)} recorded, {codes.count(75)} busy, {len(mismatch)} posteriors off, "
        f"integrity {integrity(fenv.db)} ({elapsed:.1f} s)"
    )
    assert [err[-1500:] for _, err in results if not no_traceback(err)] == []
    # Two runs on one workspace may overlap: the later one exits 75 and is not a session.
    odd = [(c, err[-600:]) for c, err in results if c not in (0, 75)]
    assert odd == []
    assert len(sessions) == codes.count(0)
    assert all(s["status"] == "completed" and s["reward"] is not None for s in sessions)
    assert integrity(fenv.db) == "ok"
    assert half_written(fenv.db) == []
    assert mismatch == []
    workspace_ids = {r[0] for r in fenv.rows("SELECT DISTINCT workspace FROM sessions")}
    assert len(workspace_ids) == workspaces
