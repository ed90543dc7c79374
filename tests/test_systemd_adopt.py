"""`rota systemd adopt`: finding old per-backend units, reproducing them, disabling, grepping.

The fixture is a realistic old setup: four services and four timers (claude, gptme, codex and
copilot, each at its own minute offset), a wait-and-run wrapper script, a script that builds the
copilot call itself, an unrelated backup job, and rota's own generated units (to be ignored).
"""

from __future__ import annotations

import json
import os
import time
import tomllib
from pathlib import Path

import pytest

from rota.config import parse_config
from rota.systemd import adopt, analyze
from rota.systemd.harness_call import find_harness
from rota.systemd.suggest import config_snippet, suggest_arm, suggest_on_calendar
from rota.systemd.unitfile import split_exec
from rota.systemd.units import UnitSettings, render_units
from systemd_fakes import Env, needs_analyze, run_cli

SECRET = "sk-ant-api03-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

WAIT_AND_RUN = """\
#!/bin/sh
# wait-and-run: wait for the network and for any other agent session, then run the command.
set -eu
for i in $(seq 1 30); do
    if getent hosts api.anthropic.com >/dev/null 2>&1; then break; fi
    sleep 10
done
exec flock -w 3600 "${XDG_RUNTIME_DIR:-/tmp}/agent.lock" "$@"
"""

COPILOT_SESSION = """\
#!/usr/bin/env bash
# Runs one Copilot session in the workspace.
set -euo pipefail
cd "$HOME/workspace"
MODEL="${COPILOT_MODEL:-claude-sonnet-4.5}"
PROMPT="$(cat "$HOME/agent-prompt.md")"
timeout 50m copilot -p "$PROMPT" --model "$MODEL" --allow-all-tools --no-ask-user -s \\
    >> "$HOME/logs/copilot.log" 2>&1
"""


def unit(description: str, body: str) -> str:
    return f"[Unit]\nDescription={description}\n\n{body}"


def timer(description: str, on_calendar: str, extra: str = "") -> str:
    return unit(
        description,
        f"[Timer]\nOnCalendar={on_calendar}\nPersistent=true\n{extra}\n"
        "[Install]\nWantedBy=timers.target\n",
    )


def build_old_setup(root: Path) -> tuple[Path, Path]:
    """A unit dir as a user would have it after a year of one timer per backend."""
    units = root / "units"
    units.mkdir()
    bin_dir = root / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "wait-and-run"
    wrapper.write_text(WAIT_AND_RUN)
    wrapper.chmod(0o755)
    copilot_script = bin_dir / "copilot-session.sh"
    copilot_script.write_text(COPILOT_SESSION)
    copilot_script.chmod(0o755)

    (units / "claude-agent.service").write_text(
        unit(
            "Claude Code agent session",
            "[Service]\nType=oneshot\nWorkingDirectory=%h/workspace\n"
            f"Environment=ANTHROPIC_API_KEY={SECRET}\n"
            "TimeoutStartSec=2h\n"
            "ExecStart=/usr/bin/env CLAUDE_CODE_ENTRYPOINT=cli nice -n 10 "
            '/home/agent/.local/bin/claude -p "Work on the next open task" \\\n'
            "    --model opus --output-format stream-json --verbose "
            "--permission-mode bypassPermissions\n",
        )
    )
    (units / "claude-agent.timer").write_text(
        timer("Claude agent every hour at :05", "*-*-* *:05:00", "RandomizedDelaySec=60\n")
    )
    (units / "gptme-agent.service").write_text(
        unit(
            "gptme agent session",
            "[Service]\nType=oneshot\n"
            f"ExecStart={wrapper} gptme -n -m openai/gpt-5.4 -w /home/agent/workspace "
            '"Work on the next open task"\n',
        )
    )
    (units / "gptme-agent.timer").write_text(timer("gptme agent at :20", "*:20"))
    (units / "codex-agent.service").write_text(
        unit(
            "Codex agent session",
            "[Service]\nType=oneshot\n"
            "ExecStart=/bin/bash -lc 'cd ~/workspace && exec timeout 45m codex exec -m gpt-5.4 "
            '--sandbox workspace-write --json --skip-git-repo-check "$$(cat ~/agent-prompt.md)"\'\n',
        )
    )
    (units / "codex-agent.timer").write_text(timer("Codex agent at :35", "*-*-* *:35:00"))
    (units / "copilot-agent.service").write_text(
        unit(
            "Copilot agent session",
            "[Service]\nType=oneshot\nEnvironment=COPILOT_MODEL=gpt-5-mini\n"
            f"ExecStart={copilot_script}\n",
        )
    )
    (units / "copilot-agent.timer").write_text(
        timer("Copilot agent at :50", "*-*-* *:50:00", "Unit=copilot-agent.service\n")
    )
    # Unrelated: must not be listed.
    (units / "backup.service").write_text(
        unit("Backup", "[Service]\nType=oneshot\nExecStart=/usr/bin/restic backup /home\n")
    )
    (units / "backup.timer").write_text(timer("Backup nightly", "daily"))
    # rota's own units: never "adopted".
    s = UnitSettings(rota_path="/usr/bin/rota", config_path="/etc/rota.toml")
    for name, text in render_units(s).items():
        (units / name).write_text(text)
    # claude-agent.timer is enabled (the symlink `systemctl enable` leaves).
    wants = units / "timers.target.wants"
    wants.mkdir()
    os.symlink(units / "claude-agent.timer", wants / "claude-agent.timer")
    return units, bin_dir


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path]:
    return build_old_setup(tmp_path)


