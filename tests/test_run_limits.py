"""Rate limits block until the parsed reset (or back off) and leave the posterior alone; the arm
that actually ran is credited; a text that merely mentions limits is not a limit."""

from __future__ import annotations

from pathlib import Path

import pytest

from rota.quota.state import Block
from run_support import AGENT_CONFIG, RunEnv, gain, new_run_env


@pytest.fixture
def run_env(tmp_path: Path) -> RunEnv:
    return new_run_env(tmp_path)


PIN_OPUS = '[rules.code]\npin = ["claude-code:opus"]'


def test_claude_weekly_opus_limit_blocks_the_opus_arm_until_the_reset(run_env: RunEnv) -> None:
    run_env.config_with(extra=PIN_OPUS)
    run_env.queue("claude", "ok", "limit")
    assert run_env.run("run").returncode == 0
    before_n = run_env.n("claude-code:opus")
    with run_env.store() as store:
        before_ev = store.evidence()[("code", "claude-code:opus")]
    code, out, err = run_env.run_json("run")
    assert code == 0, err  # a rate limit is not a failure of the run
    s = out["session"]
    assert s["status"] == "rate_limited" and s["reward"] is None and s["exit_code"] == 1
    limit = s["detail"]["limit"]
    assert limit["window"] == "seven_day_opus" and limit["scopes"] == ["arm:claude-code:opus"]
    # The fake put resetsAt (ms) = its start + 3 h in the stream; the block ends exactly then.
    (block,) = run_env.blocks()
    assert block["scope"] == "arm:claude-code:opus" and block["source"] == "rate_limit"
    assert block["until_ts"] == limit["resets_at"]
    assert abs(block["until_ts"] - (s["started_at"] + 3 * 3600)) < 5
    # The posterior is untouched (same evidence row, bit for bit).
    assert run_env.n("claude-code:opus") == before_n == 1
    with run_env.store() as store:
        assert store.evidence()[("code", "claude-code:opus")] == before_ev
    # The pinned arm is blocked: nothing else is allowed for `code`, so the next run is a 76.
    assert run_env.run("run").returncode == 76


def test_a_harness_wide_limit_blocks_the_harness_and_its_pools(run_env: RunEnv) -> None:
    run_env.config_with(extra=PIN_OPUS + '\n[pools.anthropic]\nharnesses = ["claude-code"]')
    run_env.queue("claude", "limit-five-hour")
    code, out, err = run_env.run_json("run")
    assert code == 0, err
    scopes = sorted(b["scope"] for b in run_env.blocks())
    assert scopes == ["harness:claude-code", "pool:anthropic"]


def test_codex_limit_text_try_again_in_blocks_until_then(run_env: RunEnv) -> None:
    run_env.config_with(extra='[rules.code]\npin = ["codex:gpt-5.4"]')
    run_env.queue("codex", "limit")
    code, out, err = run_env.run_json("run")
    assert code == 0, err
    s = out["session"]
    assert s["status"] == "rate_limited"
    (block,) = run_env.blocks()
    assert block["scope"] == "harness:codex"
    expected = s["ended_at"] + 2 * 86400 + 17 * 3600 + 4 * 60  # "2 days 17 hours 4 minutes"
    assert abs(block["until_ts"] - expected) < 2
    assert run_env.n("codex:gpt-5.4") == 0


def test_a_limit_without_a_reset_backs_off_longer_each_time(run_env: RunEnv) -> None:
    run_env.config_with(AGENT_CONFIG, extra="[harnesses.agent.quota]\nrate_limit_exit_codes = [75]")
    run_env.queue("agent", "limit-exit")
    code, out, err = run_env.run_json("run")
    assert code == 0, err
    assert out["session"]["status"] == "rate_limited"
    (b1,) = run_env.blocks()
    assert b1["source"] == "backoff" and b1["hits"] == 1
    first = b1["until_ts"] - out["session"]["ended_at"]
    # Lift the block by hand, as if it had passed; the next hit without a reset waits longer.
    with run_env.store() as store:
        (blk,) = store.active_blocks(0)
        store.remove_blocks("harness", "agent")
        ended = out["session"]["ended_at"]
        store.add_block(
            Block(
                blk.scope_kind, blk.scope, ended, blk.reason, blk.source, blk.created_at, blk.hits
            )
        )
    run_env.queue("agent", "limit-exit")
    code, out, err = run_env.run_json("run")
    assert code == 0, err
    (b2,) = run_env.blocks()
    assert b2["hits"] == 2
    assert b2["until_ts"] - out["session"]["ended_at"] > first
    assert run_env.n("agent:m1") == 0


