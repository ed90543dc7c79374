"""Issue #3, done when: in a fresh temporary git repo with fake harnesses on PATH, 20 `rota run`
calls produce 20 session records with grades, posteriors that moved toward the better fake
harness, and blocks where a fake harness reported limits; `rota status` shows all of it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from run_support import RunEnv, new_run_env


@pytest.fixture
def run_env(tmp_path: Path) -> RunEnv:
    return new_run_env(tmp_path)


RUNS = 20


def test_twenty_runs_learn_block_and_show_in_status(run_env: RunEnv) -> None:
    # Fake claude commits every time (the better harness); fake codex finishes without doing
    # anything useful. Whichever harness gets the 5th and the 11th call reports a limit instead
    # (claude: its model's weekly pool; codex: "try again in 2 days 17 hours").
    run_env.config_with()
    run_env.env["FAKE_MODE"] = "ok"
    run_env.queue("codex", *["poor"] * RUNS)
    (run_env.fake_dir / "schedule.json").write_text(json.dumps({"5": "limit", "11": "limit"}))
    prior = {p["arm"]: p["mean"] for p in run_env.status()["posteriors"] if p["category"] == "code"}
    for _ in range(RUNS):
        proc = run_env.run("run", "--json")
        assert proc.returncode == 0, proc.stderr
    calls = run_env.calls()
    assert len(calls) == RUNS

    status = run_env.status()
    sessions = run_env.sessions()
    assert len(sessions) == RUNS
    limited = [s for s in sessions if s["status"] == "rate_limited"]
    graded = [s for s in sessions if s["status"] == "completed"]
    assert len(limited) == 2 and len(graded) == RUNS - 2
    assert all(s["reward"] is not None and s["signals"] for s in graded)
    assert all(s["reward"] is None for s in limited)
    post = {p["arm"]: p for p in status["posteriors"] if p["category"] == "code"}
    assert sum(p["n"] for p in post.values()) == RUNS - 2
    # Posteriors moved toward the better harness: every graded claude arm ends above a graded
    # codex, and codex, when graded, fell below its prior. (A fake claude session is one one-line commit,
    # graded about 0.35: its arms sink toward that, from their tier priors, but codex's turn.failed
    # sessions without any work are graded 0.)
    claude = [a for a in ("claude-code:opus", "claude-code:sonnet") if post[a]["n"] > 0]
    assert claude
    graded_claude = [s["reward"] for s in graded if (s["arm_ran"] or s["arm"]).startswith("claude")]
    assert graded_claude and min(graded_claude) > 0.3
    if post["codex:gpt-5.4"]["n"] > 0:
        for arm in claude:
            assert post[arm]["mean"] > post["codex:gpt-5.4"]["mean"]
    assert post["codex:gpt-5.4"]["mean"] <= prior["codex:gpt-5.4"]
    if post["codex:gpt-5.4"]["n"] > 0:
        assert post["codex:gpt-5.4"]["mean"] < prior["codex:gpt-5.4"]
    # Blocks where the limits were reported, and status shows them and the sessions.
    blocked = {b["scope"] for b in status["blocks"]}
    for s in limited:
        for scope in s["detail"]["limit"]["scopes"]:
            assert scope in blocked
    assert {b["source"] for b in status["blocks"]} == {"rate_limit"}
    assert len(status["recent_sessions"]) == 10
    text = run_env.run("status", check=True).stdout
    for s in limited:
        assert s["detail"]["limit"]["scopes"][0].split(":", 1)[1] in text
    assert "rate_limited" in run_env.run("status", "--limit", "20", check=True).stdout