def test_scan_finds_the_four_per_backend_units(setup: tuple[Path, Path]) -> None:
    units_dir, bin_dir = setup
    found = {u.name: u for u in adopt.scan([(units_dir, "dir")])}
    assert sorted(found) == [
        "claude-agent.service",
        "codex-agent.service",
        "copilot-agent.service",
        "gptme-agent.service",
    ]
    claude = found["claude-agent.service"]
    assert (claude.call.harness, claude.call.model) == ("claude-code", "opus")
    assert claude.call.executable == "/home/agent/.local/bin/claude"
    assert claude.call.via is None
    assert [t.name for t in claude.timers] == ["claude-agent.timer"]
    assert claude.timers[0].on_calendar == ["*-*-* *:05:00"]
    assert claude.timers[0].enabled is True
    assert ("RandomizedDelaySec", "60") in claude.timers[0].settings

    gptme = found["gptme-agent.service"]
    assert (gptme.call.harness, gptme.call.model) == ("gptme", "openai/gpt-5.4")
    assert gptme.call.via == str(bin_dir / "wait-and-run")  # through the wrapper's "$@"
    assert gptme.timers[0].on_calendar == ["*:20"]

    codex = found["codex-agent.service"]
    assert (codex.call.harness, codex.call.model) == ("codex", "gpt-5.4")
    assert codex.call.timeout_s == 45 * 60  # from `timeout 45m` inside bash -lc

    copilot = found["copilot-agent.service"]
    # Read from the script; the model comes from the unit's Environment= via ${COPILOT_MODEL:-…}.
    assert (copilot.call.harness, copilot.call.model) == ("copilot", "gpt-5-mini")
    assert copilot.call.via == str(bin_dir / "copilot-session.sh")
    assert copilot.call.timeout_s == 50 * 60
    assert copilot.timers[0].enabled is None  # no wants link: cannot tell


def test_schedules_merge_into_one_timer(setup: tuple[Path, Path]) -> None:
    # The old OnCalendar= lines, verbatim: one timer with several lines fires whenever any did.
    found = adopt.scan([(setup[0], "dir")])
    assert suggest_on_calendar(found) == ["*-*-* *:05:00", "*-*-* *:35:00", "*-*-* *:50:00", "*:20"]


@needs_analyze
def test_merged_schedule_fires_when_the_old_timers_did(setup: tuple[Path, Path]) -> None:
    # Asked of systemd itself: the list fires at :05, :20, :35 and :50, like the four old timers.
    calendars = suggest_on_calendar(adopt.scan([(setup[0], "dir")]))
    t = 1735690200.0  # 2025-01-01 00:10 UTC
    fires = []
    for _ in range(5):
        t = analyze.next_elapse(calendars, t).at or 0.0
        fires.append(time.strftime("%H:%M:%S", time.gmtime(t)))
    assert fires == ["00:20:00", "00:35:00", "00:50:00", "01:05:00", "01:20:00"]


def test_config_snippet_is_valid_rota_config(setup: tuple[Path, Path]) -> None:
    found = adopt.scan([(setup[0], "dir")])
    snippet = config_snippet(found)
    cfg = parse_config(tomllib.loads(snippet))
    assert sorted(cfg.arms) == [
        "claude-code:opus",
        "codex:gpt-5.4",
        "copilot:gpt-5-mini",
        "gptme:openai/gpt-5.4",
    ]
    assert cfg.arms["claude-code:opus"].tier == "high"
    assert cfg.arms["copilot:gpt-5-mini"].tier == "low"
    assert cfg.harnesses["claude-code"].executable == "/home/agent/.local/bin/claude"
    assert cfg.harnesses["codex"].timeout_minutes == 45
    assert cfg.schedule.on_calendar == ("*-*-* *:05:00", "*-*-* *:35:00", "*-*-* *:50:00", "*:20")


