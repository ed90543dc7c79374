"""`rota quota`, `rota doctor`, and the issue's done-when: a HOME laid out like the fixtures and the
usage endpoint on a local server -> `rota quota --json` shows the fixture figures and `rota select
--explain` excludes exactly the exhausted arms with their reset times."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from probe_support import FAKE_TOKEN, Route, fixture_home, usage_server
from rota import cli

NOW = datetime(2026, 11, 27, 19, 0, tzinfo=UTC).timestamp()

CONFIG = """
[workspace]
path = "{ws}"
[harnesses.claude-code.models]
opus = {{ tier = "high", cost = 5.0 }}
sonnet = {{ tier = "medium", cost = 1.5 }}
[harnesses.codex.models]
"gpt-5.4" = {{ tier = "medium", cost = 1.0 }}
[harnesses.gptme.models]
"openai/gpt-5.4" = {{ tier = "medium", cost = 1.0 }}
[pools.chatgpt]
harnesses = ["codex"]
arms = ["gptme:openai/gpt-5.4"]
"""


@pytest.fixture
def world(tmp_path: Path, fixtures_dir: Path, monkeypatch: pytest.MonkeyPatch):
    """Fixture HOME, config, state dir and a usage server; the commands' clock set to NOW."""
    home = fixture_home(fixtures_dir, tmp_path / "home")
    cfg = tmp_path / "rota.toml"
    (tmp_path / "ws").mkdir()
    cfg.write_text(CONFIG.format(ws=tmp_path / "ws"))
    for k in list(os.environ):
        if k.startswith("ROTA_") or k in ("CODEX_HOME", "CLAUDE_CONFIG_DIR", "XDG_CONFIG_HOME"):
            monkeypatch.delenv(k)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("ROTA_CONFIG", str(cfg))
    monkeypatch.setenv("ROTA_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("NO_COLOR", "1")
    import rota.commands.quota as quota_cmd
    import rota.commands.select as select_cmd

    monkeypatch.setattr(quota_cmd, "now", lambda: NOW)
    monkeypatch.setattr(select_cmd, "now", lambda: NOW)
    with usage_server() as srv:
        srv.route("/usage", Route(200, (fixtures_dir / "claude" / "oauth_usage.json").read_bytes()))
        srv.route(
            "/exhausted",
            Route(200, (fixtures_dir / "claude" / "oauth_usage_exhausted.json").read_bytes()),
        )
        monkeypatch.setenv("ROTA_CLAUDE_USAGE_URL", srv.url + "/usage")
        yield {"home": home, "server": srv, "tmp": tmp_path}


def run(capfd: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out = capfd.readouterr()
    return code, out.out, out.err


def row(rows: list[dict], scope: str, window: str, source: str) -> dict:
    found = [
        r for r in rows if r["scope"] == scope and r["window"] == window and r["source"] == source
    ]
    assert len(found) == 1, (scope, window, source, rows)
    return found[0]


def test_quota_json_reports_the_fixture_figures(world, capfd: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capfd, "quota", "--json")
    assert code == 0, err
    rows = json.loads(out)["windows"]
    five = row(rows, "claude-code", "five_hour", "api")
    assert five["used_percent"] == 37.0 and five["status"] == "ok"
    assert five["resets_at_iso"] == "2026-11-27T23:59:59.615641Z"
    week = row(rows, "claude-code", "seven_day", "api")
    assert week["used_percent"] == 81.0 and week["resets_at_iso"] == "2026-12-01T08:00:00.615661Z"
    opus = row(rows, "claude-code:opus", "seven_day_opus", "api")
    assert opus["used_percent"] == 93.0 and opus["scope_kind"] == "arm"
    cx5 = row(rows, "codex", "five_hour", "logs")
    assert cx5["used_percent"] == 58.0 and cx5["resets_at_iso"] == "2026-11-27T22:10:00Z"
    assert cx5["resets_in"] == "in 3h 10m" and cx5["resets_local"] == "2026-11-27 22:10 UTC"
    cx7 = row(rows, "codex", "seven_day", "logs")
    assert cx7["used_percent"] == 74.0 and cx7["resets_at_iso"] == "2026-12-01T08:00:00Z"
    assert row(rows, "chatgpt", "seven_day", "logs")["scope_kind"] == "pool"
    assert FAKE_TOKEN not in out + err


def test_quota_table_and_blocks(world, capfd: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capfd, "block", "gptme", "--for", "2h", "--reason", "testing")
    assert code == 0, err
    code, out, err = run(capfd, "quota")
    assert code == 0, err
    lines = out.splitlines()
    assert all(len(line) <= 100 for line in lines), max(lines, key=len)
    heads = {line.split()[0]: line for line in lines if not line.startswith(" ")}
    # One line per scope, with the state that wins and why.
    assert heads["claude-code"].split()[1] == "ok" and "fullest window seven_day at 81%" in heads[
        "claude-code"
    ]
    assert heads["gptme"].split()[1] == "blocked" and "testing" in heads["gptme"]
    assert "; until " in heads["gptme"]  # (the block was made on the real clock)
    assert heads["claude-code:opus"].split()[1] == "ok"
    assert any(line.startswith("pool chatgpt") for line in lines)
    # A usage bar per window, with its reset in the one format for people.
    five = next(line for line in lines if line.strip().startswith("five_hour") and "37%" in line)
    bars = ("[" + "#" * 7 + "-" * 13 + "]", "[" + "\u2588" * 7 + "\u2591" * 13 + "]")
    assert any(b in five for b in bars) and "resets 2026-11-27 23:59 UTC (in 5h)" in five
    # A scope with one window exhausted is exhausted, whatever its other windows say.
    code, out, err = run(capfd, "quota", "--json")
    data = json.loads(out)
    assert data["schema_version"] == 1
    scopes = {s["scope"]: s for s in data["scopes"]}
    assert scopes["gptme"]["state"] == "blocked" and scopes["gptme"]["until_iso"].endswith("Z")


def test_quota_one_state_per_scope(world, capfd: pytest.CaptureFixture[str], monkeypatch) -> None:
    srv = world["server"]
    monkeypatch.setenv("ROTA_CLAUDE_USAGE_URL", srv.url + "/exhausted")
    code, out, err = run(capfd, "quota", "--refresh")
    assert code == 0, err
    heads = [line for line in out.splitlines() if line.startswith("claude-code ")]
    assert len(heads) == 1 and heads[0].split()[1] == "exhausted", out
    assert "until 2026-11-27 23:00 UTC (in 4h)" in heads[0]
    windows = out.split(heads[0])[1].split("\n")[1:3]
    assert any("ok" not in w and "[" in w for w in windows)


def test_select_excludes_exactly_the_exhausted_arms(
    world, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    srv = world["server"]
    monkeypatch.setenv("ROTA_CLAUDE_USAGE_URL", srv.url + "/exhausted")
    code, out, err = run(capfd, "select", "--json", "--seed", "1")
    assert code == 0, err
    d = json.loads(out)
    cands = {c["arm"]: c for c in d["candidates"]}
    excluded = {a for a, c in cands.items() if not c["eligible"]}
    assert excluded == {"claude-code:opus", "claude-code:sonnet"}
    for a in excluded:
        assert cands[a]["until"] == datetime(2026, 11, 27, 23, tzinfo=UTC).timestamp()
        assert "exhausted" in cands[a]["reason"] and "2026-11-27T23:00:00Z" in cands[a]["reason"]
    assert d["arm"] in ("codex:gpt-5.4", "gptme:openai/gpt-5.4")
    code, out, _ = run(capfd, "select", "--explain", "--seed", "1")
    assert code == 0 and "until 2026-11-27 23:00 UTC (in 4h)" in out  # the one format for people

    # Codex's 5-hour window runs out: codex and, through the chatgpt pool, gptme's openai model.
    day = world["home"] / ".codex" / "sessions" / "2026" / "11" / "27"
    line = {
        "timestamp": "2026-11-27T18:58:00Z",
        "type": "event_msg",
        "payload": {
            "type": "token_count",
            "rate_limits": {
                "primary": {"used_percent": 100.0, "window_minutes": 300, "resets_at": 1795817400}
            },
        },
    }
    (day / "rollout-2026-11-27T18-50-00-limit.jsonl").write_text(json.dumps(line) + "\n")
    code, out, err = run(capfd, "select", "--json", "--seed", "1")
    assert code == 0, err  # cached: the probe answer is less than 5 minutes old
    code, out, _ = run(capfd, "quota", "--refresh", "--json")
    code, out, err = run(capfd, "select", "--json", "--seed", "1")
    assert code == 76
    d = json.loads(out)
    assert d["arm"] is None and d["earliest_reset"] == 1795817400.0
    cands = {c["arm"]: c for c in d["candidates"]}
    assert "pool chatgpt" in cands["gptme:openai/gpt-5.4"]["reason"]
    assert "harness codex" in cands["codex:gpt-5.4"]["reason"]


def test_real_cli_never_prints_the_token(rota_env, fixtures_dir: Path) -> None:
    """The installed command, as a real process with the real clock, with every endpoint answer."""
    fixture_home(fixtures_dir, rota_env.root / "home")
    rota_env.config.write_text(CONFIG.format(ws=rota_env.workspace))
    with usage_server() as srv:
        routes = {
            "/ok": Route(200, (fixtures_dir / "claude" / "oauth_usage.json").read_bytes()),
            "/401": Route(401, b"{}"),
            "/403": Route(403, b"{}"),
            "/429": Route(429, b""),
            "/garbage": Route(200, b"\x00garbage"),
        }
        for path, route in routes.items():
            srv.route(path, route)
            rota_env.env["ROTA_CLAUDE_USAGE_URL"] = srv.url + path
            commands = [("quota", "--json", "--refresh"), ("doctor",)]
            if path == "/401":
                commands += [("quota", "--refresh"), ("doctor", "--json"), ("status",)]
            for args in commands:
                p = rota_env.run(*args)
                assert FAKE_TOKEN not in p.stdout + p.stderr, (path, args)
                assert "Traceback" not in p.stderr, p.stderr
        q = json.loads(rota_env.run("quota", "--json", "--refresh").stdout)["windows"]
        assert any(
            r["source"] == "api" and r["window"] == "api" and r["available"] is None for r in q
        )
        rota_env.env["ROTA_CLAUDE_USAGE_URL"] = srv.url + "/ok"
        q = json.loads(rota_env.run("quota", "--json", "--refresh").stdout)["windows"]
        assert row(q, "claude-code", "five_hour", "api")["used_percent"] == 37.0
    # Nothing the store or the logs directory holds has the token either.
    for f in rota_env.state.rglob("*"):
        if f.is_file():
            assert FAKE_TOKEN.encode() not in f.read_bytes(), f


def _fake_bin(dirpath: Path, name: str) -> None:
    dirpath.mkdir(parents=True, exist_ok=True)
    p = dirpath / name
    p.write_text("#!/bin/sh\nexit 0\n")
    p.chmod(p.stat().st_mode | stat.S_IXUSR)


def test_doctor(rota_env, fixtures_dir: Path) -> None:
    home = fixture_home(fixtures_dir, rota_env.root / "home")
    subprocess.run(["git", "init", "-q", str(rota_env.workspace)], check=True)
    rota_env.config.write_text(CONFIG.format(ws=rota_env.workspace))
    bindir = rota_env.root / "bin"
    _fake_bin(bindir, "claude")
    _fake_bin(bindir, "gptme")
    rota_env.env["PATH"] = f"{bindir}:/usr/bin:/bin"
    rota_env.env["ROTA_CLAUDE_USAGE_URL"] = "http://127.0.0.1:9/unreachable"
    for k in ("OPENAI_API_KEY", "CODEX_API_KEY", "ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN"):
        rota_env.env.pop(k, None)
    rota_env.env.pop("IS_SANDBOX", None)
    if os.geteuid() == 0:  # as root, claude refuses bypassPermissions without IS_SANDBOX=1
        p = rota_env.run("doctor")
        assert "claude-code: fail" in p.stdout, p.stdout
        assert "refuses to skip its permission prompts as root" in p.stdout
        assert 'IS_SANDBOX = "1"' in p.stdout  # the fix
        rota_env.env["IS_SANDBOX"] = "1"
    p = rota_env.run("doctor")
    assert p.returncode == 1, p.stdout + p.stderr
    assert "codex: fail" in p.stdout and "'codex' is not on PATH" in p.stdout
    assert "npm install -g @openai/codex" in p.stdout
    assert "cannot run: codex" in p.stdout
    d = json.loads(rota_env.run("doctor", "--json").stdout)
    by = {h["harness"]: h for h in d["harnesses"]}
    assert by["claude-code"]["can_run"] and not by["codex"]["can_run"]
    checks = {c["check"]: c for c in by["claude-code"]["checks"]}
    assert checks["auth"]["level"] == "ok" and ".credentials.json" in checks["auth"]["detail"]
    # The endpoint is unreachable: the logs answer, and doctor says what it got.
    assert "unreachable" in checks["quota"]["detail"]
    codex_checks = {c["check"]: c for c in by["codex"]["checks"]}
    assert codex_checks["auth"]["level"] == "warn" and "codex" in codex_checks["auth"]["fix"]
    assert "58%" in codex_checks["quota"]["detail"] or "0%" in codex_checks["quota"]["detail"]

    # With codex installed and logged in (by env var) every harness can run.
    _fake_bin(bindir, "codex")
    rota_env.env["OPENAI_API_KEY"] = "sk-test-not-printed"
    p = rota_env.run("doctor")
    assert p.returncode == 0, p.stdout
    assert "$OPENAI_API_KEY is set" in p.stdout and "sk-test-not-printed" not in p.stdout
    (home / ".claude" / ".credentials.json").unlink()
    shutil.rmtree(home / ".claude" / "projects")
    p = rota_env.run("doctor")
    assert p.returncode == 0  # a missing login is a warning: the harness may still find one
    assert "no login found" in p.stdout


def test_doctor_config_problems(rota_env) -> None:
    rota_env.config.write_text(
        f'[workspace]\npath = "{rota_env.workspace}"\n'
        '[harnesses.mytool]\ncommand = ["sh", "-c", "true"]\n[harnesses.mytool.models]\nm = "low"\n'
    )
    p = rota_env.run("doctor")
    assert p.returncode == 1
    assert "never passes the prompt" in p.stdout and "fix: put {prompt}" in p.stdout
    rota_env.config.write_text(f'[workspace]\npath = "{rota_env.workspace}"\n')
    p = rota_env.run("doctor")
    assert p.returncode == 1 and "no harness is enabled" in p.stdout
