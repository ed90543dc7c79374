"""Notifications and the metrics file through real `rota run`, `rota loop` and `rota health`
processes: each event fires exactly once per occurrence (a local ping server on 127.0.0.1 and a
recording command), and a dead notifier costs a session at most its timeout."""

from __future__ import annotations

import json
import socket
import sys
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from run_support import RunEnv, new_run_env
from test_notify import RECORDER, Hub

PIN_OPUS = '[rules.code]\npin = ["claude-code:opus"]\n'


@pytest.fixture
def run_env(tmp_path: Path) -> RunEnv:
    return new_run_env(tmp_path)


@pytest.fixture
def hub():
    h = Hub()
    yield h
    h.close()


def notify_config(
    env: RunEnv, hub_url: str, timeout: float = 10.0, command: list[str] | None = None
) -> str:
    recorder = env.root / "recorder.py"
    recorder.write_text(RECORDER)
    argv = command or [sys.executable, str(recorder), str(env.root / "events.jsonl")]
    return (
        "[notify]\n"
        f"command = {json.dumps(argv)}\n"
        f'ping_url = "{hub_url}"\n'
        f"timeout_seconds = {timeout}\n"
        "[metrics]\n"
        f'textfile = "{env.root / "metrics" / "rota.prom"}"\n'
    )


def events(env: RunEnv) -> list[str]:
    p = env.root / "events.jsonl"
    if not p.exists():
        return []
    return [json.loads(line)["event"] for line in p.read_text().splitlines()]


def alerts(env: RunEnv) -> list[str]:
    """The events other than a session's start and end."""
    return [e for e in events(env) if e not in ("session_started", "session_ended")]


def test_each_event_fires_once_per_occurrence(run_env: RunEnv, hub) -> None:
    run_env.config_with(extra=PIN_OPUS + notify_config(run_env, hub.url))
    # Two good sessions: started and ended each time, pinged /start and success.
    run_env.queue("claude", "ok", "ok")
    assert run_env.run("run").returncode == 0
    assert run_env.run("run").returncode == 0
    assert events(run_env) == ["session_started", "session_ended"] * 2
    assert hub.paths() == ["/ping/abc-123/start", "/ping/abc-123"] * 2
    # The metrics file is rewritten after each run.
    prom = (run_env.root / "metrics" / "rota.prom").read_text()
    fams = {f.name: f for f in text_string_to_metric_families(prom)}
    assert sum(s.value for s in fams["rota_sessions"].samples) == 2

    # A weekly limit on the pinned arm: one alert for the block, however many runs follow.
    run_env.queue("claude", "limit")
    assert run_env.run("run").returncode == 0
    assert alerts(run_env) == ["limit_blocked"]
    for _ in range(3):  # the timer keeps firing: every arm is out, exit 76
        assert run_env.run("run").returncode == 76
    assert alerts(run_env) == ["limit_blocked", "all_exhausted"]  # once, not three times

    # The block lifted by hand; a session runs again: exhaustion is over.
    run_env.run("unblock", "claude-code:opus", check=True)
    run_env.queue("claude", "crash", "crash", "crash")
    for _ in range(3):
        assert run_env.run("run").returncode == 70
    assert alerts(run_env) == ["limit_blocked", "all_exhausted", "crash_streak"]
    assert hub.paths()[-1] == "/ping/abc-123/fail"
    # rota health sees the streak: unhealthy once, however often it is asked.
    for _ in range(2):
        assert run_env.run("health").returncode == 1
    assert alerts(run_env)[-1] == "unhealthy" and alerts(run_env).count("unhealthy") == 1
    assert run_env.run("run").returncode == 76  # the crash loop blocked the arm: a new occurrence
    assert alerts(run_env).count("all_exhausted") == 2

    # The arm runs well again: the streak is over, and health says so, once.
    run_env.run("unblock", "claude-code:opus", check=True)
    run_env.queue("claude", "ok")
    assert run_env.run("run").returncode == 0
    for _ in range(2):
        assert run_env.run("health").returncode == 0
    assert alerts(run_env).count("healthy") == 1 and alerts(run_env)[-1] == "healthy"

    # Authentication: once until the harness runs well again. A rejected key holds the harness
    # (an `unavailable` session: rota.session.infra) until `rota unblock` or a config change.
    run_env.queue("claude", "auth", "auth", "ok", "auth")
    assert run_env.run("run").returncode == 70
    assert run_env.run("run").returncode == 76  # held
    run_env.run("unblock", "claude-code", check=True)
    assert run_env.run("run").returncode == 70  # still rejected
    assert alerts(run_env).count("auth_failed") == 1
    run_env.run("unblock", "claude-code", check=True)
    assert run_env.run("run").returncode == 0  # logged in again
    assert run_env.run("run").returncode == 70  # and out again: a new occurrence
    assert alerts(run_env).count("auth_failed") == 2
    assert alerts(run_env).count("crash_streak") == 1  # two crashes in a row are not a streak
    got = [json.loads(line) for line in (run_env.root / "events.jsonl").read_text().splitlines()]
    auth = [e for e in got if e["event"] == "auth_failed"][0]
    assert auth["harness"] == "claude-code" and "Invalid API key" in auth["reason"]


def test_a_dead_notifier_costs_a_session_at_most_its_timeout(run_env: RunEnv) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts, never answers
    try:
        hang = [sys.executable, "-c", "import time; time.sleep(120)"]
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/ping/x"
        run_env.config_with(extra=notify_config(run_env, url, timeout=1.0, command=hang))
        start = time.monotonic()
        code, out, err = run_env.run_json("run", timeout=100)
        took = time.monotonic() - start
        assert code == 0, err
        assert out["session"]["status"] == "completed"
        # Two events (start, end), each bounded by the 1 s timeout: nowhere near the 120 s hang.
        assert took < 30, took
        assert err.count('target=command result="timed out (killed)"') == 2, err
    finally:
        silent.close()


def test_loop_notifies_each_session_and_keeps_the_metrics_current(run_env: RunEnv, hub) -> None:
    run_env.config_with(extra=PIN_OPUS + notify_config(run_env, hub.url))
    run_env.queue("claude", "ok", "ok", "ok")
    proc = run_env.run("loop", "--gap", "0", "--max-sessions", "3", timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert events(run_env) == ["session_started", "session_ended"] * 3
    assert hub.paths() == ["/ping/abc-123/start", "/ping/abc-123"] * 3
    prom = (run_env.root / "metrics" / "rota.prom").read_text()
    fams = {f.name: f for f in text_string_to_metric_families(prom)}
    assert sum(s.value for s in fams["rota_sessions"].samples) == 3
    assert oct((run_env.root / "metrics" / "rota.prom").stat().st_mode & 0o777) == "0o644"


def test_without_notify_nothing_is_sent_or_kept(run_env: RunEnv) -> None:
    run_env.config_with()
    run_env.queue("claude", "ok")
    assert run_env.run("run").returncode == 0
    assert run_env.run("health").returncode == 0
    assert not (run_env.state / "notify-state.json").exists()
    assert "rota: notify" not in run_env.run("run").stderr
