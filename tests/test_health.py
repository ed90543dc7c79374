"""Health evaluation: pure checks over plain data, and `rota health` against real SQLite stores."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from rota import health
from rota.health import (
    CHECK_BLOCKED,
    CHECK_CRASHES,
    CHECK_STORE,
    CHECK_SUCCESS,
    CHECK_TIMER,
    HealthInput,
    HealthThresholds,
    SessionFacts,
    TimerFacts,
)
from rota.quota.state import ArmScopes, Block
from rota.store.sqlite import SQLiteStore
from systemd_fakes import Env, add_session, run_cli

NOW = 1_800_000_000.0
H = 3600.0
ARMS = (
    ArmScopes("claude-code:opus", "claude-code", ("anthropic",)),
    ArmScopes("claude-code:sonnet", "claude-code", ("anthropic",)),
    ArmScopes("codex:gpt-5.4", "codex", ("chatgpt",)),
)
ACTIVE_TIMER = TimerFacts(systemd=True, installed=True, active_state="active")


def s(i: int, status: str, ago_h: float) -> SessionFacts:
    return SessionFacts(
        id=i, status=status, started_at=NOW - ago_h * H, ended_at=NOW - ago_h * H + 600
    )


def status_of(inp: HealthInput, **kw: object) -> dict[str, str]:
    report = health.evaluate(inp, HealthThresholds(**kw))  # type: ignore[arg-type]
    return {c.name: c.status for c in report.checks}


def healthy_input(**kw: object) -> HealthInput:
    base = dict(
        now=NOW,
        recent=[s(3, "completed", 1), s(2, "crashed", 2), s(1, "completed", 3)],
        total_sessions=3,
        arms=ARMS,
        blocks=[],
        timer=ACTIVE_TIMER,
    )
    base.update(kw)
    return HealthInput(**base)  # type: ignore[arg-type]


# -- pure evaluation ------------------------------------------------------------------------------


def test_healthy() -> None:
    report = health.evaluate(healthy_input(), HealthThresholds())
    assert report.healthy
    assert {c.status for c in report.checks} == {"ok"}
    assert report.to_dict()["problems"] == []


def test_no_success_within_the_window() -> None:
    inp = healthy_input(recent=[s(5, "crashed", 1), s(4, "rate_limited", 2)],
                        last_success=s(1, "completed", 30))  # fmt: skip
    report = health.evaluate(inp, HealthThresholds(max_hours_without_success=24))
    assert [p.name for p in report.problems] == [CHECK_SUCCESS]
    assert "no successful session in 24.0 h" in report.problems[0].detail
    assert status_of(inp, max_hours_without_success=48)[CHECK_SUCCESS] == "ok"


def test_never_succeeded_is_judged_by_history_length() -> None:
    young = healthy_input(recent=[s(2, "crashed", 1), s(1, "rate_limited", 5)], total_sessions=2)
    assert status_of(young)[CHECK_SUCCESS] == "ok"  # only 5 h of history
    old = healthy_input(recent=[s(2, "crashed", 1), s(1, "rate_limited", 30)], total_sessions=2)
    assert status_of(old)[CHECK_SUCCESS] == "problem"
    # More history than was fetched: it goes back further than the window.
    truncated = healthy_input(recent=[s(9, "crashed", 1)], total_sessions=500)
    assert status_of(truncated)[CHECK_SUCCESS] == "problem"
    assert status_of(healthy_input(recent=[], total_sessions=0))[CHECK_SUCCESS] == "unknown"


def test_crash_streak() -> None:
    streak = [s(3, "crashed", 1), s(2, "timed_out", 2), s(1, "crashed", 3), s(0, "completed", 4)]
    report = health.evaluate(healthy_input(recent=streak), HealthThresholds(crash_streak=3))
    assert [p.name for p in report.problems] == [CHECK_CRASHES]
    assert "#3 crashed" in report.problems[0].detail
    assert status_of(healthy_input(recent=streak), crash_streak=4)[CHECK_CRASHES] == "ok"
    # A session still running neither breaks nor extends the streak.
    with_running = [s(4, "running", 0.1), *streak]
    assert status_of(healthy_input(recent=with_running))[CHECK_CRASHES] == "problem"
    # Fewer finished sessions than the streak length: nothing to judge yet.
    assert status_of(healthy_input(recent=streak[:2]))[CHECK_CRASHES] == "ok"


def test_every_arm_blocked_for_longer_than_the_threshold() -> None:
    blocks = [
        Block("pool", "anthropic", NOW + 2 * H, "limit", "rate_limit", created_at=NOW - 8 * H),
        Block("harness", "codex", NOW + 1 * H, "limit", "rate_limit", created_at=NOW - 7 * H),
    ]
    report = health.evaluate(healthy_input(blocks=blocks), HealthThresholds(blocked_all_hours=6))
    assert [p.name for p in report.problems] == [CHECK_BLOCKED]
    # All blocked since the *later* of the two (7 h): under an 8 h threshold it is fine.
    assert status_of(healthy_input(blocks=blocks), blocked_all_hours=8)[CHECK_BLOCKED] == "ok"
    # One arm free: fine however long the others have been out.
    partial = [b for b in blocks if b.scope != "codex"]
    assert status_of(healthy_input(blocks=partial))[CHECK_BLOCKED] == "ok"
    # Expired blocks do not count.
    expired = [Block("harness", "codex", NOW - 1, created_at=NOW - 9 * H), blocks[0]]
    assert status_of(healthy_input(blocks=expired))[CHECK_BLOCKED] == "ok"
    assert status_of(healthy_input(arms=()))[CHECK_BLOCKED] == "unknown"


def test_store_unreadable_makes_the_rest_unknown() -> None:
    report = health.evaluate(HealthInput(now=NOW, store_error="disk I/O error", timer=ACTIVE_TIMER),
                             HealthThresholds())  # fmt: skip
    st = {c.name: c.status for c in report.checks}
    assert st[CHECK_STORE] == "problem"
    assert st[CHECK_SUCCESS] == st[CHECK_CRASHES] == st[CHECK_BLOCKED] == "unknown"
    assert not report.healthy


def test_timer_states() -> None:
    inactive = TimerFacts(systemd=True, installed=True, active_state="inactive")
    report = health.evaluate(healthy_input(timer=inactive), HealthThresholds())
    assert [p.name for p in report.problems] == [CHECK_TIMER]
    assert "systemctl --user enable --now rota.timer" in report.problems[0].detail
    no_systemd = TimerFacts(systemd=False, installed=True, detail="PID 1 is not systemd")
    assert status_of(healthy_input(timer=no_systemd))[CHECK_TIMER] == "unknown"
    assert status_of(healthy_input(timer=no_systemd), require_timer=True)[CHECK_TIMER] == "problem"
    absent = TimerFacts(systemd=True, installed=False)
    assert status_of(healthy_input(timer=absent))[CHECK_TIMER] == "unknown"
    assert status_of(healthy_input(timer=None))[CHECK_TIMER] == "unknown"


# -- `rota health` against real stores ----------------------------------------------------------


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    return Env(tmp_path, monkeypatch)


def health_json(env: Env, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict]:
    capsys.readouterr()
    rc = run_cli("health", "--json", "--config", str(env.config), *extra)
    return rc, json.loads(capsys.readouterr().out)


def problems(data: dict) -> list[str]:
    return [p["check"] for p in data["problems"]]


def test_cli_healthy_store(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    with SQLiteStore(env.db) as store:
        add_session(store, "completed", started_ago_h=1, reward=0.8)
    rc, data = health_json(env, capsys)
    assert rc == 0 and data["healthy"] is True, data
    timer = next(c for c in data["checks"] if c["check"] == CHECK_TIMER)
    assert timer["status"] == "unknown"  # not installed, no systemd: not a problem


def test_cli_fresh_store_is_healthy(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    rc, data = health_json(env, capsys)
    assert rc == 0, data


def test_cli_no_success_for_too_long(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    with SQLiteStore(env.db) as store:
        add_session(store, "completed", started_ago_h=30, reward=0.7)
        add_session(store, "rate_limited", started_ago_h=10)
        add_session(store, "interrupted", started_ago_h=2)
    rc, data = health_json(env, capsys)
    assert rc == 1 and problems(data) == [CHECK_SUCCESS]


def test_cli_crash_streak(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    with SQLiteStore(env.db) as store:
        add_session(store, "completed", started_ago_h=5, reward=0.9)
        for ago in (3, 2, 1):
            add_session(store, "crashed", started_ago_h=ago)
    rc, data = health_json(env, capsys)
    assert rc == 1 and problems(data) == [CHECK_CRASHES]


def test_cli_every_arm_blocked(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    t = time.time()
    with SQLiteStore(env.db) as store:
        add_session(store, "completed", started_ago_h=1, reward=0.9)
        store.add_block(Block("harness", "claude-code", t + 3 * H, "weekly limit", "rate_limit",
                              created_at=t - 7 * H))  # fmt: skip
        store.add_block(Block("arm", "codex:gpt-5.4", t + 1 * H, "usage limit", "rate_limit",
                              created_at=t - 6.5 * H))  # fmt: skip
    rc, data = health_json(env, capsys)
    assert rc == 1 and problems(data) == [CHECK_BLOCKED]
    # Text mode names the problem too.
    assert run_cli("health", "--config", str(env.config)) == 1
    out = capsys.readouterr().out
    assert "unhealthy: 1 problem" in out and "arms_available: every arm (3)" in out


def test_cli_store_unreadable(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    env.db.parent.mkdir(parents=True)
    env.db.write_bytes(b"this is not an SQLite database" * 100)
    rc, data = health_json(env, capsys)
    assert rc == 1 and problems(data) == [CHECK_STORE]


def test_cli_timer_inactive(
    env: Env, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with SQLiteStore(env.db) as store:
        add_session(store, "completed", started_ago_h=1, reward=0.8)
    assert run_cli("systemd", "install", "--no-enable", "--config", str(env.config)) == 0
    env.systemd(True)
    monkeypatch.setenv("FAKE_SYSTEMCTL_ACTIVE", "inactive")
    rc, data = health_json(env, capsys)
    assert rc == 1 and problems(data) == [CHECK_TIMER]
    monkeypatch.setenv("FAKE_SYSTEMCTL_ACTIVE", "active")
    rc, data = health_json(env, capsys)
    assert rc == 0, data


def test_cli_require_timer(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    rc, data = health_json(env, capsys, "--require-timer")
    assert rc == 1 and problems(data) == [CHECK_TIMER]


def test_cli_bad_config_exits_78(env: Env, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[health]\nmax_hours = 3\n")
    assert run_cli("health", "--config", str(bad)) == 78
