"""The usage endpoint's limits[] list (tests/fixtures/claude/usage, expected.json): session and
weekly_all are the harness's five_hour and seven_day windows, each weekly_scoped model pool lands
on the arms of that model (Opus, Sonnet, and a family rota has never heard of, Fable), and what
covers no arm (a surface scope, no percent, an unknown kind, seven_day_<not a model>) is ignored.
A stream whose rate_limit_event claims seven_day_overage_included is the weekly window."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codex_variants import epoch
from rota.harnesses.base import SessionOutput
from rota.harnesses.claude_usage import states_from_usage
from rota.harnesses.registry import builtin_profile

USAGE = Path(__file__).resolve().parent / "fixtures" / "claude" / "usage"
EXPECTED = json.loads((USAGE / "expected.json").read_text())
MODELS = ("opus", "claude-opus-4-7", "sonnet", "haiku", "fable-5")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_limits_list_maps_to_windows_and_arms(name: str) -> None:
    exp = EXPECTED[name]
    now = epoch(exp["now"])
    states = states_from_usage(json.loads((USAGE / name).read_text()), "claude-code", MODELS, now)
    got = {
        (s.scope_kind, s.scope, s.window): (round(s.utilization * 100, 6), s.resets_at)
        for s in states
    }
    want = {}
    for window, w in exp["harness"].items():
        want[("harness", "claude-code", window)] = (w["used_percent"], epoch(w["resets_at"]))
    for family, windows in exp["models"].items():
        for window, w in windows.items():
            for model in MODELS:
                if family in model:
                    key = ("arm", f"claude-code:{model}", f"{window}_{family}")
                    want[key] = (w["used_percent"], epoch(w["resets_at"]))
    # Resets to the second (the endpoint adds microseconds).
    got = {k: (u, None if r is None else int(r)) for k, (u, r) in got.items()}
    assert got == want
    for s in states:
        assert s.window_minutes == (300.0 if s.window == "five_hour" else 10080.0)
        assert s.available == (s.utilization < 1.0)


def test_a_full_scoped_pool_blocks_only_its_model() -> None:
    data = json.loads((USAGE / "scoped-only.json").read_text())
    states = states_from_usage(data, "claude-code", MODELS, epoch("2026-11-30T14:00:00Z"))
    full = sorted(s.scope for s in states if s.available is False)
    assert full == ["claude-code:fable-5"]


def test_top_level_windows_win_and_null_ones_are_filled_from_limits() -> None:
    data = {
        "five_hour": {"utilization": 10.0, "resets_at": "2026-11-30T16:00:00Z"},
        "seven_day_sonnet": {"utilization": None, "resets_at": None},
        "limits": [
            {"kind": "session", "percent": 99.0, "resets_at": "2026-11-30T17:00:00Z"},
            {
                "kind": "weekly_scoped",
                "percent": 97.0,
                "resets_at": "2026-12-02T21:00:00Z",
                "scope": {"model": {"id": None, "display_name": "Sonnet 4.5"}},
            },
        ],
    }
    states = states_from_usage(data, "claude-code", ("sonnet",), epoch("2026-11-30T14:00:00Z"))
    got = {(s.scope, s.window): s.utilization for s in states}
    assert got == {
        ("claude-code", "five_hour"): 0.10,
        ("claude-code:sonnet", "seven_day_sonnet"): 0.97,
    }


def test_overage_included_claim_is_the_weekly_window() -> None:
    stream = (Path(__file__).parent / "fixtures/claude/stream/session-rate-limited-overage.jsonl")
    out = SessionOutput(
        exit_code=1, stdout=stream.read_text(), stderr="", ended_at=epoch("2026-11-30T14:00:00Z")
    )
    hit = builtin_profile("claude-code").detect_limit(out)
    assert hit is not None
    assert (hit.window, hit.scope_kind, hit.scope) == ("seven_day", "harness", "claude-code")
    assert hit.resets_at == epoch("2026-12-03T09:00:00Z")
