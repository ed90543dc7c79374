"""`rota run` end to end with fake harnesses: a graded session, argv and env, dry run, 76, 70."""

from __future__ import annotations

import hashlib
import json
import stat
import time
from pathlib import Path

import pytest

from run_support import AGENT_CONFIG, AGENT_OK_REWARD, RunEnv, gain, new_run_env


@pytest.fixture
def run_env(tmp_path: Path) -> RunEnv:
    return new_run_env(tmp_path)


SECRET = "sk-ant-oat01-THISISAFAKESECRETVALUE0123456789"


def test_completed_session_is_committed_graded_logged_and_learnt(run_env: RunEnv) -> None:
    run_env.config_with(AGENT_CONFIG)
    head = run_env.head()
    code, out, err = run_env.run_json("run")
    assert code == 0, err
    s = out["session"]
    assert s["status"] == "completed" and s["arm"] == "agent:m1" and s["exit_code"] == 0
    assert gain(s, "finished") == 1.0
    assert gain(s, "commits") == 0.5 and s["detail"]["workspace"]["commits"] == 1
    assert gain(s, "size") > 0 and s["detail"]["workspace"]["files_touched"] == 1
    assert s["detail"]["workspace"]["head_before"] == head != run_env.head()
    assert s["reward"] == pytest.approx(AGENT_OK_REWARD, abs=1e-5)
    assert "1 commit kept" in "\n".join(s["signals"]["reasons"])
    # The log: owner-only, in an owner-only directory, with the harness output and rota's notes.
    log = run_env.state / "logs"
    assert stat.S_IMODE(log.stat().st_mode) == 0o700
    log_file = s["log_path"]
    from pathlib import Path

    assert stat.S_IMODE(Path(log_file).stat().st_mode) == 0o600
    text = Path(log_file).read_text()
    assert "fake agent ok" in text and "[rota] session 1 arm agent:m1" in text
    prompt_file = Path(s["detail"]["prompt_file"])
    assert stat.S_IMODE(prompt_file.stat().st_mode) == 0o600
    # Learnt: the posterior of (code, agent:m1) has one observation; journal lines on stderr.
    assert run_env.n("agent:m1") == 1
    assert "rota: outcome session=1 status=completed" in err
    assert "rota: grade session=1 reward=0.35 finished=1 commits=0.5 size=0.099 pr=0" in err


def test_argv_is_built_per_element_never_through_a_shell(run_env: RunEnv) -> None:
    run_env.config_with(
        AGENT_CONFIG.replace(
            'command = ["agent", "{{model}}", "{{prompt}}"]',
            'command = ["agent", "{{model}}", "--file={{prompt_file}}", "{{workspace}}", '
            '"{{category}}", "{{prompt}}", "{{unknown}}"]',
        )
    )
    prompt = run_env.root / "p.md"
    prompt.write_text("fix $(rm -rf /) and `echo {model}`; {category}\n")
    code, out, err = run_env.run_json(
        "run", "--prompt-file", str(prompt), "--category", "strategic"
    )
    assert code == 0, err
    (call,) = run_env.calls()
    pf = out["session"]["detail"]["prompt_file"]
    assert call["argv"] == [
        "m1",
        f"--file={pf}",
        str(run_env.workspace),
        "strategic",
        prompt.read_text(),
        "{unknown}",
    ]
    assert call["cwd"] == str(run_env.workspace)
    assert call["pgid"] == call["pid"] == call["sid"]  # its own process group and session
    from pathlib import Path

    assert Path(pf).read_text() == prompt.read_text()
    assert call["env"]["ROTA_CATEGORY"] == "strategic"
    assert call["env"]["ROTA_SESSION_ID"] == str(out["session"]["id"])


def test_harness_env_from_config_reaches_the_harness_and_is_never_logged(run_env: RunEnv) -> None:
    run_env.config_with(extra='[rules.code]\npin = ["claude-code:sonnet"]')
    proc = run_env.run("run", "--json")
    assert proc.returncode == 0, proc.stderr
    (call,) = run_env.calls()
    assert call["secret_sha"] == hashlib.sha256(SECRET.encode()).hexdigest()
    session = json.loads(proc.stdout)["session"]
    from pathlib import Path

    assert "FAKE_SECRET" in Path(session["log_path"]).read_text()  # the name, not the value
    for text in (
        proc.stdout,
        proc.stderr,
        Path(session["log_path"]).read_text(),
        run_env.run("sessions", "--json").stdout,
        (run_env.state / "rota.db").read_bytes().decode("latin-1"),
    ):
        assert SECRET not in text


