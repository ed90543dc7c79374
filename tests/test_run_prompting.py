"""Category and prompt: --category / category_command / default; --prompt-file / prompt_command /
prompt_file / prompt. A failing command is a clear error (78) and no session starts."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from run_support import AGENT_CONFIG, RUN_CONFIG, RunEnv, new_run_env


@pytest.fixture
def run_env(tmp_path: Path) -> RunEnv:
    return new_run_env(tmp_path)


PY = json.dumps(sys.executable)


def _prompt_of(run_env: RunEnv) -> str:
    (call,) = run_env.calls()
    return call["argv"][1]


def test_category_from_the_category_command(run_env: RunEnv) -> None:
    run_env.config_with(
        AGENT_CONFIG, run=f'category_command = [{PY}, "-c", "print(\'infrastructure\')"]'
    )
    code, out, err = run_env.run_json("run")
    assert code == 0, err
    assert out["session"]["category"] == "infrastructure"
    # --category wins over the command.
    code, out, err = run_env.run_json("run", "--category", "strategic")
    assert out["session"]["category"] == "strategic"


def test_an_unknown_category_from_the_command_is_78_and_nothing_starts(run_env: RunEnv) -> None:
    run_env.config_with(AGENT_CONFIG, run=f'category_command = [{PY}, "-c", "print(\'bogus\')"]')
    proc = run_env.run("run")
    assert proc.returncode == 78
    assert "run.category_command" in proc.stderr and "'bogus'" in proc.stderr
    assert "no session started" in proc.stderr
    assert run_env.calls() == [] and run_env.sessions() == []


def test_a_failing_category_command_is_78(run_env: RunEnv) -> None:
    run_env.config_with(
        AGENT_CONFIG,
        run=f'category_command = [{PY}, "-c", "import sys; sys.exit(\'tracker down\')"]',
    )
    proc = run_env.run("run")
    assert proc.returncode == 78
    assert "exit 1" in proc.stderr and "tracker down" in proc.stderr
    assert run_env.sessions() == []


def test_prompt_command_gets_the_category_in_argv_and_env(run_env: RunEnv) -> None:
    script = (
        "import os, sys; print(f'do {sys.argv[1]} work (env {os.environ[\\\"ROTA_CATEGORY\\\"]})')"
    )
    run_env.config_with(
        AGENT_CONFIG, run=f'prompt_command = [{PY}, "-c", "{script}", "{{category}}"]'
    )
    code, out, err = run_env.run_json("run", "--category", "infrastructure")
    assert code == 0, err
    assert _prompt_of(run_env) == "do infrastructure work (env infrastructure)\n"
    assert out["session"]["detail"]["prompt_source"] == "run.prompt_command"


def test_a_failing_prompt_command_is_78_no_session_and_the_lock_is_released(
    run_env: RunEnv,
) -> None:
    run_env.config_with(
        AGENT_CONFIG, run=f'prompt_command = [{PY}, "-c", "import sys; sys.exit(3)"]'
    )
    proc = run_env.run("run")
    assert proc.returncode == 78 and "run.prompt_command" in proc.stderr
    assert "exit 3" in proc.stderr
    assert run_env.calls() == [] and run_env.sessions() == []
    run_env.config_with(AGENT_CONFIG, run=f'prompt_command = [{PY}, "-c", "print()"]')
    proc = run_env.run("run")
    assert proc.returncode == 78 and "empty" in proc.stderr  # the lock was free: not a 75
    run_env.config_with(AGENT_CONFIG)
    assert run_env.run("run").returncode == 0


def test_prompt_file_relative_to_the_workspace_and_prompt_text(run_env: RunEnv) -> None:
    (run_env.workspace / "PROMPT.md").write_text("from the workspace file\n")
    run_env.config_with(AGENT_CONFIG, run='prompt_file = "PROMPT.md"')
    assert run_env.run("run").returncode == 0
    assert _prompt_of(run_env) == "from the workspace file\n"
    (run_env.fake_dir / "calls.jsonl").unlink()
    run_env.config_with(AGENT_CONFIG, run='prompt = "Next {category} task, please."')
    assert run_env.run("run", "--category", "strategic").returncode == 0
    assert _prompt_of(run_env) == "Next strategic task, please."
    (run_env.fake_dir / "calls.jsonl").unlink()
    override = run_env.root / "override.txt"
    override.write_text("the override")
    assert run_env.run("run", "--prompt-file", str(override)).returncode == 0
    assert _prompt_of(run_env) == "the override"


def test_bad_arguments_are_usage_errors(run_env: RunEnv) -> None:
    run_env.config_with(AGENT_CONFIG)
    proc = run_env.run("run", "--category", "nope")
    assert proc.returncode == 2 and "unknown category" in proc.stderr
    proc = run_env.run("run", "--prompt-file", str(run_env.root / "missing.txt"))
    assert proc.returncode == 2 and "cannot read --prompt-file" in proc.stderr
    assert run_env.sessions() == []


LONG_PROMPT = "Read all of this before you start. " * 6000  # 210 KB: no argument holds it
# (the built-in template sends it on stdin: tests/test_run_unavailable.py)


def test_a_long_prompt_with_a_command_of_ones_own_is_78_with_advice_for_that_cli(
    run_env: RunEnv,
) -> None:
    own = '[harnesses.claude-code]\ncommand = ["claude", "-p", "--model", "{{model}}", "{{prompt}}"]'
    run_env.config_with(
        RUN_CONFIG.replace("[harnesses.claude-code]", own, 1),
        extra='[rules.code]\npin = ["claude-code:sonnet"]',
    )
    prompt = run_env.root / "long.md"
    prompt.write_text(LONG_PROMPT)
    proc = run_env.run("run", "--prompt-file", str(prompt))
    assert proc.returncode == 78, proc.stderr
    assert "harnesses.claude-code.command" in proc.stderr
    assert "remove `command`" in proc.stderr and "on standard input" in proc.stderr
    assert run_env.calls() == []  # nothing started
