"""The two generated units: content, exit-status handling, quoting, and `systemd-analyze verify`."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from rota.config import parse_config
from rota.errors import ConfigError
from rota.systemd import units
from rota.systemd.settings import service_path, session_programs, settings_from_config
from systemd_fakes import needs_analyze

ANALYZE = shutil.which("systemd-analyze")


def fake_rota(dirpath: Path) -> Path:
    dirpath.mkdir(parents=True, exist_ok=True)
    exe = dirpath / "rota"
    exe.write_text("#!/bin/sh\nexit 0\n")
    exe.chmod(0o755)
    return exe


def verify(
    tmp_path: Path, rendered: dict[str, str], *, user: bool = False
) -> subprocess.CompletedProcess[str]:
    d = tmp_path / ("user-units" if user else "system-units")
    d.mkdir(exist_ok=True)
    for name, text in rendered.items():
        (d / name).write_text(text)
    env = dict(os.environ)
    args = [str(ANALYZE)]
    if user:
        # The user manager needs a runtime dir; a private one works without a session.
        rt = tmp_path / "runtime"
        rt.mkdir(mode=0o700, exist_ok=True)
        env["XDG_RUNTIME_DIR"] = str(rt)
        args.append("--user")
    args += ["verify", str(d / units.TIMER_NAME), str(d / units.SERVICE_NAME)]
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=60, check=False)


def settings(tmp_path: Path, **kw: object) -> units.UnitSettings:
    base = dict(
        rota_path=str(fake_rota(tmp_path / "bin")),
        config_path=str(tmp_path / "rota.toml"),
        environment={"PATH": "/usr/local/bin:/usr/bin:/bin"},
    )
    base.update(kw)
    return units.UnitSettings(**base)  # type: ignore[arg-type]


def prevented_statuses(service: str) -> set[str]:
    out: set[str] = set()
    for line in service.splitlines():
        if line.startswith("RestartPreventExitStatus="):
            out.update(line.split("=", 1)[1].split())
    return out


def test_timer_carries_the_schedule_and_marker(tmp_path: Path) -> None:
    timer = units.render_timer(settings(tmp_path))
    assert units.GENERATED_MARKER in timer.splitlines()
    assert "OnCalendar=*-*-* *:00,30:00" in timer
    assert "RandomizedDelaySec=120" in timer
    assert "Persistent=true" in timer
    assert "Unit=rota.service" in timer
    assert "WantedBy=timers.target" in timer


def test_service_exit_status_contract(tmp_path: Path) -> None:
    svc = units.render_service(settings(tmp_path, retry_interval_minutes=10))
    lines = svc.splitlines()
    assert "Type=oneshot" in lines
    assert "SuccessExitStatus=75 143" in lines  # busy is a skip; a deliberate stop is no failure
    assert "Restart=on-failure" in lines
    assert "RestartSec=600" in lines  # 76 retried after 10 minutes
    assert not any(
        line.startswith("RestartForceExitStatus") for line in lines
    )  # refused for oneshot
    prevented = prevented_statuses(svc)
    # Every other exit status and every crash signal stays a failed unit; 76 (and 75) restart.
    assert not {"75", "76", "143"} & prevented
    assert {str(c) for c in range(1, 256)} - {"75", "76", "143"} <= prevented
    assert {"SIGKILL", "SIGSEGV", "SIGABRT"} <= prevented
    assert "KillMode=mixed" in lines


def test_start_timeout_exceeds_the_longest_harness_timeout(tmp_path: Path) -> None:
    cfg = parse_config(
        {
            "harnesses": {
                "claude-code": {"timeout_minutes": 90, "models": {"opus": {"tier": "high"}}},
                "codex": {"timeout_minutes": 30, "models": {"gpt-5.4": {"tier": "medium"}}},
            },
            "schedule": {
                "on_calendar": "*:0/20",
                "randomized_delay_sec": 0,
                "persistent": False,
                "retry_interval_minutes": 3,
            },
        }
    )
    s = settings_from_config(
        cfg, rota_path="/usr/bin/rota", config_path="/etc/rota.toml", environ={"PATH": "/usr/bin"}
    )
    assert s.timeout_start_sec > 90 * 60
    assert s.on_calendar == "*:0/20"
    assert s.randomized_delay_sec == 0 and s.persistent is False
    assert s.restart_sec == 180
    svc = units.render_service(s)
    timeout = int(units.read_unit_setting(svc, "TimeoutStartSec") or 0)
    assert timeout > 90 * 60
    assert "Persistent=false" in units.render_timer(s)


def test_environment_capture_is_paths_only() -> None:
    cfg = parse_config({})
    environ = {
        "PATH": "/a:/b",
        "ROTA_STATE_DIR": "/state",
        "ROTA_STORE_URL": "postgresql://u:secret@db/rota",
        "ANTHROPIC_API_KEY": "sk-ant-xxxxxxxxxxxxxxxxxxxx",
    }
    s = settings_from_config(cfg, rota_path="/opt/rota/bin/rota", config_path="/c", environ=environ)
    # Not the caller's PATH (/a:/b): rota's directory and the system's (no harness is enabled).
    assert dict(s.environment) == {
        "PATH": "/opt/rota/bin:/usr/bin:/bin",
        "ROTA_STATE_DIR": "/state",
    }


@needs_analyze
@pytest.mark.parametrize("user", [False, True])
def test_generated_units_pass_systemd_analyze_verify(tmp_path: Path, user: bool) -> None:
    rendered = units.render_units(settings(tmp_path, system=not user, user=None))
    proc = verify(tmp_path, rendered, user=user)
    if user and "Failed to initialize manager" in proc.stderr:
        pytest.skip(f"no user manager can be simulated here: {proc.stderr.strip()}")
    assert proc.returncode == 0, proc.stderr
    # verify prints warnings (e.g. "Failed to parse value, ignoring") yet still exits 0.
    assert proc.stderr.strip() == "", proc.stderr


@needs_analyze
def test_awkward_paths_are_quoted_for_systemd(tmp_path: Path) -> None:
    # A rota under a directory with spaces, % and $; a config whose path also has quotes.
    odd = tmp_path / "my tools 100% $HOME"
    s = settings(
        tmp_path,
        rota_path=str(fake_rota(odd)),
        config_path=str(odd / 'rota "config" $x.toml'),
        environment={"PATH": f"{odd}:/usr/bin", "ROTA_STATE_DIR": "/var/lib/rota 50%"},
        system=True,
        user="agent",
    )
    rendered = units.render_units(s)
    proc = verify(tmp_path, rendered)
    assert proc.returncode == 0 and proc.stderr.strip() == "", proc.stderr
    # systemd resolves the executable itself: a wrong quote would make verify report it missing.
    assert "not executable" not in proc.stderr
    assert "User=agent" in rendered[units.SERVICE_NAME]
    assert "Wants=network-online.target" in rendered[units.SERVICE_NAME]


@needs_analyze
def test_verify_catches_a_broken_unit(tmp_path: Path) -> None:
    # The check in the tests has teeth: RestartForceExitStatus= on a oneshot is refused.
    rendered = units.render_units(settings(tmp_path))
    rendered[units.SERVICE_NAME] += "RestartForceExitStatus=76\n"
    proc = verify(tmp_path, rendered)
    assert proc.returncode != 0
    assert "RestartForceExitStatus" in proc.stderr


def test_executable_path_with_quotes_is_refused(tmp_path: Path) -> None:
    # systemd refuses such an executable ("contains special characters"): say so up front.
    with pytest.raises(ValueError, match="quotes"):
        units.render_service(settings(tmp_path, rota_path='/opt/"rota"/bin/rota'))


def test_newlines_in_values_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        units.render_service(settings(tmp_path, config_path="/tmp/a\nExecStartPre=/bin/rm"))
    with pytest.raises(ValueError):
        units.render_timer(settings(tmp_path, on_calendar="daily\nOnBootSec=1"))


def test_is_generated_checks_the_marker(tmp_path: Path) -> None:
    ours = tmp_path / "rota.timer"
    ours.write_text(units.render_timer(settings(tmp_path)))
    theirs = tmp_path / "other.timer"
    theirs.write_text("[Timer]\nOnCalendar=daily\n# rota-generated-unit is mentioned here only\n")
    assert units.is_generated(ours)
    assert not units.is_generated(theirs)
    assert not units.is_generated(tmp_path / "missing.timer")


def test_fake_rota_is_executable(tmp_path: Path) -> None:
    exe = fake_rota(tmp_path / "b")
    assert exe.stat().st_mode & stat.S_IXUSR


# ---------------------------------------------------------------------------------------------
# [schedule] on_calendar as a list, and the service's minimal PATH


def test_on_calendar_list_becomes_one_line_each(tmp_path: Path) -> None:
    cfg = parse_config({"schedule": {"on_calendar": ["*:05", "Mon 09:00"]}})
    assert cfg.schedule.on_calendar == ("*:05", "Mon 09:00")
    s = settings_from_config(cfg, rota_path="/usr/bin/rota", config_path="/c", environ={})
    timer = units.render_timer(s)
    assert units.read_unit_settings(timer, "OnCalendar") == ["*:05", "Mon 09:00"]
    assert units.read_unit_setting(timer, "OnCalendar") == "Mon 09:00"


@pytest.mark.parametrize(
    ("value", "key", "words"),
    [
        ([], "schedule.on_calendar", "at least one calendar expression"),
        (["*:05", 5], "schedule.on_calendar[1]", "expected a string"),
        (5, "schedule.on_calendar", "expected a string"),
    ],
)
def test_bad_on_calendar_names_the_key(value: object, key: str, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({"schedule": {"on_calendar": value}}, path="rota.toml")
    assert f"[{key}]" in str(err.value) and words in str(err.value)
    assert "rota.toml" in str(err.value)


@needs_analyze
def test_several_calendar_lines_pass_verify(tmp_path: Path) -> None:
    rendered = units.render_units(settings(tmp_path, on_calendar=("*:05", "Mon 09:00", "daily")))
    proc = verify(tmp_path, rendered)
    assert proc.returncode == 0 and proc.stderr.strip() == "", proc.stderr


def executable(path: Path, text: str = "#!/bin/sh\nexit 0\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return path


def test_service_path_holds_only_what_sessions_start(tmp_path: Path) -> None:
    # claude is an npm script (`#!/usr/bin/env node`); node lives elsewhere; codex is found on the
    # harness's own env PATH; the test command is a venv's pytest; `unrelated` holds other tools.
    npm, node, codex_dir, venv, unrelated = (
        tmp_path / d for d in ("npm/bin", "node/bin", "codex/bin", "venv/bin", "unrelated")
    )
    executable(npm / "claude", "#!/usr/bin/env node\nconsole.log('hi')\n")
    executable(node / "node")
    executable(node / "git")  # so that the test does not depend on git being installed
    executable(codex_dir / "codex")
    executable(venv / "pytest")
    executable(unrelated / "gptme")
    cfg = parse_config(
        {
            "harnesses": {
                "claude-code": {"models": {"opus": {"tier": "high"}}},
                "codex": {"env": {"PATH": str(codex_dir)}, "models": {"gpt-5.4": "medium"}},
                "gptme": {"enabled": False, "models": {"glm-5": "low"}},
                "aider": {"models": {"sonnet": "medium"}},
            },
            "run": {"test_command": ["pytest", "-q"]},
        }
    )
    caller_path = f"{unrelated}:{npm}:{node}:{venv}:/usr/bin:/bin"
    rota = str(executable(tmp_path / "rota/bin/rota"))
    s = settings_from_config(cfg, rota_path=rota, config_path="/c", environ={"PATH": caller_path})
    expected = [str(npm), str(node), str(codex_dir), str(venv), str(tmp_path / "rota/bin")]
    assert s.environment["PATH"] == ":".join([*expected, "/usr/bin", "/bin"])
    # aider is enabled but installed nowhere: named, so install can say so.
    progs = session_programs(cfg)
    missing = service_path(progs, rota, caller_path).missing
    assert [(p.name, p.owner) for p in missing] == [("aider", "harnesses.aider")]
