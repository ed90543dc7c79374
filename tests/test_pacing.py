"""Quota pacing: use-it-or-lose-it bonus and ahead-of-pace penalty, by hand-computed numbers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rota.config import PacingSettings
from rota.learning.pacing import pacing_adjustment
from rota.quota.state import QuotaState

NOW = 1_000_000.0
H = 3600.0
S = PacingSettings(
    enabled=True, use_it_horizon_hours=6.0, use_it_min_headroom=0.4, bonus=0.05, ahead_penalty=0.05
)


def w(
    window: str, used: float, resets_in_h: float, minutes: float | None = None, **kw: object
) -> QuotaState:
    return QuotaState(
        scope_kind=str(kw.get("scope_kind", "harness")),
        scope=str(kw.get("scope", "claude-code")),
        window=window,
        available=kw.get("available", used < 1.0),  # type: ignore[arg-type]
        utilization=used,
        resets_at=NOW + resets_in_h * H,
        source="api",
        window_minutes=minutes,
    )


def test_nothing_to_say() -> None:
    assert pacing_adjustment([], S, NOW) == (0.0, "")
    unknown = QuotaState("harness", "x", "five_hour", None)
    assert pacing_adjustment([unknown], S, NOW) == (0.0, "")
    # On an even pace, with the reset far away: nothing.
    assert pacing_adjustment([w("seven_day", 0.5, 84.0)], S, NOW) == (0.0, "")
    off = PacingSettings(enabled=False)
    assert pacing_adjustment([w("five_hour", 0.0, 0.5)], off, NOW) == (0.0, "")
    assert pacing_adjustment([w("five_hour", 0.0, 0.5)], None, NOW) == (0.0, "")


def test_use_it_or_lose_it_bonus() -> None:
    # 5-hour window, 1 hour left, 30% used: headroom 0.7, horizon min(6h, 5h) = 5h,
    # urgency 1 - 1/5 = 0.8: bonus 0.05 * 0.7 * (0.5 + 0.4) = 0.0315.
    delta, note = pacing_adjustment([w("five_hour", 0.3, 1.0)], S, NOW)
    assert delta == pytest.approx(0.0315)
    assert "use it or lose it" in note and "five_hour" in note and "70% unused" in note


def test_bonus_needs_headroom_in_every_window() -> None:
    # Plenty left in the 5-hour window, but the week is nearly spent: nothing to lose.
    states = [w("five_hour", 0.1, 1.0), w("seven_day", 0.9, 150.0)]
    delta, note = pacing_adjustment(states, S, NOW)
    assert "use it or lose it" not in note
    # ...and the weekly window is well ahead of pace: (1 - 0.9) / (150/168) = 0.112 -> penalty
    # 0.05 * (1 - 0.112) = 0.0444.
    assert delta == pytest.approx(-0.05 * (1 - 0.1 / (150 / 168)), abs=1e-6)
    assert "ahead of pace" in note and "seven_day" in note


def test_below_min_headroom_no_bonus() -> None:
    assert pacing_adjustment([w("five_hour", 0.65, 0.5)], S, NOW)[0] <= 0.0


def test_ahead_of_pace_penalty_and_slack() -> None:
    # Weekly: 81% used, 84 h of 168 left: pace (0.19 / 0.5) = 0.38 -> 0.05 * 0.62 = 0.031.
    delta, note = pacing_adjustment([w("seven_day", 0.81, 84.0)], S, NOW)
    assert delta == pytest.approx(-0.031)
    # Slightly ahead (pace 0.92 >= 0.9): within the slack, no penalty.
    assert pacing_adjustment([w("seven_day", 0.54, 84.0)], S, NOW) == (0.0, "")


def test_window_length_from_name_or_state() -> None:
    # Without window_minutes the name gives it; an unknown window without a length is skipped.
    assert pacing_adjustment([w("seven_day_opus", 0.93, 84.0)], S, NOW)[0] < 0
    assert pacing_adjustment([w("mystery", 0.93, 84.0)], S, NOW) == (0.0, "")
    assert pacing_adjustment([w("mystery", 0.93, 84.0, minutes=10080)], S, NOW)[0] < 0


def test_pool_copies_count_once_and_exhausted_or_past_windows_are_ignored() -> None:
    one = w("five_hour", 0.3, 1.0)
    copy = one._replace(scope_kind="pool", scope="claude-max")
    assert pacing_adjustment([one, copy], S, NOW) == pacing_adjustment([one], S, NOW)
    assert pacing_adjustment([w("five_hour", 1.0, 1.0)], S, NOW) == (0.0, "")
    past = one._replace(resets_at=NOW - 1)
    assert pacing_adjustment([past], S, NOW) == (0.0, "")


def test_both_bonus_and_penalty_are_explained() -> None:
    # 5h: 0% used, 30 min left (bonus). 7-day: headroom 0.5 >= 0.4 but 150 h of 168 left (ahead).
    states = [w("five_hour", 0.0, 0.5), w("seven_day", 0.5, 150.0)]
    delta, note = pacing_adjustment(states, S, NOW)
    bonus = 0.05 * 0.5 * (0.5 + 0.5 * (1 - 0.5 / 5))
    penalty = 0.05 * (1 - 0.5 / (150 / 168))
    assert delta == pytest.approx(bonus - penalty, abs=1e-6)
    assert note.startswith(f"pacing {bonus - penalty:+.3f}: ")
    assert "use it or lose it" in note and "ahead of pace" in note


def test_dict_settings() -> None:
    d = {
        "enabled": True,
        "use_it_horizon_hours": 2,
        "use_it_min_headroom": 0.5,
        "bonus": 0.1,
        "ahead_penalty": 0,
    }
    delta, _ = pacing_adjustment([w("five_hour", 0.0, 1.0)], d, NOW)
    assert delta == pytest.approx(0.1 * 1.0 * (0.5 + 0.5 * 0.5))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["five_hour", "seven_day", "seven_day_opus"]),
            st.floats(min_value=0, max_value=1.5),
            st.floats(min_value=-10, max_value=400),
        ),
        max_size=5,
    )
)
def test_bounded(windows: list[tuple[str, float, float]]) -> None:
    states = [w(name, used, left) for name, used, left in windows]
    delta, note = pacing_adjustment(states, S, NOW)
    assert -S.ahead_penalty - 1e-9 <= delta <= S.bonus + 1e-9
    assert (delta == 0.0) == (note == "") or note
