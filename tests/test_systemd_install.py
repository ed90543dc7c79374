"""`rota systemd install | uninstall`: files written, idempotence, systemctl calls, no-systemd."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from rota.systemd import units
from systemd_fakes import Env, needs_analyze, run_cli

ANALYZE = shutil.which("systemd-analyze")


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    return Env(tmp_path, monkeypatch)


def test_install_without_systemd_writes_two_units_and_suggests_loop(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli("systemd", "install", "--config", str(env.config)) == 0
    out = capsys.readouterr().out
    assert sorted(p.name for p in env.user_units.iterdir()) == ["rota.service", "rota.timer"]
    for p in env.user_units.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
        assert units.is_generated(p)
    assert "systemd is not running here" in out and "rota loop" in out
    assert env.calls() == []  # systemctl never called without a manager
    svc = (env.user_units / "rota.service").read_text()
    exec_start = units.read_unit_setting(svc, "ExecStart") or ""
    rota_path = exec_start.split()[0]
    assert os.path.isabs(rota_path) and os.access(rota_path, os.X_OK)
    assert exec_start.endswith(f"run --config {env.config.resolve()}")
    assert int(units.read_unit_setting(svc, "TimeoutStartSec") or 0) > 90 * 60
    assert units.read_unit_setting(svc, "RestartSec") == "300"  # retry_interval_minutes = 5
    assert "next fire:" in out


@pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze missing (Debian package: systemd)")
def test_installed_units_pass_verify(env: Env) -> None:
    assert run_cli("systemd", "install", "--config", str(env.config)) == 0
    proc = subprocess.run(
        [
            str(ANALYZE),
            "verify",
            str(env.user_units / "rota.timer"),
            str(env.user_units / "rota.service"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0 and proc.stderr.strip() == "", proc.stderr


def test_install_with_systemd_reloads_enables_and_is_idempotent(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    env.systemd(True)
    assert run_cli("systemd", "install", "--config", str(env.config)) == 0
    assert env.calls() == [
        ["--user", "daemon-reload"],
        ["--user", "enable", "rota.timer"],
        ["--user", "restart", "rota.timer"],
    ]
    before = {p.name: (p.read_text(), p.stat().st_mtime_ns) for p in env.user_units.iterdir()}
    env.clear_calls()
    capsys.readouterr()

    assert run_cli("systemd", "install", "--config", str(env.config)) == 0
    out = capsys.readouterr().out
    assert "rota.timer: unchanged" in out and "rota.service: unchanged" in out
    after = {p.name: (p.read_text(), p.stat().st_mtime_ns) for p in env.user_units.iterdir()}
    assert after == before
    # Nothing changed: no reload; enabling and starting an active timer are no-ops.
    assert env.calls() == [["--user", "enable", "rota.timer"], ["--user", "start", "rota.timer"]]


def test_changed_schedule_rewrites_units_and_reloads(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    env.systemd(True)
    assert run_cli("systemd", "install", "--config", str(env.config)) == 0
    env.clear_calls()
    env.write_config(on_calendar="*-*-* *:15,45:00")
    assert run_cli("systemd", "install", "--config", str(env.config)) == 0
    assert "rota.timer: updated" in capsys.readouterr().out
    assert "OnCalendar=*-*-* *:15,45:00" in (env.user_units / "rota.timer").read_text()
    assert ["--user", "daemon-reload"] in env.calls()
    assert ["--user", "restart", "rota.timer"] in env.calls()


def test_no_enable_writes_only(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    env.systemd(True)
    assert run_cli("systemd", "install", "--no-enable", "--config", str(env.config)) == 0
    assert env.calls() == [["--user", "daemon-reload"]]
    assert "enable --now rota.timer" in capsys.readouterr().out


def test_systemctl_failure_is_reported_not_raised(
    env: Env, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.systemd(True)
    monkeypatch.setenv("FAKE_SYSTEMCTL_FAIL", "enable")
    assert run_cli("systemd", "install", "--config", str(env.config)) == 1
    assert "systemctl --user enable rota.timer` failed" in capsys.readouterr().err


def test_system_units_go_to_unit_dir_with_a_user(env: Env, tmp_path: Path) -> None:
    d = tmp_path / "pkg"
    rc = run_cli(
        "systemd", "install", "--system", "--unit-dir", str(d), "--run-as", "agent",
        "--config", str(env.config),
    )  # fmt: skip
    assert rc == 0
    svc = (d / "rota.service").read_text()
    assert "User=agent" in svc and "After=network-online.target" in svc
    assert env.calls() == []  # --unit-dir never talks to systemctl


def test_foreign_unit_is_not_overwritten_without_force(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    env.user_units.mkdir(parents=True)
    foreign = env.user_units / "rota.timer"
    foreign.write_text("[Timer]\nOnCalendar=daily\n")
    assert run_cli("systemd", "install", "--config", str(env.config)) == 1
    assert "was not written by rota" in capsys.readouterr().err
    assert foreign.read_text() == "[Timer]\nOnCalendar=daily\n"
    assert run_cli("systemd", "install", "--force", "--config", str(env.config)) == 0
    assert units.is_generated(foreign)


@needs_analyze
def test_bad_calendar_is_a_config_error(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    env.write_config(on_calendar="every half hour")
    assert run_cli("systemd", "install", "--config", str(env.config)) == 78
    err = capsys.readouterr().err
    assert "schedule.on_calendar" in err and str(env.config) in err
    assert not env.user_units.exists()


def test_missing_config_exits_78(env: Env, tmp_path: Path) -> None:
    assert run_cli("systemd", "install", "--config", str(tmp_path / "nope.toml")) == 78


def test_uninstall_removes_only_what_install_wrote(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli("systemd", "install", "--config", str(env.config)) == 0
    other = env.user_units / "backup.timer"
    other.write_text("[Timer]\nOnCalendar=daily\n")
    # A hand-written rota.service replaced ours: it must survive.
    (env.user_units / "rota.service").write_text("[Service]\nExecStart=/bin/true\n")
    capsys.readouterr()
    assert run_cli("systemd", "uninstall") == 0
    out = capsys.readouterr().out
    assert not (env.user_units / "rota.timer").exists()
    assert (env.user_units / "rota.service").exists() and other.exists()
    assert "rota.service: left alone" in out
    assert run_cli("systemd", "uninstall") == 0
    assert "nothing to remove" in capsys.readouterr().out


def test_uninstall_with_systemd_disables_first(env: Env) -> None:
    env.systemd(True)
    assert run_cli("systemd", "install", "--config", str(env.config)) == 0
    env.clear_calls()
    assert run_cli("systemd", "uninstall") == 0
    assert env.calls() == [
        ["--user", "disable", "--now", "rota.timer"],
        ["--user", "stop", "rota.service"],
        ["--user", "daemon-reload"],
        ["--user", "reset-failed", "rota.service"],
    ]
    assert not any(env.user_units.glob("rota.*"))


@needs_analyze
def test_end_to_end_as_a_subprocess(env: Env, tmp_path: Path) -> None:
    d = tmp_path / "units"
    run_env = dict(os.environ)

    def rota(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "rota.cli", *args],
            capture_output=True, text=True, env=run_env, timeout=60, check=False,
        )  # fmt: skip

    p = rota("systemd", "install", "--unit-dir", str(d), "--config", str(env.config))
    assert p.returncode == 0, p.stderr
    assert "systemd was not told" in p.stdout
    p = rota("systemd", "status", "--unit-dir", str(d), "--config", str(env.config), "--json")
    assert p.returncode == 0, p.stderr
    import json

    data = json.loads(p.stdout)
    assert data["installed"] is True
    assert data["schedule"]["on_calendar"] == "*-*-* *:00,30:00"
    assert data["schedule"]["matches_config"] is True
    assert data["next_fire"]["at"] is not None
    p = rota("systemd", "uninstall", "--unit-dir", str(d))
    assert p.returncode == 0, p.stderr
    assert list(d.iterdir()) == []