def test_a_silent_model_switch_credits_the_arm_that_ran(run_env: RunEnv) -> None:
    run_env.config_with(extra=PIN_OPUS)
    run_env.queue("claude", "switch:sonnet")
    code, out, err = run_env.run_json("run")
    assert code == 0, err
    s = out["session"]
    assert s["arm"] == "claude-code:opus" and s["arm_ran"] == "claude-code:sonnet"
    assert s["detail"]["model_seen"] == "claude-sonnet-4-6"
    assert run_env.n("claude-code:sonnet") == 1
    assert run_env.n("claude-code:opus") == 0


def test_a_switch_to_an_unconfigured_model_is_not_credited_to_the_selected_arm(
    run_env: RunEnv,
) -> None:
    run_env.config_with(extra=PIN_OPUS)
    run_env.queue("claude", "switch:claude-haiku-4-5")
    code, out, err = run_env.run_json("run")
    assert code == 0, err
    assert out["session"]["arm_ran"] == "claude-code:claude-haiku-4-5"
    assert run_env.n("claude-code:opus") == 0
    assert run_env.n("claude-code:claude-haiku-4-5") == 1


def test_an_answer_that_mentions_limits_is_not_a_limit(run_env: RunEnv) -> None:
    run_env.config_with(extra=PIN_OPUS)
    run_env.queue("claude", "mention")
    code, out, err = run_env.run_json("run")
    assert code == 0, err
    assert out["session"]["status"] == "completed" and out["session"]["reward"] > 0.3
    assert run_env.blocks() == []


def test_claude_error_result_is_a_graded_crash(run_env: RunEnv) -> None:
    run_env.config_with(extra=PIN_OPUS)
    run_env.queue("claude", "error")
    code, out, err = run_env.run_json("run")
    assert code == 70, err
    s = out["session"]
    assert s["status"] == "crashed" and gain(s, "finished") == 0.0 and s["reward"] == 0.0
    assert "the harness failed" in "\n".join(s["signals"]["reasons"])
    assert run_env.n("claude-code:opus") == 1


def test_run_records_probed_levels_and_keeps_out_an_arm_that_cannot_fit(
    run_env: RunEnv, tmp_path: Path
) -> None:
    """Real `rota run`s with a quota file: each session records the levels it saw; the level the
    next one saw shows opus used half the pool; at 60% used, opus is kept out before a refusal."""
    import json
    import time

    qfile = tmp_path / "quota.json"
    reset = time.time() + 4 * 3600

    def level(used: float) -> None:
        qfile.write_text(
            json.dumps(
                [{"scope": "pool:claude", "utilization": used, "window": "5h", "resets_at": reset}]
            )
        )

    run_env.config_with(
        extra=PIN_OPUS + f'\n[pools.claude]\nharnesses = ["claude-code"]\n[quota]\nfile = "{qfile}"'
    )
    run_env.queue("claude", "ok", "ok")
    level(0.0)
    assert run_env.run("run").returncode == 0
    level(0.5)  # the first session used half
    assert run_env.run("run").returncode == 0
    newest, first = run_env.sessions()[:2]
    # Recorded to 1e-4 of a window and to the second of its reset.
    assert first["detail"]["levels"] == [["pool", "claude", "5h", 0.0, round(reset)]]
    assert newest["detail"]["levels"] == [["pool", "claude", "5h", 0.5, round(reset)]]
    level(0.6)
    code, out, err = run_env.run_json("select", "--category", "code", "--explain")
    assert code == 76, err  # opus is pinned for code, and it cannot fit
    opus = next(c for c in out["candidates"] if c["arm"] == "claude-code:opus")
    assert not opus["eligible"] and "needed at least 50%" in opus["reason"]
    assert out["earliest_reset"] == reset  # and rota says when it fits again
    # `rota quota` shows what was learnt, next to what the file says.
    code, out, err = run_env.run_json("quota")
    assert code == 0, err
    mine = [r for r in out["windows"] if r["source"] == "learned"]
    assert [(r["scope_kind"], r["scope"], r["status"]) for r in mine] == [
        ("arm", "claude-code:opus", "exhausted")
    ]
    assert "needed at least 50%" in mine[0]["reason"]
