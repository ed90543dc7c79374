"""The workspace lock: exactly one run at a time, exit 75 naming the holder, and recovery after a
SIGKILLed rota (the kernel drops the lock; the next run marks the session abandoned)."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from rota.store.base import Store
from run_support import AGENT_CONFIG, RunEnv, kill_quietly, live, new_run_env, wait_until


@pytest.fixture
def run_env(tmp_path: Path) -> RunEnv:
    return new_run_env(tmp_path)


def test_two_concurrent_runs_exactly_one_runs(run_env: RunEnv) -> None:
    run_env.config_with(AGENT_CONFIG)
    run_env.env["FAKE_MODE"] = "wait"  # the session waits for $FAKE_DIR/release
    a, b = run_env.popen("run"), run_env.popen("run")
    try:
        assert wait_until(lambda: a.poll() is not None or b.poll() is not None)
        loser, winner = (a, b) if a.poll() is not None else (b, a)
        out, err = loser.communicate()
        assert loser.returncode == 75, err
        assert "is busy" in err and "pid" in err
        (run_env.fake_dir / "release").write_text("go")
        out, err = winner.communicate(timeout=60)
        assert winner.returncode == 0, err
    finally:
        kill_quietly(a.pid, b.pid)
    assert len(run_env.sessions()) == 1
    assert len(run_env.calls()) == 1


def test_busy_names_the_holder_pid_arm_and_start(run_env: RunEnv) -> None:
    run_env.config_with(AGENT_CONFIG)
    run_env.env["FAKE_MODE"] = "wait"
    first = run_env.popen("run")
    try:
        run_env.wait_for_file("agent.started", first)
        code, out, err = run_env.run_json("run")
        assert code == 75
        holder = out["holder"]
        assert holder["pid"] == first.pid and holder["arm"] == "agent:m1"
        assert holder["session_id"] == 1 and holder["started_at"] > 0
        proc = run_env.run("run")
        assert proc.returncode == 75
        assert f"pid {first.pid}" in proc.stderr and "session 1 (agent:m1)" in proc.stderr
        assert "started" in proc.stderr
        (run_env.fake_dir / "release").write_text("go")
        first.communicate(timeout=60)
        assert first.returncode == 0
    finally:
        kill_quietly(first.pid)
    # Released: the next run takes the lock.
    run_env.env["FAKE_MODE"] = "ok"
    assert run_env.run("run").returncode == 0


def test_sigkill_of_rota_mid_session_next_run_recovers(run_env: RunEnv) -> None:
    run_env.config_with(AGENT_CONFIG)
    run_env.queue("agent", "hang", "ok")
    first = run_env.popen("run")
    pids: dict[str, int] = {}
    try:
        pids.update(json.loads(run_env.wait_for_file("agent.pids", first).read_text()))
        os.kill(first.pid, signal.SIGKILL)
        first.communicate(timeout=30)
        assert first.returncode == -signal.SIGKILL
        # No lock survives the kill, the crashed session is abandoned, and the run proceeds.
        code, out, err = run_env.run_json("run")
        assert code == 0, err
        assert out["recovered"] == [1]
        assert "abandoned session=1" in err
        # The harness group died with rota (rota.reaper), before the next run had to stop it.
        assert wait_until(lambda: not live(pids["pid"]) and not live(pids["child"]))
    finally:
        kill_quietly(first.pid, *pids.values())
    sessions = {s["id"]: s for s in run_env.sessions()}
    assert sessions[1]["status"] == "abandoned" and sessions[1]["reward"] is None
    assert "is gone" in sessions[1]["detail"]["abandoned_reason"]
    assert sessions[2]["status"] == "completed"
    assert run_env.n("agent:m1") == 1  # the abandoned session taught nothing


def _running(store: Store, *, started_at: float, pid: int, machine: str = "testbox") -> int:
    """A `running` record of agent:m1, as a run on `machine` leaves it, in another workspace."""
    return store.start_session(
        category="code",
        arm="agent:m1",
        started_at=started_at,
        decision_id=None,
        pid=pid,
        machine=machine,
        workspace=f"{machine}:/elsewhere",
    )


def test_a_running_record_of_a_live_process_is_left_alone(run_env: RunEnv) -> None:
    """A session that is really running in another workspace on this machine is not abandoned."""
    run_env.config_with(AGENT_CONFIG)
    with run_env.store() as store:
        # "started in the future": its pid (this test process, alive) cannot have been reused
        sid = _running(store, started_at=1.0e12, pid=os.getpid())
        # alive, but started long after this record: a reused pid
        dead = _running(store, started_at=1.0, pid=os.getpid())
        other = _running(store, started_at=1.0, pid=1, machine="another-box")
    code, out, err = run_env.run_json("run")
    assert code == 0, err
    assert out["recovered"] == [dead]
    status = {s["id"]: s["status"] for s in run_env.sessions()}
    assert status[sid] == "running" and status[other] == "running" and status[dead] == "abandoned"


def test_an_unknown_category_is_refused_before_the_lock_and_before_recovery(
    run_env: RunEnv,
) -> None:
    """--category is checked at the command line: a typo takes no lock (it is not reported as
    busy while another session holds the workspace), recovers nothing and records nothing."""
    run_env.config_with(AGENT_CONFIG)
    with run_env.store() as store:
        dead = _running(store, started_at=1.0, pid=os.getpid())  # a reused pid: dead
    for command in ("run", "loop"):
        proc = run_env.run(command, "--category", "nope")
        assert proc.returncode == 2, proc.stderr
        assert "unknown category 'nope'" in proc.stderr and "--category" in proc.stderr
        assert (
            "code, infrastructure, strategic" in proc.stderr and str(run_env.config) in proc.stderr
        )
    assert not (run_env.state / "locks").exists()  # no lock was ever taken
    assert [(s["id"], s["status"]) for s in run_env.sessions()] == [(dead, "running")]
    # With the workspace held by a running session, the typo is still the answer, not "busy".
    run_env.env["FAKE_MODE"] = "wait"
    first = run_env.popen("run")
    try:
        run_env.wait_for_file("agent.started", first)
        proc = run_env.run("run", "--category", "nope")
        assert proc.returncode == 2 and "unknown category" in proc.stderr, proc.stderr
        (run_env.fake_dir / "release").write_text("go")
        first.communicate(timeout=60)
        assert first.returncode == 0
    finally:
        kill_quietly(first.pid)
