"""`rota systemd status`: installed/active, next and last fire, the last session."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from rota.store.sqlite import SQLiteStore
from systemd_fakes import Env, add_session, needs_analyze, run_cli


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    return Env(tmp_path, monkeypatch)


def status(env: Env, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    capsys.readouterr()
    rc = run_cli("systemd", "status", "--config", str(env.config), *extra)
    return rc, capsys.readouterr().out


def status_json(env: Env, capsys: pytest.CaptureFixture[str]) -> dict:
    rc, out = status(env, capsys, "--json")
    assert rc == 0
    return json.loads(out)


def test_not_installed_without_systemd(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = status(env, capsys)
    assert rc == 0
    assert "installed: no" in out
    assert "timer: unknown: systemd is not running here" in out and "rota loop" in out
    assert "OnCalendar=*-*-* *:00,30:00 (from the config)" in out
    assert "next fire:" in out and "computed" in out
    assert "last session: none recorded yet" in out
    assert env.calls() == []


@needs_analyze
def test_installed_shows_the_last_session(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("systemd", "install", "--config", str(env.config)) == 0
    with SQLiteStore(env.db) as store:
        add_session(store, "completed", started_ago_h=5, reward=0.9)
        sid = add_session(store, "crashed", started_ago_h=2, duration_min=30, arm="codex:gpt-5.4")
    rc, out = status(env, capsys)
    assert rc == 0
    assert f"installed: yes (user units in {env.user_units})" in out
    assert f"last session: #{sid} crashed 1 h 30 min ago (codex:gpt-5.4, exit 70)" in out
    data = status_json(env, capsys)
    assert data["last_session"]["id"] == sid and data["last_session"]["status"] == "crashed"
    assert data["next_fire"]["source"] in ("systemd-analyze", "rota")
    assert data["next_fire"]["at"] > time.time()
    assert data["last_fire"]["at"] is None  # only systemd knows


def test_next_and_last_fire_from_systemd(
    env: Env, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_cli("systemd", "install", "--config", str(env.config)) == 0
    env.systemd(True)
    t = int(time.time())
    monkeypatch.setenv(
        "FAKE_SYSTEMCTL_SHOW",
        "\n".join(
            [
                "ActiveState=active",
                "SubState=waiting",
                "UnitFileState=enabled",
                "LoadState=loaded",
                f"NextElapseUSecRealtime=@{t + 600}",
                f"LastTriggerUSec=@{t - 1200}",
            ]
        ),
    )
    data = status_json(env, capsys)
    assert data["timer"] == {
        "active_state": "active",
        "sub_state": "waiting",
        "unit_file_state": "enabled",
    }
    assert data["next_fire"] == {"at": t + 600, "source": "systemd"}
    assert data["last_fire"] == {"at": t - 1200, "source": "systemd"}
    rc, out = status(env, capsys)
    assert "timer: active (waiting), enabled" in out
    assert "next fire: " in out and "[systemd]" in out
    assert "last fire: " in out and "min ago)" in out
    show = [c for c in env.calls() if "show" in c]
    assert show and show[0][:3] == ["--user", "show", "rota.timer"]


def test_changed_config_is_flagged(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("systemd", "install", "--config", str(env.config)) == 0
    env.write_config(on_calendar="hourly")
    rc, out = status(env, capsys)
    assert rc == 0
    assert "(from the installed timer); the config's [schedule] differs" in out


def test_broken_config_still_reports_then_exits_78(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli("systemd", "install", "--config", str(env.config)) == 0
    env.config.write_text("[schedule]\non_calendar = 5\n")
    capsys.readouterr()
    assert run_cli("systemd", "status", "--config", str(env.config)) == 78
    captured = capsys.readouterr()
    assert "installed: yes" in captured.out and "next fire:" in captured.out
    assert "schedule.on_calendar" in captured.err


def test_unreadable_store_is_reported(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    env.db.parent.mkdir(parents=True)
    env.db.write_bytes(b"garbage" * 1000)
    rc, out = status(env, capsys)
    assert rc == 0
    assert "last session: unknown:" in out
