"""Measured cost per session through `rota run`: recorded with the session, shown per arm by
`rota status`, and used by the bandit's cost term for arms with cost = "measured"."""

from __future__ import annotations

from pathlib import Path

import pytest

from run_support import RUN_CONFIG, RunEnv, new_run_env

MEASURED = RUN_CONFIG.replace(
    'opus = {{ tier = "high", cost = 5.0 }}', 'opus = {{ tier = "high", cost = "measured" }}'
).replace('"gpt-5.4" = {{ tier = "medium", cost = 1.0 }}', '"gpt-5.4" = {{ tier = "medium", cost = "measured" }}')


@pytest.fixture
def run_env(tmp_path: Path) -> RunEnv:
    return new_run_env(tmp_path)


def test_cost_is_recorded_shown_and_used(run_env: RunEnv) -> None:
    run_env.config_with(MEASURED, extra='[rules.code]\npin = ["claude-code:opus"]')
    run_env.env["FAKE_MODE"] = "ok"
    code, out, err = run_env.run_json("run")
    assert code == 0, err
    # The fake claude prints a stream-json result with total_cost_usd 1.8421 and its usage.
    assert out["session"]["detail"]["cost"] == {
        "source": "claude-code stream-json",
        "tokens": 271,
        "input_tokens": 61,
        "output_tokens": 210,
        "usd": 1.8421,
    }
    run_env.config_with(MEASURED, extra='[rules.code]\npin = ["codex:gpt-5.4"]')
    code, out, err = run_env.run_json("run")
    assert out["session"]["detail"]["cost"]["tokens"] == 15 and "usd" not in out["session"]["detail"]["cost"]

    status = run_env.status()
    costs = {c["arm"]: c for c in status["costs"]}
    opus, codex, sonnet = costs["claude-code:opus"], costs["codex:gpt-5.4"], costs["claude-code:sonnet"]
    assert opus["usd_per_session"] == 1.8421 and opus["sessions"] == 1 and opus["relative"] == 1.0
    # codex reports tokens only: priced at the dollars per token of the arms that report both.
    assert codex["tokens_per_session"] == 15 and codex["relative"] == pytest.approx(15 / 271, abs=1e-4)
    assert sonnet["cost"] == 1.5 and sonnet["relative"] == 1.0  # a constant, against constants
    text = run_env.run("status", check=True).stdout
    assert "$1.8421" in text and "measured" in text

    run_env.config_with(MEASURED)
    code, out, err = run_env.run_json("select", "--explain")
    cands = {c["arm"]: c for c in out["candidates"]}
    assert any("measured $1.8421 per session over 1" in n for n in cands["claude-code:opus"]["notes"])
    assert cands["codex:gpt-5.4"]["cost"] == pytest.approx(15 / 271, abs=1e-4)