def test_dry_run_shows_decision_and_exact_argv_and_runs_nothing(run_env: RunEnv) -> None:
    run_env.config_with(AGENT_CONFIG)
    proc = run_env.run("run", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "would run agent:m1 for code" in proc.stdout
    argv_line = next(x for x in proc.stdout.splitlines() if x.startswith("argv: "))
    argv = json.loads(argv_line[len("argv: ") :])
    assert argv[:2] == ["agent", "m1"] and "Commit your work" in argv[2]
    code, out, _ = run_env.run_json("run", "--dry-run", "--seed", "3")
    assert code == 0 and out["status"] == "dry_run" and out["argv"][0] == "agent"
    assert out["decision"]["arm"] == "agent:m1"
    assert run_env.calls() == []
    assert run_env.sessions() == []


def test_nothing_usable_exits_76_with_the_earliest_reset(run_env: RunEnv) -> None:
    run_env.config_with(AGENT_CONFIG)
    until = int(time.time()) + 7200
    run_env.run("block", "agent:m1", "--until", str(until), check=True)
    code, out, err = run_env.run_json("run")
    assert code == 76
    assert out["status"] == "exhausted" and abs(out["earliest_reset"] - until) < 1
    proc = run_env.run("run")
    assert proc.returncode == 76 and "earliest reset" in proc.stderr
    assert run_env.calls() == [] and run_env.sessions() == []


def test_crash_exits_70_and_a_crash_loop_blocks_the_arm(run_env: RunEnv) -> None:
    run_env.config_with(AGENT_CONFIG)
    run_env.queue("agent", "crash", "crash", "crash")
    for _ in range(3):
        code, out, err = run_env.run_json("run")
        assert code == 70, err
        s = out["session"]
        assert s["status"] == "crashed" and s["exit_code"] == 2
        assert gain(s, "finished") == 0.0 and s["reward"] == 0.0  # graded: it ran and failed
    assert out["session"]["detail"]["crash_loop"] == 3
    (block,) = run_env.blocks()
    assert block["scope"] == "arm:agent:m1" and block["source"] == "backoff"
    assert "crash loop" in block["reason"]
    code, out, _ = run_env.run_json("run")
    assert code == 76


def test_a_missing_executable_is_unavailable_and_holds_the_harness_until_its_config_changes(
    run_env: RunEnv,
) -> None:
    run_env.config_with(AGENT_CONFIG.replace('["agent",', '["no-such-agent-cli-xyz",'))
    code, out, err = run_env.run_json("run")
    assert code == 70, err
    s = out["session"]
    assert s["status"] == "unavailable" and s["reward"] is None
    assert s["detail"]["infra"]["kind"] == "cli"
    assert "executable not found" in s["detail"]["error"]
    assert [b["scope"] for b in run_env.blocks()] == ["harness:agent"]
    assert run_env.n("agent:m1") == 0
    code, _, _ = run_env.run_json("run")
    assert code == 76  # held: nothing else to run
    run_env.config_with(AGENT_CONFIG)  # the person fixed the command
    run_env.queue("agent", "ok")
    code, out, err = run_env.run_json("run")
    assert code == 0 and out["session"]["status"] == "completed", err
    assert run_env.blocks() == []


def test_config_errors_exit_78_and_a_missing_workspace_too(run_env: RunEnv) -> None:
    run_env.config.write_text("[run]\nbogus = 1\n")
    proc = run_env.run("run")
    assert proc.returncode == 78 and "bogus" in proc.stderr
    run_env.config_with(AGENT_CONFIG)
    proc = run_env.run("run", "--workspace", str(run_env.root / "nope"))
    assert proc.returncode == 78 and "does not exist" in proc.stderr
    assert run_env.sessions() == []
