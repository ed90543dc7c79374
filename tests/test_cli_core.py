"""The core commands as a user runs them: real subprocesses against a real SQLite file."""

from __future__ import annotations

import json
import stat
import time

from conftest import RotaEnv


def test_init_writes_a_valid_commented_config_and_never_overwrites(rota_env: RotaEnv) -> None:
    rota_env.git_init()
    proc = rota_env.run("init", "--workspace", str(rota_env.workspace), check=True)
    text = rota_env.config.read_text()
    for name in ("claude-code", "codex", "gptme", "copilot", "gemini", "aider", "opencode"):
        assert f"[harnesses.{name}]" in text
    assert "enabled = false" in text  # no agent CLI is on PATH here
    assert stat.S_IMODE(rota_env.config.stat().st_mode) == 0o600
    rota_env.config.write_text(text + "\n# mine\n")
    proc = rota_env.run("init", check=True)
    assert "left unchanged" in proc.stderr and rota_env.config.read_text().endswith("# mine\n")
    rota_env.run("init", "--force", "--workspace", str(rota_env.workspace), check=True)
    assert not rota_env.config.read_text().endswith("# mine\n")


def test_init_enables_harnesses_found_on_path(rota_env: RotaEnv) -> None:
    bin_dir = rota_env.root / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "codex"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    rota_env.env["PATH"] = f"{bin_dir}:{rota_env.env['PATH']}"
    rota_env.run("init", "--workspace", str(rota_env.git_init()), check=True)
    text = rota_env.config.read_text()
    codex = text.split("[harnesses.codex]")[1].split("[harnesses.")[0]
    assert "enabled = true" in codex and str(fake) in codex
    gptme = text.split("[harnesses.gptme]")[1].split("[harnesses.")[0]
    assert "enabled = false" in gptme


def test_quick_start_chain_works_on_a_fresh_machine(rota_env: RotaEnv) -> None:
    # The README's quick start: a fresh git repository to try rota on, then init and a decision.
    rota_env.git_init()
    rota_env.run("init", "--enable-all", "--workspace", str(rota_env.workspace), check=True)
    proc = rota_env.run("select", "--explain", check=True)
    assert "category code: chose" in proc.stdout


def test_select_json_explain_and_seed(rota_env: RotaEnv) -> None:
    rota_env.write_config()
    proc = rota_env.run("select", "--json", "--seed", "3", "--category", "strategic", check=True)
    d = json.loads(proc.stdout)
    assert d["arm"] == "claude-code:opus" and d["harness"] == "claude-code" and d["model"] == "opus"
    assert d["category"] == "strategic" and d["earliest_reset"] is None
    arms = {c["arm"]: c for c in d["candidates"]}
    assert set(arms) == {"claude-code:opus", "claude-code:sonnet", "codex:gpt-5.4", "gptme:glm-5"}
    assert "below min_tier high" in arms["gptme:glm-5"]["reason"]
    again = json.loads(
        rota_env.run("select", "--json", "--seed", "3", "--category", "strategic").stdout
    )
    assert [c["sample"] for c in again["candidates"]] == [c["sample"] for c in d["candidates"]]
    out = rota_env.run("select", "--explain", "--category", "triage", check=True).stdout
    assert "above max_tier" in out and "90% interval" in out


def test_unknown_category_is_a_usage_error(rota_env: RotaEnv) -> None:
    rota_env.write_config()
    proc = rota_env.run("select", "--category", "cooking")
    assert proc.returncode == 2 and "configured categories" in proc.stderr


def test_block_everything_exits_76_with_earliest_reset(rota_env: RotaEnv) -> None:
    rota_env.write_config()
    for target, dur in (("claude-code", "2h"), ("codex", "30m"), ("gptme", "1d")):
        rota_env.run("block", target, "--for", dur, "--reason", "test", check=True)
    t0 = time.time()
    proc = rota_env.run("select", "--json")
    assert proc.returncode == 76
    d = json.loads(proc.stdout)
    assert d["arm"] is None
    assert t0 + 29 * 60 < d["earliest_reset"] < t0 + 31 * 60
    proc = rota_env.run("select")
    assert proc.returncode == 76 and "earliest reset" in proc.stderr
    rota_env.run("unblock", "codex", check=True)
    assert json.loads(rota_env.run("select", "--json", check=True).stdout)["arm"] == "codex:gpt-5.4"


