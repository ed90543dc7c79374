"""`rota loop`: sessions back to back, sleeping through 76, stopping cleanly on SIGTERM."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

from rota.session.groups import group_members
from run_support import AGENT_CONFIG, RunEnv, kill_quietly, new_run_env, wait_until


@pytest.fixture
def run_env(tmp_path: Path) -> RunEnv:
    return new_run_env(tmp_path)


def test_loop_runs_sessions_back_to_back(run_env: RunEnv) -> None:
    run_env.config_with(AGENT_CONFIG)
    run_env.queue("agent", "ok", "crash", "ok")
    proc = run_env.run("loop", "--gap", "0", "--max-sessions", "3")
    assert proc.returncode == 0, proc.stderr
    statuses = [s["status"] for s in reversed(run_env.sessions())]
    assert statuses == ["completed", "crashed", "completed"]
    assert proc.stdout.count("session ") == 3


def test_loop_sleeps_until_the_earliest_reset_when_everything_is_blocked(run_env: RunEnv) -> None:
    run_env.config_with(AGENT_CONFIG)
    run_env.run("block", "agent:m1", "--until", f"{time.time() + 1.5:.3f}", check=True)
    proc = run_env.run("loop", "--gap", "0", "--max-sessions", "1", "--json")
    assert proc.returncode == 0, proc.stderr
    assert "exhausted or blocked; sleeping" in proc.stderr
    assert len(run_env.sessions()) == 1


def test_loop_waits_while_the_workspace_is_busy(run_env: RunEnv) -> None:
    run_env.config_with(AGENT_CONFIG)
    run_env.queue("agent", "wait")
    holder = run_env.popen("run")
    try:
        run_env.wait_for_file("agent.started", holder)
        log = run_env.root / "loop.err"
        loop = run_env.popen("loop", "--gap", "0.2", "--max-sessions", "1", stderr_file=log)
        # The loop meets the busy workspace, waits, and gets its turn once it is free.
        assert wait_until(lambda: "workspace busy; retrying" in log.read_text())
        (run_env.fake_dir / "release").write_text("go")
        holder.communicate(timeout=60)
        loop.communicate(timeout=60)
        assert loop.returncode == 0, log.read_text()
    finally:
        kill_quietly(holder.pid)
    assert len(run_env.sessions()) == 2


def test_sigterm_stops_the_loop_cleanly_and_interrupts_the_session(run_env: RunEnv) -> None:
    run_env.config_with(AGENT_CONFIG)
    run_env.queue("agent", "hang")
    loop = run_env.popen("loop", "--gap", "0")
    pids: dict[str, int] = {}
    try:
        pids = json.loads(run_env.wait_for_file("agent.pids", loop).read_text())
        loop.send_signal(signal.SIGTERM)
        out, err = loop.communicate(timeout=60)
    finally:
        kill_quietly(loop.pid, *pids.values())
    assert loop.returncode == 0, err
    (s,) = run_env.sessions()
    assert s["status"] == "interrupted"
    assert not group_members(pids["pgid"])
