"""The LLM judge through `rota run` (a stand-in claude as the judge arm, a custom agent as the
judged one): its score counts, its own run is recorded as a session of the judge arm whose quota
use and limits count like any session's, and its failures leave the session graded from the rest.
The judge through the real claude-code CLI is in tests/realcli/."""

from __future__ import annotations

from pathlib import Path

import pytest

from run_support import AGENT_CONFIG, AGENT_OK_GAINS, AGENT_OK_REWARD, RunEnv, gain, new_run_env

JUDGE = """
[harnesses.claude-code]
env = { IS_SANDBOX = "1" }  # the suite runs as root, where claude refuses bypassPermissions
[harnesses.claude-code.models]
haiku = { tier = "low", cost = 0.5 }

[rules.code]
pin = ["agent:m1"]

[grading]
judge = "claude-code:haiku"
judge_timeout_seconds = 5
"""


@pytest.fixture
def run_env(tmp_path: Path) -> RunEnv:
    return new_run_env(tmp_path)


def judge_runs(run_env: RunEnv) -> list[dict]:
    return [s for s in run_env.sessions() if s["category"] == "judge"]


def test_the_judges_score_counts_and_its_run_is_recorded(run_env: RunEnv) -> None:
    run_env.config_with(AGENT_CONFIG, extra=JUDGE)
    run_env.queue("claude", "score:0.9")
    code, out, err = run_env.run_json("run")
    assert code == 0, err
    s = out["session"]
    assert gain(s, "judge") == 0.9
    assert s["signals"]["judge"]["reasons"] == ["fake judge: the work is what it is"]
    assert s["reward"] == pytest.approx(AGENT_OK_GAINS + 0.30 * 0.9, abs=1e-5)  # weights: 1.0
    (call,) = [c for c in run_env.calls() if c["name"] == "claude"]
    argv = call["argv"]
    assert argv[argv.index("--tools") + 1] == "" and "--model" in argv and "haiku" in argv
    assert call["cwd"] != str(run_env.workspace)  # an empty scratch directory
    (j,) = judge_runs(run_env)
    assert j["arm"] == "claude-code:haiku" and j["status"] == "completed" and j["reward"] is None
    assert j["detail"]["judge_of"] == s["id"] and j["detail"]["cost"]["usd"] == 0.0021
    assert run_env.n("claude-code:haiku") == 0  # a judge's run is never graded
    assert run_env.n("agent:m1") == 1


@pytest.mark.parametrize(
    ("mode", "status", "why"),
    [
        ("hang", "timed_out", "timed out"),
        ("nocommit", "completed", "no usable score"),  # a stream-json session, not a score
        ("crash", "crashed", "exit 2"),
        ("limit", "rate_limited", "rate limited"),
    ],
)
def test_a_failing_judge_leaves_the_session_graded_from_the_rest(
    run_env: RunEnv, mode: str, status: str, why: str
) -> None:
    run_env.config_with(AGENT_CONFIG, extra=JUDGE)
    run_env.queue("claude", mode)
    code, out, err = run_env.run_json("run")
    assert code == 0, err
    s = out["session"]
    assert s["status"] == "completed" and gain(s, "judge") is None
    assert s["reward"] == pytest.approx(AGENT_OK_REWARD, abs=1e-5)
    assert why in s["signals"]["errors"]["judge"]
    (j,) = judge_runs(run_env)
    assert j["status"] == status and j["reward"] is None
    if mode == "limit":  # the judge's limit blocks its arm (its weekly haiku pool) like any hit
        assert any(b["scope"] == "arm:claude-code:haiku" for b in run_env.blocks())
        code, out, err = run_env.run_json("run")  # next time it is blocked: not asked at all
        assert "is blocked" in out["session"]["signals"]["errors"]["judge"]
        assert len(judge_runs(run_env)) == 1


def test_a_judge_of_the_same_family_is_not_asked(run_env: RunEnv) -> None:
    extra = JUDGE.replace('pin = ["agent:m1"]', 'pin = ["claude-code:haiku"]')
    run_env.config_with(AGENT_CONFIG, extra=extra)
    run_env.queue("claude", "ok")
    code, out, err = run_env.run_json("run")
    s = out["session"]
    assert "same family" in s["signals"]["errors"]["judge"] and judge_runs(run_env) == []