def test_block_validates_targets_and_times(rota_env: RotaEnv) -> None:
    rota_env.write_config()
    assert rota_env.run("block", "nope", "--for", "1h").returncode == 2
    assert rota_env.run("block", "codex:gpt-9", "--for", "1h").returncode == 2
    assert rota_env.run("block", "codex", "--for", "soon").returncode == 2
    assert rota_env.run("block", "codex", "--until", "2001-01-01T00:00Z").returncode == 2
    proc = rota_env.run(
        "block", "claude-code:opus", "--until", "2099-01-01T00:00Z", "--json", check=True
    )
    assert json.loads(proc.stdout)["scope"] == "claude-code:opus"


def test_quota_file_exhaustion_gates_selection(rota_env: RotaEnv) -> None:
    qfile = rota_env.root / "quota.json"
    qfile.write_text(
        json.dumps(
            [
                {
                    "scope": "harness:claude-code",
                    "available": False,
                    "resets_at": "2099-01-01T00:00:00Z",
                    "reason": "weekly cap",
                },
                {
                    "scope": "arm:codex:gpt-5.4",
                    "utilization": 1.0,
                    "resets_at": "2099-01-01T00:00:00Z",
                },
            ]
        )
    )
    from conftest import BASIC_CONFIG

    rota_env.write_config(BASIC_CONFIG + f'\n[quota]\nfile = "{qfile}"\n')
    d = json.loads(rota_env.run("select", "--json", check=True).stdout)
    assert d["arm"] == "gptme:glm-5"
    reasons = {c["arm"]: c["reason"] for c in d["candidates"]}
    assert (
        "exhausted" in reasons["claude-code:opus"] and "weekly cap" in reasons["claude-code:opus"]
    )
    assert "exhausted" in reasons["codex:gpt-5.4"]
    qfile.write_text("{not json")
    proc = rota_env.run("select", "--json")
    assert proc.returncode == 0 and "quota file" in proc.stderr  # reported, ignored, no crash


def test_grade_sessions_and_status(rota_env: RotaEnv) -> None:
    from rota.store.base import SessionOutcome

    rota_env.write_config()
    s = rota_env.store()
    sid = s.start_session(
        category="code",
        arm="codex:gpt-5.4",
        started_at=time.time() - 60,
        decision_id=None,
        pid=1,
        machine="m",
        workspace="w",
    )
    s.finish_session(
        sid,
        SessionOutcome(status="completed", ended_at=time.time(), reward=0.9, signals={"exit": 1.0}),
        half_life_s=14 * 86400,
    )
    s.close()
    proc = rota_env.run("grade", str(sid), "0.25", check=True)
    assert "0.90 -> 0.25" in proc.stdout
    assert rota_env.run("grade", "999", "0.5").returncode == 2
    assert rota_env.run("grade", str(sid), "1.5").returncode == 2
    sessions = json.loads(rota_env.run("sessions", "--json", check=True).stdout)["sessions"]
    assert sessions[0]["reward"] == 0.25 and sessions[0]["signals"]["exit"] == 1.0
    status = json.loads(rota_env.run("status", "--json", check=True).stdout)
    row = next(
        p for p in status["posteriors"] if p["category"] == "code" and p["arm"] == "codex:gpt-5.4"
    )
    assert row["n"] == 1 and row["interval90"][0] <= row["mean"] <= row["interval90"][1]
    text = rota_env.run("status", check=True).stdout
    assert "posteriors" in text and "recent sessions" in text and "codex:gpt-5.4" in text


def test_every_command_has_help() -> None:
    import subprocess
    import sys

    from rota.cli import COMMANDS

    for name in COMMANDS:
        proc = subprocess.run(
            [sys.executable, "-m", "rota.cli", name, "--help"], capture_output=True, text=True
        )
        assert proc.returncode == 0, (name, proc.stderr)
        assert "usage: rota" in proc.stdout