def test_cli_lists_units_schedules_and_config_without_secrets(
    setup: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    units_dir, _ = setup
    assert run_cli("systemd", "adopt", "--unit-dir", str(units_dir)) == 0
    out = capsys.readouterr().out
    assert "found 4 per-backend units" in out
    assert "runs: claude-code, model opus" in out
    assert "timer: claude-agent.timer (enabled): OnCalendar=*-*-* *:05:00" in out
    assert "[harnesses.gptme.models]" in out
    assert "backup" not in out and "rota.service" not in out
    assert SECRET not in out
    capsys.readouterr()
    assert run_cli("systemd", "adopt", "--unit-dir", str(units_dir), "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert [u["harness"] for u in data["units"]] == ["claude-code", "codex", "copilot", "gptme"]
    assert SECRET not in json.dumps(data)


def test_grep_lists_other_files_naming_the_units(
    setup: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    units_dir, bin_dir = setup
    docs = tmp_path / "ops"
    (docs / ".git").mkdir(parents=True)
    (docs / "README.md").write_text(
        "# Agents\nEach backend has its own timer: `systemctl --user list-timers 'claude-agent*'`.\n"
        "Logs: journalctl --user -u codex-agent.service\n"
    )
    (docs / "healthcheck.sh").write_text(
        "#!/bin/sh\nsystemctl --user is-active gptme-agent.timer copilot-agent.timer\n"
    )
    (docs / "notes.txt").write_text("claude is great; codex too.\nagent-backup.timer\n")
    (docs / ".git" / "config").write_text("claude-agent.timer\n")  # skipped
    (docs / "blob.bin").write_bytes(b"\0claude-agent.timer")  # binary: skipped
    assert run_cli("systemd", "adopt", "--unit-dir", str(units_dir), "--grep", str(docs),
                   str(bin_dir)) == 0  # fmt: skip
    out = capsys.readouterr().out
    refs = [line.strip() for line in out.splitlines() if str(docs) in line]
    assert len(refs) == 3, out
    assert any("README.md:2:" in r and "claude-agent" in r for r in refs)
    assert any("README.md:3:" in r for r in refs)
    assert any("healthcheck.sh:2:" in r for r in refs)
    assert "notes.txt" not in out and "blob.bin" not in out


def test_disable_without_systemd_changes_nothing(
    setup: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    env = Env(tmp_path / "env", monkeypatch)
    units_dir, _ = setup
    before = {p: p.read_bytes() for p in units_dir.iterdir() if p.is_file()}
    assert run_cli("systemd", "adopt", "--unit-dir", str(units_dir), "--disable") == 1
    out = capsys.readouterr().out
    assert "not disabled" in out
    assert {p: p.read_bytes() for p in units_dir.iterdir() if p.is_file()} == before
    assert env.calls() == []


def test_disable_with_systemd_stops_and_disables_keeping_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = Env(tmp_path / "env", monkeypatch)
    env.systemd(True)
    # The old units live where the user manager reads them.
    env.user_units.parent.mkdir(parents=True)
    units_dir, _ = build_old_setup(tmp_path)
    units_dir.rename(env.user_units)
    assert run_cli("systemd", "adopt", "--unit-dir", str(env.user_units), "--disable") == 0
    out = capsys.readouterr().out
    calls = env.calls()
    assert ["--user", "disable", "--now", "claude-agent.timer"] in calls
    assert ["--user", "stop", "claude-agent.service"] in calls
    assert ["--user", "disable", "--now", "copilot-agent.timer"] in calls
    assert not any("backup" in " ".join(c) or "rota.timer" in c for c in calls)
    assert "undo: systemctl --user enable --now gptme-agent.timer" in out
    assert (env.user_units / "claude-agent.service").exists()  # files kept
    assert (env.user_units / "timers.target.wants" / "claude-agent.timer").is_symlink()


def test_nothing_found(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run_cli("systemd", "adopt", "--unit-dir", str(empty)) == 0
    assert "no per-backend units found" in capsys.readouterr().out
    assert run_cli("systemd", "adopt", "--unit-dir", str(tmp_path / "missing")) == 1


@pytest.mark.parametrize(
    ("exec_start", "harness", "model"),
    [
        (
            "/usr/local/bin/gemini -p x -m gemini-2.5-pro --output-format json",
            "gemini",
            "gemini-2.5-pro",
        ),
        ("/usr/bin/timeout -s INT 1h aider --message x --yes --model sonnet", "aider", "sonnet"),
        (
            "/bin/sh -c \"opencode run --format json -m anthropic/claude-opus-4 'x'\"",
            "opencode",
            "anthropic/claude-opus-4",
        ),
        ("-/usr/bin/sudo -u agent -H claude -p x --model=haiku", "claude-code", "haiku"),
        ("/usr/bin/flock -w 60 /tmp/l -c 'codex exec -m gpt-5.4-mini x'", "codex", "gpt-5.4-mini"),
        ("/usr/bin/notify-send claude done", None, None),
        ("/usr/bin/python3 -m http.server", None, None),
    ],
)
def test_exec_start_shapes(exec_start: str, harness: str | None, model: str | None) -> None:
    call = find_harness(split_exec(exec_start), {})
    if harness is None:
        assert call is None
    else:
        assert call is not None and (call.harness, call.model) == (harness, model)


# ---------------------------------------------------------------------------------------------
# Consistent with `rota init`, and hints that keep the flags given


def test_tiers_and_costs_are_the_ones_rota_init_writes() -> None:
    from rota.commands.init import starter_config

    init = parse_config(tomllib.loads(starter_config(Path("/ws"), enable_all=True)))
    assert len(init.arms) >= 10
    for name, arm in init.arms.items():
        harness, model = name.split(":", 1)
        s = suggest_arm(harness, model)
        assert (s.tier, s.cost) == (arm.tier, arm.cost), name
        assert s.basis == "as in `rota init`"


def test_versions_and_unknown_models_follow_the_init_table() -> None:
    # A dated or versioned name of an init model gets that model's tier and cost.
    opus = suggest_arm("claude-code", "claude-opus-4-1")
    assert (opus.tier, opus.cost, opus.basis) == ("high", 5.0, "as opus in `rota init`")
    # An unknown model: the tier from its name, the cost init gives that tier on the harness...
    flash = suggest_arm("gemini", "gemini-3-flash-lite")
    assert (flash.tier, flash.cost) == ("low", 0.3)
    # ...else the usual cost for that tier across init's harnesses.
    mini = suggest_arm("copilot", "gpt-5-mini")
    assert (mini.tier, mini.cost) == ("low", 0.5)
    assert "tier guessed from the name" in mini.basis


def test_hint_keeps_the_unit_dirs_given(
    setup: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    units_dir, _ = setup
    other = tmp_path / "more units"
    other.mkdir()
    assert run_cli("systemd", "adopt", "--unit-dir", str(units_dir), str(other)) == 0
    out = capsys.readouterr().out
    assert f"`rota systemd adopt --unit-dir {units_dir} --unit-dir '{other}' --disable`" in out, out
    assert "`rota systemd install`" in out
    assert run_cli("systemd", "adopt", "--unit-dir", str(units_dir), "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["next"] == [
        "rota systemd install",
        f"rota systemd adopt --unit-dir {units_dir} --disable",
    ]


def test_schedule_is_copied_as_systemd_reads_it(tmp_path: Path) -> None:
    d = tmp_path / "units"
    d.mkdir()
    (d / "claude-agent.service").write_text(
        unit("c", "[Service]\nExecStart=/usr/bin/claude -p x --model sonnet\n")
    )
    # An empty OnCalendar= clears the lines before it; OnUnitActiveSec has no [schedule] form.
    (d / "claude-agent.timer").write_text(
        timer("c", "hourly", "OnCalendar=\nOnCalendar=Mon..Fri 09:00\nOnUnitActiveSec=3h\n")
    )
    found = adopt.scan([(d, "dir")])
    assert suggest_on_calendar(found) == ["Mon..Fri 09:00"]
    snippet = config_snippet(found)
    cfg = parse_config(tomllib.loads(snippet))
    assert cfg.schedule.on_calendar == "Mon..Fri 09:00"  # one expression: a plain string
    assert "# not reproduced: claude-agent.timer OnUnitActiveSec=3h" in snippet
    assert (cfg.arms["claude-code:sonnet"].tier, cfg.arms["claude-code:sonnet"].cost) == (
        "medium",
        1.5,
    )
