"""Quota learning as state (rota.quota.learnt.QuotaLearning) finds what the from-scratch rescan
(rota.quota.history.learned_states, the rebuild) finds, state for state and in the same order,
over long random histories: limit hits with and without reset times, blocked scopes, probed
levels around sessions, sessions of arms no pool covers, and decisions at any time."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rota.quota.history import learned_states
from rota.quota.learnt import QuotaLearning
from rota.quota.state import ArmScopes, QuotaState
from rota.quota.uses import Use

H = 3600.0
T0 = 1_800_000_000.0 - (1_800_000_000.0 % 86400.0)
SCOPES = {
    "claude-code:opus": ArmScopes("claude-code:opus", "claude-code", ("claude-5h", "claude-7d")),
    "claude-code:sonnet": ArmScopes("claude-code:sonnet", "claude-code", ("claude-5h", "claude-7d")),
    "codex:gpt": ArmScopes("codex:gpt", "codex", ("openai",)),
    "gemini:pro": ArmScopes("gemini:pro", "gemini", ()),
    "aider:local": ArmScopes("aider:local", "aider", ()),
}
ARMS = [*SCOPES, "gone:arm"]  # an arm no longer configured still has its sessions on record
BLOCKED = [(), ("pool:claude-5h",), ("pool:claude-5h", "pool:claude-7d"), ("harness:codex",),
           ("pool:openai",), ("arm:codex:gpt",), ("pool:nowhere",)]  # fmt: skip
WINDOWS = {"claude-5h": 5 * H, "claude-7d": 168 * H, "openai": 24 * H}


def _window_end(pool: str, at: float, phase: float) -> float:
    w = WINDOWS[pool]
    return phase + ((at - phase) // w + 1) * w


def _history(rng: random.Random, n: int) -> list[Use]:
    phase = rng.uniform(0, 5 * H)
    used = {p: 0.0 for p in WINDOWS}
    ends = {p: 0.0 for p in WINDOWS}
    at = T0
    out = []
    for _ in range(n):
        at += rng.choice([0.0, rng.uniform(60, 2 * H), rng.uniform(0, 12 * H)])
        arm = rng.choice(ARMS)
        for p in WINDOWS:  # the probed levels just before it ran
            end = _window_end(p, at, phase)
            if end != ends[p]:
                ends[p], used[p] = end, rng.uniform(0, 0.2)
        levels = tuple(
            ("pool", p, "5h" if p == "claude-5h" else "w", round(used[p], 4),
             None if rng.random() < 0.1 else ends[p] + rng.uniform(-60, 60))
            for p in WINDOWS if rng.random() < 0.8
        )  # fmt: skip
        limited = rng.random() < 0.25
        resets = None
        if arm == "gemini:pro":  # a daily limit that never says when it resets
            limited = (at - phase) % (24 * H) > 20 * H and rng.random() < 0.9
        elif limited and rng.random() < 0.7:
            pool = rng.choice(list(WINDOWS))
            resets = ends[pool] + rng.uniform(-100, 100)
        blocked = rng.choice(BLOCKED) if limited else ()
        if arm == "gemini:pro":
            blocked = rng.choice([(), ("harness:gemini",)]) if limited else ()
        util = (
            {p: round(min(1.0, used[p] + rng.uniform(0, 0.6)), 3) for p in WINDOWS}
            if rng.random() < 0.5
            else None
        )
        out.append(Use(arm, at, limited, resets, blocked, util, levels=levels))
        if not limited:
            for p in WINDOWS:
                used[p] = min(1.0, used[p] + rng.uniform(0.0, 0.15))
    return out


def _states(rng: random.Random, now: float) -> list[QuotaState]:
    out = []
    for p in WINDOWS:
        if rng.random() < 0.35:
            continue
        out.append(
            QuotaState(
                "pool",
                p,
                "5h" if p == "claude-5h" else "w",
                available=rng.choice([True, False, None]),
                utilization=rng.choice([None, rng.uniform(0.3, 1.0), rng.uniform(0.85, 1.0)]),
                resets_at=rng.choice([None, now + rng.uniform(-H, 10 * H)]),
                source=rng.choice(["api", "api", "learned"]),
            )
        )
    if rng.random() < 0.3:
        out.append(QuotaState("harness", "gemini", utilization=0.9, source="logs"))
    return out


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(50, 1200),
    limit=st.sampled_from([40, 150, 1000]),
    lookback_h=st.sampled_from([6.0, 60.0, 28 * 24.0]),
)
def test_state_equals_the_rebuild_over_a_long_history(
    seed: int, n: int, limit: int, lookback_h: float
) -> None:
    rng = random.Random(seed)
    history = _history(rng, n)
    state = QuotaLearning(SCOPES, limit=limit, lookback_s=lookback_h * H)
    found = 0
    for i, use in enumerate(history):
        state.add(use)
        # A decision just after the newest session, or (a reader of older times) before it.
        now = use.at + rng.uniform(0, 3 * H) if rng.random() < 0.7 else history[i // 2].at
        states = _states(rng, now)
        want = learned_states(SCOPES, history[: i + 1][-limit:], states, now, lookback_s=lookback_h * H)
        assert state.learned_states(states, now) == want
        found += len(want)
    assert state.uses == history


def test_the_random_histories_teach_every_kind_of_learnt_state() -> None:
    """The property above is only as good as its histories: they make rota learn windows, arms
    refused by a learnt window, schedules of silent limits, and arms too big for a level."""
    kinds: set[str] = set()
    for seed in range(8):
        rng = random.Random(seed)
        history = _history(rng, 600)
        state = QuotaLearning(SCOPES)
        for use in history:
            state.add(use)
            now = use.at + 60.0
            for s in state.learned_states(_states(rng, now), now):
                if s.reason.startswith("refused;"):
                    kinds.add("silent limit's schedule")
                elif "sessions this window; it refused" in s.reason:
                    kinds.add("refused by a learnt window")
                elif "sessions this window" in s.reason:
                    kinds.add("learnt window")
                elif "used before" in s.reason:
                    kinds.add("refused at this use before")
                elif "levels probed around its sessions" in s.reason:
                    kinds.add("too big for a level")
    assert len(kinds) == 5, kinds


def test_sessions_out_of_time_order_are_refused() -> None:
    state = QuotaLearning(SCOPES)
    state.add(Use("codex:gpt", T0 + 10.0))
    with pytest.raises(ValueError, match="oldest first"):
        state.add(Use("codex:gpt", T0))
