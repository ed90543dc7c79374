"""Stopping a session: SIGTERM/SIGINT to rota -> `interrupted` and the harness's whole process
group gone; a harness that ignores SIGTERM is killed after the grace; a timeout -> `timed_out`."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from rota.session.groups import group_members
from run_support import (
    AGENT_CONFIG,
    RunEnv,
    gain,
    kill_quietly,
    live,
    new_run_env,
    wait_until,
)


@pytest.fixture
def run_env(tmp_path: Path) -> RunEnv:
    return new_run_env(tmp_path)


def _interrupt(run_env: RunEnv, sig: int, mode: str) -> tuple[int, dict, dict]:
    run_env.queue("agent", mode)
    proc = run_env.popen("run", "--json")
    pids: dict[str, int] = {}
    try:
        pids = json.loads(run_env.wait_for_file("agent.pids", proc).read_text())
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        kill_quietly(proc.pid, *pids.values())
    return proc.returncode, json.loads(out), pids


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_interrupts_the_session_and_stops_its_group(
    run_env: RunEnv, sig: int, code: int
) -> None:
    run_env.config_with(AGENT_CONFIG)
    rc, out, pids = _interrupt(run_env, sig, "hang")
    assert rc == code
    s = out["session"]
    assert s["status"] == "interrupted" and s["reward"] is None
    # rota returns only after the group is stopped: leader and grandchild are gone.
    assert wait_until(lambda: not group_members(pids["pgid"]))
    assert not live(pids["pid"]) and not live(pids["child"])
    assert "asked to stop" in Path(s["log_path"]).read_text()
    assert run_env.n("agent:m1") == 0  # not graded, nothing learnt


def test_a_harness_ignoring_sigterm_is_killed_after_the_grace(run_env: RunEnv) -> None:
    run_env.config_with(AGENT_CONFIG, grace=0.5)
    rc, out, pids = _interrupt(run_env, signal.SIGTERM, "stubborn")
    assert rc == 143
    assert out["session"]["status"] == "interrupted"
    assert out["session"]["detail"]["process"]["signal"] == signal.SIGKILL
    assert wait_until(lambda: not group_members(pids["pgid"]))
    assert "SIGKILL" in Path(out["session"]["log_path"]).read_text()


def test_timeout_stops_the_group_and_records_timed_out(run_env: RunEnv) -> None:
    run_env.config_with(AGENT_CONFIG, timeout=0.01)  # 0.6 s
    run_env.queue("agent", "hang")
    code, out, err = run_env.run_json("run")
    pids = json.loads((run_env.fake_dir / "agent.pids").read_text())
    try:
        assert code == 70, err
        s = out["session"]
        assert s["status"] == "timed_out"
        assert s["detail"]["process"]["timed_out"] is True
        assert gain(s, "finished") == 0.0 and s["reward"] is not None  # graded: it ran
        assert wait_until(lambda: not group_members(pids["pgid"]))
        assert "timeout after" in Path(s["log_path"]).read_text()
    finally:
        kill_quietly(*pids.values())
