"""Issue 14, done when (through `rota run` with fake harnesses in a real git workspace):

- a reverted commit lowers its session's grade on the next run, and the posteriors equal a
  rebuild from the records;
- an infrastructure failure (the harness cannot start, the provider is down), a rate limit and an
  interrupted session never move a posterior.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from rota.learning import step
from run_support import AGENT_CONFIG, RUN_CONFIG, RunEnv, new_run_env

HL = 14 * 86400.0  # [bandit] half_life_days default


@pytest.fixture
def run_env(tmp_path: Path) -> RunEnv:
    return new_run_env(tmp_path)


def evidence(run_env: RunEnv) -> dict:
    with run_env.store() as store:
        return store.evidence()


def assert_equals_rebuild(run_env: RunEnv) -> None:
    with run_env.store() as store:
        rows = store.evidence()
        rebuilt = step.rebuild(store.graded_observations(), HL)[0]
    assert set(rebuilt) == {k for k, ev in rows.items() if ev.n or k in rebuilt}
    for key, ev in rebuilt.items():
        got = rows[key]
        assert got.n == ev.n and got.t == pytest.approx(ev.t)
        assert (got.s, got.f, got.sum_r, got.sum_r2) == pytest.approx(
            (ev.s, ev.f, ev.sum_r, ev.sum_r2), rel=1e-9, abs=1e-9
        )


def test_a_reverted_commit_lowers_its_grade_on_the_next_run(run_env: RunEnv) -> None:
    run_env.config_with(AGENT_CONFIG)
    run_env.queue("agent", "ok", "ok", "nocommit")
    code, out, err = run_env.run_json("run")
    first = out["session"]
    assert code == 0, err and first["detail"]["workspace"]["commits"] == 1
    code, out, err = run_env.run_json("run")  # another session; nothing reverted yet
    assert code == 0, err
    (s1,) = [s for s in run_env.sessions() if s["id"] == first["id"]]
    assert s1["reward"] == first["reward"] and s1["signals"]["followup"]["reverted"] == 0
    before = evidence(run_env)

    run_env.git("revert", "--no-edit", first["detail"]["workspace"]["commit_shas"][0])
    # The follow-up looks again at most once an hour: make the last look an hour old.
    with run_env.store() as store:
        rec = store.get_session(first["id"])
        fu = dict(rec.signals["followup"])
        fu["checked_at"] -= 3601
        store.update_signals(first["id"], {"followup": fu})
    code, out, err = run_env.run_json("run")
    assert code == 0, err
    assert "regrade session=" in err

    (s1,) = [s for s in run_env.sessions() if s["id"] == first["id"]]
    assert s1["reward"] < first["reward"]
    assert s1["signals"]["followup"]["reverted"] == 1
    assert "reverted" in s1["signals"]["grade"]["penalties"]
    assert s1["signals"]["grade_history"][-1]["source"] == "followup"
    assert any("1 commit of 1 reverted since" in r for r in s1["signals"]["reasons"])
    after = evidence(run_env)
    assert after[("code", "agent:m1")].sum_r < before[("code", "agent:m1")].sum_r + out["session"]["reward"]
    assert_equals_rebuild(run_env)
    # `rota sessions SESSION_ID` explains it to a person.
    text = run_env.run("sessions", str(first["id"]), check=True).stdout
    assert "reverted" in text and "Follow-up: 1 commit(s) reverted" in text


def test_commits_never_merged_lower_the_grade_after_the_window(run_env: RunEnv) -> None:
    run_env.config_with(AGENT_CONFIG, extra="[grading]\nfollowup_days = 0.0001")  # ~9 seconds
    run_env.git("checkout", "-q", "-b", "agent-work")  # the session commits on a side branch
    run_env.queue("agent", "ok", "nocommit")
    code, out, err = run_env.run_json("run")
    first = out["session"]
    time.sleep(10)
    code, out, err = run_env.run_json("run")
    assert code == 0, err
    (s1,) = [s for s in run_env.sessions() if s["id"] == first["id"]]
    assert s1["signals"]["followup"]["on_default_branch"] is False
    assert s1["reward"] < first["reward"] and "unmerged" in s1["signals"]["grade"]["penalties"]
    assert_equals_rebuild(run_env)


def test_a_grade_set_by_hand_is_not_overwritten(run_env: RunEnv) -> None:
    run_env.config_with(AGENT_CONFIG)
    run_env.queue("agent", "ok", "nocommit")
    code, out, err = run_env.run_json("run")
    sid = out["session"]["id"]
    run_env.run("grade", str(sid), "0.9", check=True)
    run_env.git("revert", "--no-edit", "HEAD")
    run_env.run_json("run")
    (s1,) = [s for s in run_env.sessions() if s["id"] == sid]
    assert s1["reward"] == 0.9 and "followup" not in s1["signals"]


LIMIT_PIN = """
[rules.code]
pin = ["claude-code:opus"]
"""


def test_infrastructure_failures_limits_and_interrupts_never_move_a_posterior(
    run_env: RunEnv,
) -> None:
    run_env.config_with(RUN_CONFIG, extra=LIMIT_PIN)
    run_env.queue("claude", "ok")
    code, out, err = run_env.run_json("run")  # one graded session, so the posteriors are not empty
    assert code == 0 and out["session"]["reward"] is not None, err
    before = evidence(run_env)

    # A rate limit (the weekly opus pool): blocks, no grade.
    run_env.queue("claude", "limit")
    code, out, err = run_env.run_json("run")
    assert out["session"]["status"] == "rate_limited" and out["session"]["reward"] is None
    assert evidence(run_env) == before
    run_env.run("unblock", "claude-code:opus", check=True)
    run_env.run("unblock", "claude-code", check=True)

    # Interrupted: SIGTERM while the harness runs.
    run_env.queue("claude", "wait")
    proc = run_env.popen("run", "--json")
    run_env.wait_for_file("claude.started", proc)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert proc.returncode == 143
    assert run_env.sessions()[0]["status"] == "interrupted"
    assert evidence(run_env) == before

    # Infrastructure: the harness cannot start at all.
    run_env.config_with(
        RUN_CONFIG.replace("[harnesses.claude-code]", '[harnesses.claude-code]\nexecutable = "no-such-claude-xyz"'),
        extra=LIMIT_PIN,
    )
    code, out, err = run_env.run_json("run")
    assert out["session"]["status"] == "unavailable" and out["session"]["reward"] is None
    assert out["session"]["detail"]["infra"]["kind"] == "cli"
    assert evidence(run_env) == before

    # Infrastructure: the provider overloaded after the CLI's own retries, then rejected the key.
    run_env.config_with(RUN_CONFIG, extra=LIMIT_PIN)
    for mode, kind in (("overloaded", "provider"), ("auth", "auth")):
        run_env.run("unblock", "claude-code", check=True)
        run_env.queue("claude", mode)
        code, out, err = run_env.run_json("run")
        s = out["session"]
        assert (s["status"], s["reward"], s["detail"]["infra"]["kind"]) == (
            "unavailable",
            None,
            kind,
        ), err
        assert evidence(run_env) == before
