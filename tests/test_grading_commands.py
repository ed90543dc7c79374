"""The test and grader commands through `rota run`: a grader that fails or prints garbage is a
clear error recorded with the session, which is still recorded and graded from the rest."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from run_support import AGENT_CONFIG, RunEnv, new_run_env


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
    assert "grader" not in s["signals"]["weights"]
    assert s["reward"] == 1.0  # from exit, commits, files
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
    assert s["reward"] == pytest.approx(0.25 / 0.65, abs=1e-6)  # exit 1, commits 0, files 0
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
    assert s["signals"]["grader"] == 0.2
    assert s["reward"] == pytest.approx((0.25 + 0.3 + 0.1 + 0.5 * 0.2) / 1.15, abs=1e-6)
    data = json.loads(seen.read_text())
    assert data["session_id"] == s["id"] and data["env_session"] == str(s["id"])
    assert data["arm"] == "agent:m1" and data["status"] == "completed" and data["exit_code"] == 0
    assert Path(data["log_path"]).read_text().startswith("[rota] session")
    assert data["signals"]["commits"] == 1.0 and data["facts"]["commits"] == 1


def test_the_test_command_runs_after_the_session_in_the_workspace(run_env: RunEnv) -> None:
    check = "import pathlib, sys; sys.exit(0 if list(pathlib.Path('.').glob('work-*.txt')) else 1)"
    run_env.config_with(AGENT_CONFIG, run=f'test_command = [{PY}, "-c", {json.dumps(check)}]')
    run_env.queue("agent", "nocommit", "ok")
    code, out, err = run_env.run_json("run")
    assert code == 0, err
    assert out["session"]["signals"]["tests"] == 0.0
    code, out, err = run_env.run_json("run")
    assert out["session"]["signals"]["tests"] == 1.0 and out["session"]["reward"] == 1.0
    assert "test command: exit 0" in Path(out["session"]["log_path"]).read_text()


def test_weights_come_from_the_config(run_env: RunEnv) -> None:
    run_env.config_with(AGENT_CONFIG, extra="[grading.weights]\nexit = 0\ncommits = 1\nfiles = 0")
    run_env.queue("agent", "touch")
    code, out, err = run_env.run_json("run")
    s = out["session"]
    assert s["signals"]["files"] == 1.0 and s["signals"]["commits"] == 0.0
    assert s["reward"] == 0.0 and s["signals"]["weights"] == {"commits": 1.0}
