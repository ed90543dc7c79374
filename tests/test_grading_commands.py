"""The test and grader commands through `rota run`: a grader that fails or prints garbage is a
clear error recorded with the session, which is still recorded and graded from the rest; the
tests run after the session (and before it with [grading] test_before = true)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from run_support import (
    AGENT_CONFIG,
    AGENT_OK_GAINS,
    AGENT_OK_REWARD,
    RunEnv,
    gain,
    new_run_env,
)


@pytest.fixture
def run_env(tmp_path: Path) -> RunEnv:
    return new_run_env(tmp_path)


PY = json.dumps(sys.executable)


def _grader(run_env: RunEnv, body: str) -> str:
    p = run_env.root / "grader.py"
    p.write_text(body)
    return f"grader_command = [{PY}, {json.dumps(str(p))}]"


def test_a_grader_that_fails_is_a_recorded_error(run_env: RunEnv) -> None:
    run_env.config_with(
        AGENT_CONFIG,
        run=_grader(
            run_env, "import sys\nprint('judge unavailable', file=sys.stderr)\nsys.exit(3)\n"
        ),
    )
    code, out, err = run_env.run_json("run")
    assert code == 0, err  # the session ran to its end
    s = out["session"]
    assert s["status"] == "completed"
    errors = s["signals"]["errors"]
    assert "exit 3" in errors["grader"] and "judge unavailable" in errors["grader"]
    assert gain(s, "grader") is None
    assert s["reward"] == pytest.approx(AGENT_OK_REWARD, abs=1e-5)  # graded from the rest
    assert "grader_error" in err
    assert [x["id"] for x in run_env.sessions()] == [s["id"]]
    assert run_env.n("agent:m1") == 1


def test_a_grader_printing_garbage_is_a_recorded_error(run_env: RunEnv) -> None:
    run_env.config_with(AGENT_CONFIG, run=_grader(run_env, "print('banana')\n"))
    run_env.queue("agent", "nocommit")
    code, out, err = run_env.run_json("run")
    assert code == 0, err
    s = out["session"]
    assert "'banana'" in s["signals"]["errors"]["grader"]
    assert s["reward"] == pytest.approx(0.10 / 0.70, abs=1e-6)  # finished, nothing else done
    proc = run_env.run("sessions", "--json")
    assert "banana" in proc.stdout  # `rota sessions --json` shows why


def test_a_grader_gets_the_session_as_json_and_its_score_counts(run_env: RunEnv) -> None:
    seen = run_env.root / "seen.json"
    run_env.config_with(
        AGENT_CONFIG,
        run=_grader(
            run_env,
            "import json, os, sys\n"
            "data = json.load(sys.stdin)\n"
            "data['env_session'] = os.environ['ROTA_SESSION_ID']\n"
            f"open({str(seen)!r}, 'w').write(json.dumps(data))\n"
            "print('reading the log...')\n"
            "print(json.dumps({'score': 0.2}))\n",
        ),
    )
    code, out, err = run_env.run_json("run")
    assert code == 0, err
    s = out["session"]
    assert gain(s, "grader") == 0.2
    assert s["reward"] == pytest.approx((AGENT_OK_GAINS + 0.30 * 0.2) / 1.0, abs=1e-5)
    data = json.loads(seen.read_text())
    assert data["session_id"] == s["id"] and data["env_session"] == str(s["id"])
    assert data["arm"] == "agent:m1" and data["status"] == "completed" and data["exit_code"] == 0
    assert Path(data["log_path"]).read_text().startswith("[rota] session")
    assert data["workspace"]["commits"] == 1 and data["trajectory"]["source"] == "text output"
    assert data["grade"]["reward"] == pytest.approx(AGENT_OK_REWARD, abs=1e-5)


CHECK = "import pathlib, sys; sys.exit(0 if list(pathlib.Path('.').glob('work-*.txt')) else 1)"


def test_the_test_command_runs_after_the_session_in_the_workspace(run_env: RunEnv) -> None:
    run_env.config_with(AGENT_CONFIG, run=f'test_command = [{PY}, "-c", {json.dumps(CHECK)}]')
    run_env.queue("agent", "nocommit", "ok")
    code, out, err = run_env.run_json("run")
    assert code == 0, err
    s = out["session"]
    assert gain(s, "tests") == 0.0 and s["detail"]["workspace"]["tests_before"] is None
    code, out, err = run_env.run_json("run")
    s = out["session"]
    assert gain(s, "tests") == 0.6  # passing after, not run before
    assert s["reward"] == pytest.approx(AGENT_OK_GAINS + 0.30 * 0.6, abs=1e-5)
    log = Path(s["log_path"]).read_text()
    assert "tests after the session: exit 0" in log
    assert "tests before" not in log


def test_with_test_before_tests_turned_green_count_fully(run_env: RunEnv) -> None:
    run_env.config_with(
        AGENT_CONFIG,
        run=f'test_command = [{PY}, "-c", {json.dumps(CHECK)}]',
        extra="[grading]\ntest_before = true",
    )
    run_env.queue("agent", "nocommit", "ok", "ok")
    code, out, err = run_env.run_json("run")
    s = out["session"]
    assert gain(s, "tests") == 0.0 and s["detail"]["workspace"]["tests_before"]["passed"] is False
    code, out, err = run_env.run_json("run")
    s = out["session"]
    assert gain(s, "tests") == 1.0  # failing before, passing after
    assert s["reward"] == pytest.approx(AGENT_OK_GAINS + 0.30, abs=1e-5)
    assert "tests before the session: exit 1" in Path(s["log_path"]).read_text()
    code, out, err = run_env.run_json("run")
    assert gain(out["session"], "tests") == 0.6  # passing before and after


def test_weights_come_from_the_config(run_env: RunEnv) -> None:
    # The old names still work: exit -> finished, files -> size.
    run_env.config_with(
        AGENT_CONFIG, extra="[grading.weights]\nexit = 0\ncommits = 1\nfiles = 0\npr = 0"
    )
    run_env.queue("agent", "touch")
    code, out, err = run_env.run_json("run")
    s = out["session"]
    gains = s["signals"]["grade"]["gains"]
    assert gains["size"]["value"] > 0 and gains["size"]["weight"] == 0.0
    assert gains["commits"]["value"] == 0.0 and gains["commits"]["weight"] == 1.0
    assert s["reward"] == 0.0
