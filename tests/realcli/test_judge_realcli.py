"""The LLM judge through the real claude-code CLI against the local Anthropic mock: `rota run`
with `[grading] judge` set runs a session, then the judge (`claude -p --tools ""`, no write
access) on its digest; the score and reasons are recorded. A judge that answers no score, is
rate-limited or times out leaves the session graded from the rest.
"""

from __future__ import annotations

import dataclasses
import json
import time

import pytest

from mockapi.plan import SCENARIOS, Scenario
from realcli.rota_run import rota_session
from realcli.session import MockInNamespace, base_env

pytestmark = [pytest.mark.realcli, pytest.mark.slow]


def sessions(run):
    """(the judged session, the judge's own run) from the store rota wrote."""
    from rota.store.sqlite import SQLiteStore

    with SQLiteStore(run.state / "rota.db") as store:
        recs = store.recent_sessions(10)
    judged = [r for r in recs if r.category != "judge"]
    runs = [r for r in recs if r.category == "judge"]
    return judged[0], runs


VERDICT = {"score": 0.8, "reasons": ["one clear answer", "nothing else was asked"]}
JUDGED = """
[grading]
judge = "claude-code:sonnet"
judge_exclude_same_family = false   # the only arm here judges its own sessions
judge_timeout_seconds = 60
"""


def test_a_session_is_judged_through_the_real_cli(real_cli, tmp_path) -> None:
    cli = real_cli("claude-code")
    # The mock answers every request with the verdict: the session's own answer, then the judge's.
    scenario = Scenario(
        "judged", prompt="Say how the work went, as JSON.", text=json.dumps(VERDICT)
    )
    run = rota_session(cli, scenario, tmp_path, config_extra=JUDGED)
    assert run.proc.returncode == 0, run.proc.stderr
    s, (judge_run,) = sessions(run)
    judge = s.signals["judge"]
    assert (
        judge["status"] == "ok" and judge["score"] == 0.8 and judge["reasons"] == VERDICT["reasons"]
    )
    assert s.signals["grade"]["gains"]["judge"]["value"] == 0.8
    # The judge's request carried no tools; the session's did.
    posts = [r for r in run.requests if r.get("method") == "POST"]
    assert posts[0]["tools"] and posts[-1]["tools"] == [] and len(posts) == 2
    log = open(s.log_path).read()
    assert "judge claude-code:sonnet: ok, score 0.80" in log
    # The judge's own run: a session of its arm, never graded, with what it cost.
    assert judge_run.arm == "claude-code:sonnet" and judge_run.reward is None
    assert judge_run.status == "completed" and judge_run.detail["judge_of"] == s.id
    assert judge_run.detail["cost"]["usd"] > 0


def test_a_judge_answer_without_a_score_leaves_the_session_graded(real_cli, tmp_path) -> None:
    cli = real_cli("claude-code")
    run = rota_session(cli, SCENARIOS["commit-one"], tmp_path, config_extra=JUDGED)
    s, _ = sessions(run)
    assert s.status == "completed" and s.reward is not None
    assert "judge" not in s.signals["grade"]["gains"]
    assert "no usable score" in s.signals["errors"]["judge"]
    assert s.detail["workspace"]["commits"] == 1


@pytest.mark.parametrize("kind", ["limit-session", "rate-limit", "hang"])
def test_a_rate_limited_or_hung_judge_is_a_verdict_without_a_score(
    real_cli, tmp_path, kind
) -> None:
    """The judge alone (rota.reward.judge.run_judge, the function `rota run` calls) against a
    provider that refuses or never answers: no score, and why."""
    import shlex

    from rota.harnesses.registry import profile_for
    from rota.reward.judge import run_judge

    cli = real_cli("claude-code")
    home, ws = tmp_path / "home", tmp_path / "ws"
    home.mkdir()
    ws.mkdir()
    scenario = SCENARIOS[kind]
    with MockInNamespace(scenario) as mock:
        env = base_env(home, ws)
        env.update(cli.prepare(home, ws, mock.api.url, scenario))
        # The judge runs inside the loopback-only namespace, where the mock listens.
        wrapper = tmp_path / "claude-in-ns"
        argv = " ".join(shlex.quote(a) for a in [*mock.ns.prefix(), str(cli.executable())])
        wrapper.write_text(f'#!/bin/sh\nexec {argv} "$@"\n')
        wrapper.chmod(0o755)
        prof = dataclasses.replace(profile_for("claude-code"), executable=str(wrapper))
        started = time.monotonic()
        v = run_judge(
            "claude-code:sonnet", "claude-code", prof, "## Task\nx", env=env, timeout_s=20
        )
    assert v.score is None and v.ran and v.error
    if kind == "limit-session":  # the subscription's five-hour window: a limit with its reset
        assert v.status == "rate_limited" and v.limit is not None and v.limit.resets_at
    elif kind == "rate-limit":  # an API key's plain 429: claude exits 1 with "API Error: … (429)"
        assert v.status in ("rate_limited", "failed") and "429" in v.error
    else:
        assert v.status == "timed_out" and time.monotonic() - started < 60
