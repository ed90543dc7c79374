"""The `unavailable` outcome: a session that failed for a reason outside the arm's skill is
recorded, never graded, never moves a posterior, and blocks the harness or the arm instead
(rota.session.infra). Here through real `rota run`s with the fake claude (tests/fakes), and the
block rules on their own; the real CLIs: tests/realcli/test_rota_outcomes.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rota.config import HarnessConfig
from rota.harnesses.base import InfraFailure
from rota.quota.state import Block
from rota.session import infra
from run_support import RunEnv, new_run_env

PIN_OPUS = '[rules.code]\npin = ["claude-code:opus"]'
NOW = 1_796_000_000.0


@pytest.fixture
def run_env(tmp_path: Path) -> RunEnv:
    return new_run_env(tmp_path)


def test_rejected_credentials_hold_the_harness_until_unblocked(run_env: RunEnv) -> None:
    run_env.config_with(extra=PIN_OPUS)
    run_env.queue("claude", "auth")
    code, out, err = run_env.run_json("run")
    assert code == 70, err  # a person must fix the key
    s = out["session"]
    assert s["status"] == "unavailable" and s["reward"] is None
    assert s["detail"]["infra"] == {
        "kind": "auth",
        "message": "Invalid API key · Fix external API key",
    }
    assert run_env.n("claude-code:opus") == 0  # no posterior moved
    [block] = run_env.blocks()
    assert block["scope"] == "harness:claude-code" and block["source"] == "infra"
    assert block["until_ts"] > s["ended_at"] + 300 * 86400  # held, not a backoff
    health = json.loads(run_env.run("health", "--json").stdout)
    problem = next(c for c in health["problems"] if c["check"] == "harnesses_usable")
    assert problem["harnesses"] == ["claude-code"] and "rota unblock" in problem["detail"]
    assert run_env.run_json("run")[0] == 76  # the pinned arm is held
    run_env.run("unblock", "claude-code", check=True)
    run_env.queue("claude", "ok")
    code, out, _ = run_env.run_json("run")
    assert code == 0 and out["session"]["status"] == "completed"
    assert run_env.n("claude-code:opus") == 1


def test_the_hold_lifts_when_the_harness_config_changes(run_env: RunEnv) -> None:
    run_env.config_with(extra=PIN_OPUS)
    run_env.queue("claude", "auth", "ok")
    assert run_env.run_json("run")[0] == 70
    assert run_env.run_json("run")[0] == 76  # same config: still held
    fixed = run_env.config.read_text().replace("THISISAFAKESECRET", "ANEWFAKESECRET")
    run_env.config.write_text(fixed)
    code, out, err = run_env.run_json("run")
    assert code == 0 and out["session"]["status"] == "completed", err
    assert run_env.blocks() == []


def test_the_harness_gets_the_workspace_as_pwd_and_a_long_prompt_on_stdin(
    run_env: RunEnv,
) -> None:
    run_env.config_with(extra=PIN_OPUS)
    run_env.queue("claude", "ok", "ok")
    prompt = run_env.root / "prompt.md"
    prompt.write_text("- a Markdown list\n- as the prompt\n")
    assert run_env.run_json("run", "--prompt-file", str(prompt))[0] == 0
    long = "Read this carefully. " * 10_000 + "\n- then answer"  # 210 KB: no argument holds it
    prompt.write_text(long)
    code, out, err = run_env.run_json("run", "--prompt-file", str(prompt))
    assert code == 0, err
    first, second = run_env.calls()
    assert first["env"]["PWD"] == str(run_env.workspace) != str(run_env.root)
    assert first["argv"][-2:] == ["--", "- a Markdown list\n- as the prompt\n"]
    assert first["prompt"].startswith("- a Markdown list")
    assert "--" not in second["argv"] and second["prompt"] == long  # it came on stdin
    assert out["argv"][-1] == "bypassPermissions"


# ---------------------------------------------------------------------------------------------
# The rules (pure)


def _fail(kind: str) -> InfraFailure:
    return InfraFailure(kind, f"{kind} failure")


def test_repeated_provider_failures_back_off_the_harness_longer_each_time() -> None:
    first = infra.infra_block(_fail("provider"), "codex", "codex:gpt-5.5", NOW, None)
    assert (first.scope_kind, first.scope, first.until - NOW) == ("harness", "codex", 900.0)
    later = NOW + 1000
    second = infra.infra_block(_fail("provider"), "codex", "codex:gpt-5.5", later, first)
    assert second.hits == 2 and second.until - later == 1800.0
    capped = Block("harness", "codex", later, "x", "infra", NOW, 30)
    assert infra.infra_block(_fail("provider"), "codex", "a", later, capped).until - later == 6 * 3600


def test_an_unknown_model_backs_off_the_arm_and_a_throttle_briefly_the_harness() -> None:
    model = infra.infra_block(_fail("model"), "gemini", "gemini:gemini-9", NOW, None)
    assert (model.scope_kind, model.scope, model.until - NOW) == ("arm", "gemini:gemini-9", 3600.0)
    throttle = infra.infra_block(_fail("throttled"), "claude-code", "claude-code:opus", NOW, None)
    assert (throttle.scope_kind, throttle.until - NOW) == ("harness", 300.0)


def test_holds_carry_the_config_fingerprint_and_go_stale_when_it_changes() -> None:
    from types import SimpleNamespace

    def Config(harnesses: dict[str, HarnessConfig]) -> object:
        return SimpleNamespace(harnesses=harnesses)

    hc = HarnessConfig(name="claude-code", env={"ANTHROPIC_API_KEY": "sk-old"})
    hold = infra.infra_block(
        _fail("auth"), "claude-code", "claude-code:opus", NOW, None, infra.config_fingerprint(hc)
    )
    assert "sk-old" not in hold.reason and hold.until - NOW > 300 * 86400
    same = Config(harnesses={"claude-code": hc})
    assert infra.stale_holds(same, [hold]) == []  # type: ignore[arg-type]
    changed = HarnessConfig(name="claude-code", env={"ANTHROPIC_API_KEY": "sk-new"})
    assert infra.stale_holds(Config(harnesses={"claude-code": changed}), [hold]) == [hold]
    other = Block("harness", "claude-code", NOW + 60, "rate limit: x", "backoff", NOW, 1)
    assert infra.stale_holds(Config(harnesses={"claude-code": changed}), [other]) == []
