"""One consistent `rota systemd` CLI: `--json` on every action (an object with schema_version),
`--unit-dir` with one meaning everywhere, a list of calendar expressions, and no guessing where
systemd-analyze is missing."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from rota.systemd import units
from systemd_fakes import Env, needs_analyze, run_cli


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    return Env(tmp_path, monkeypatch)


def json_of(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    capsys.readouterr()
    rc = run_cli(*args, "--json")
    out = capsys.readouterr().out
    data = json.loads(out)
    assert isinstance(data, dict) and data["schema_version"] == 1, out
    return rc, data


def calendar_list(env: Env, exprs: list[str]) -> None:
    text = env.config.read_text()
    old = 'on_calendar = "*-*-* *:00,30:00"'
    assert old in text
    env.config.write_text(text.replace(old, f"on_calendar = {json.dumps(exprs)}"))


# ---------------------------------------------------------------------------------------------
# --json


def test_every_action_speaks_json(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    env.systemd(True)
    rc, data = json_of(capsys, "systemd", "install", "--config", str(env.config))
    assert rc == 0 and data["ok"] is True
    assert [(u["name"], u["action"]) for u in data["units"]] == [
        ("rota.timer", "written"),
        ("rota.service", "written"),
    ]
    assert (data["unit_dir"], data["scope"], data["managed"]) == (str(env.user_units), "user", True)
    assert data["schedule"]["on_calendar"] == ["*-*-* *:00,30:00"]
    assert data["schedule"]["retry_after_s"] == 300
    assert [s["what"] for s in data["steps"]] == [
        "systemctl --user daemon-reload",
        "systemctl --user enable rota.timer",
        "systemctl --user restart rota.timer",
    ]
    assert data["environment"]["PATH"].endswith("/usr/bin:/bin")

    rc, data = json_of(capsys, "systemd", "status", "--config", str(env.config))
    assert rc == 0 and data["installed"] is True

    rc, data = json_of(capsys, "systemd", "uninstall")
    assert rc == 0 and data["ok"] is True
    assert data["removed"] == [str(env.user_units / n) for n in units.UNIT_NAMES]

    empty = env.root / "empty"
    empty.mkdir()
    rc, data = json_of(capsys, "systemd", "adopt", "--unit-dir", str(empty))
    assert rc == 0 and data["units"] == [] and data["scanned"] == [str(empty)]


def test_json_reports_a_failed_step(
    env: Env, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    env.systemd(True)
    monkeypatch.setenv("FAKE_SYSTEMCTL_FAIL", "enable")
    rc, data = json_of(capsys, "systemd", "install", "--config", str(env.config))
    assert rc == 1 and data["ok"] is False
    failed = [s for s in data["steps"] if not s["ok"]]
    assert failed == [
        {
            "action": "systemctl",
            "what": "systemctl --user enable rota.timer",
            "ok": False,
            "error": "Failed to enable: simulated",
        }
    ]


# ---------------------------------------------------------------------------------------------
# --unit-dir


@pytest.mark.parametrize("action", ["install", "uninstall", "status", "adopt"])
def test_unit_dir_is_documented_the_same_everywhere(
    action: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        run_cli("systemd", action, "--help")
    text = " ".join(capsys.readouterr().out.split())
    assert "work on the unit files in DIR instead of the standard directories" in text
    assert "systemctl is used only when a systemd manager reads DIR" in text


def test_unit_dir_that_systemd_reads_tells_systemd(env: Env) -> None:
    env.systemd(True)
    d = str(env.user_units)
    assert run_cli("systemd", "install", "--unit-dir", d, "--config", str(env.config)) == 0
    assert ["--user", "daemon-reload"] in env.calls()
    assert ["--user", "enable", "rota.timer"] in env.calls()
    env.clear_calls()
    assert run_cli("systemd", "uninstall", "--unit-dir", d) == 0
    assert env.calls()[0] == ["--user", "disable", "--now", "rota.timer"]
    assert not any(env.user_units.glob("rota.*"))


def test_unit_dir_that_no_manager_reads_is_files_only(
    env: Env, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env.systemd(True)  # even with a manager running
    d = str(tmp_path / "pkg")
    assert run_cli("systemd", "install", "--unit-dir", d, "--config", str(env.config)) == 0
    capsys.readouterr()
    assert run_cli("systemd", "status", "--unit-dir", d, "--config", str(env.config)) == 0
    out = capsys.readouterr().out
    assert f"installed: yes (user units in {d})" in out
    assert f"timer: unknown: systemd does not read {d} (--unit-dir)" in out
    assert run_cli("systemd", "uninstall", "--unit-dir", d) == 0
    assert env.calls() == []


def test_unit_dir_scope_and_flag_must_agree(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    rc = run_cli(
        "systemd", "install", "--user", "--unit-dir", "/etc/systemd/system",
        "--config", str(env.config),
    )  # fmt: skip
    assert rc == 2
    assert "holds system units, but --user was given" in capsys.readouterr().err
    assert env.calls() == []


# ---------------------------------------------------------------------------------------------
# [schedule] on_calendar as a list; hosts without systemd-analyze


@needs_analyze
def test_a_list_of_calendars_is_installed_and_checked(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    calendar_list(env, ["*-*-* *:05:00", "*:35"])
    assert run_cli("systemd", "install", "--config", str(env.config)) == 0
    out = capsys.readouterr().out
    assert "schedule: OnCalendar=*-*-* *:05:00, OnCalendar=*:35 + up to 120 s" in out
    timer = (env.user_units / "rota.timer").read_text()
    assert units.read_unit_settings(timer, "OnCalendar") == ["*-*-* *:05:00", "*:35"]
    rc, data = json_of(capsys, "systemd", "status", "--config", str(env.config))
    assert data["schedule"]["on_calendar"] == ["*-*-* *:05:00", "*:35"]
    assert data["schedule"]["matches_config"] is True
    assert data["next_fire"]["source"] == "systemd-analyze"


@needs_analyze
def test_the_rejected_expression_of_a_list_is_named(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    calendar_list(env, ["*:05", "every half hour"])
    assert run_cli("systemd", "install", "--config", str(env.config)) == 78
    err = capsys.readouterr().err
    assert "[schedule.on_calendar[1]]" in err and "'every half hour'" in err
    assert not env.user_units.exists()


def test_without_systemd_analyze_nothing_is_guessed(
    env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A host with neither systemd-analyze nor systemd: the units are written, unchecked.
    monkeypatch.setenv("PATH", str(env.bin))
    rota = tmp_path / "rotabin" / "rota"
    rota.parent.mkdir()
    rota.write_text(f"#!{sys.executable}\n")
    rota.chmod(0o755)
    args = ("--rota-path", str(rota), "--config", str(env.config))
    assert run_cli("systemd", "install", *args) == 0
    out = capsys.readouterr().out
    assert "not checked: systemd-analyze is not installed here" in out
    assert "next fire: unknown (systemd-analyze is not installed)" in out
    assert (env.user_units / "rota.timer").exists()
    rc, data = json_of(capsys, "systemd", "status", "--config", str(env.config))
    assert data["next_fire"] == {
        "at": None,
        "source": None,
        "unknown": "systemd-analyze is not installed",
    }
    run_cli("systemd", "status", "--config", str(env.config))
    assert "next fire: unknown (not computed: systemd-analyze" in capsys.readouterr().out


def test_service_path_is_printed_and_missing_programs_named(
    env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    claude = tools / "claude"
    claude.write_text("#!/bin/sh\n")
    claude.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}:{env.bin}:/usr/bin:/bin")
    rota = tmp_path / "rotabin" / "rota"
    rota.parent.mkdir()
    rota.write_text(f"#!{sys.executable}\n")
    rota.chmod(0o755)
    assert run_cli("systemd", "install", "--rota-path", str(rota), "--config", str(env.config)) == 0
    out = capsys.readouterr().out
    svc = (env.user_units / "rota.service").read_text()
    path = next(v for v in units.read_unit_settings(svc, "Environment") if "PATH=" in v)
    assert path.startswith(f'"PATH={tools}:')
    assert str(env.bin) not in path  # the caller's PATH is not copied
    assert f"{rota.parent}:/usr/bin:/bin" in path
    assert "codex (harnesses.codex)" in out and "claude (" not in out
    assert f"service PATH: {tools}:" in out
