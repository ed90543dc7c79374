"""rota.clock: recorded times that cannot be believed do no lasting damage."""

from __future__ import annotations

import math

import pytest

from rota.clock import (
    MAX_BLOCK_S,
    believable_block,
    believable_evidence,
    cap_until,
    plausible,
    reset_within_reach,
    window_seconds,
)
from rota.learning import bandit
from rota.quota.state import Block

NOW = 1_796_000_000.0
DAY = 86400.0
H14 = 14 * DAY


def test_evidence_a_year_ahead_does_not_freeze_learning() -> None:
    ev = bandit.update(bandit.Evidence(), 0.1, NOW + 365 * DAY, H14)  # the clock was ahead
    frozen = ev
    for i in range(10):
        frozen = bandit.update(frozen, 1.0, NOW + i, H14)
    assert frozen.s - ev.s < 1e-6  # the defect, in the pure learning step
    fixed, warning = believable_evidence(ev, NOW)
    assert "365 days ahead" in warning
    for i in range(10):
        fixed = bandit.update(fixed, 1.0, NOW + i, H14)
    assert fixed.s == pytest.approx(ev.s + 10, rel=1e-3)


def test_believable_evidence_is_left_alone() -> None:
    ev = bandit.update(bandit.Evidence(), 0.5, NOW - DAY, H14)
    assert believable_evidence(ev, NOW) == (ev, "")
    assert believable_evidence(ev._replace(t=NOW + 60), NOW)[1] == ""  # fleet clock jitter


def test_a_block_stamped_30_days_ahead_lasts_its_own_length_from_now() -> None:
    b = Block(
        "harness",
        "claude-code",
        NOW + 30 * DAY + 3 * 3600,
        "limit",
        "rate_limit",
        NOW + 30 * DAY,
        1,
    )
    got, warning = believable_block(b, NOW)
    assert got.until == pytest.approx(NOW + 3 * 3600) and got.created_at == NOW
    assert "30 days ahead" in warning


@pytest.mark.parametrize("until", [1e20, math.inf, NOW + 400 * DAY])
def test_no_block_rota_made_outlives_a_month(until: float) -> None:
    b = Block("arm", "a:b", until, "", "rate_limit", NOW - 10, 1)
    got, warning = believable_block(b, NOW)
    assert got.until == NOW - 10 + MAX_BLOCK_S and warning
    assert believable_block(got, NOW + DAY)[0] == got  # a fixed end: read again, the same


def test_a_block_written_by_hand_lasts_as_asked() -> None:
    b = Block("harness", "codex", NOW + 90 * DAY, "on holiday", "manual", NOW, 1)
    assert believable_block(b, NOW) == (b, "")


def test_a_hold_until_a_person_fixes_the_harness_lasts_as_asked() -> None:
    """An infra hold (credentials rejected, CLI missing: rota.session.infra) is no quota window."""
    b = Block("harness", "claude-code", NOW + 365 * DAY, "credentials rejected", "infra", NOW, 1)
    assert believable_block(b, NOW) == (b, "")
    ahead = b._replace(created_at=NOW + 30 * DAY, until=NOW + 395 * DAY)
    fixed, warning = believable_block(ahead, NOW)
    assert fixed.created_at == NOW and fixed.until == NOW + 365 * DAY and "ahead" in warning


def test_an_ordinary_block_is_left_alone() -> None:
    b = Block("arm", "a:b", NOW + 3600, "", "rate_limit", NOW - 60, 1)
    assert believable_block(b, NOW) == (b, "")


def test_a_block_ends_within_its_window() -> None:
    assert cap_until(NOW + 30 * DAY, NOW, "five_hour") == NOW + 5 * 3600 + DAY
    assert cap_until(NOW + 30 * DAY, NOW, "seven_day_opus") == NOW + 8 * DAY
    assert cap_until(NOW + 40 * DAY, NOW, "") == NOW + MAX_BLOCK_S
    assert cap_until(NOW + 3600, NOW, "five_hour") == NOW + 3600
    assert cap_until(math.inf, NOW, "five_hour") == NOW + 5 * 3600 + DAY
    assert window_seconds("whatever") is None


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (NOW + 3600, True),
        (NOW - 120, False),
        (NOW + 401 * DAY, False),
        (math.inf, False),
        (math.nan, False),
        (1e20, False),
        ("soon", False),
        (True, False),
    ],
)
def test_reset_within_reach(value: object, ok: bool) -> None:
    assert (reset_within_reach(value, NOW) is not None) is ok


def test_plausible() -> None:
    assert plausible(NOW, NOW) and plausible(NOW + 200, NOW)
    assert not plausible(NOW + 3600, NOW) and not plausible(0.0, NOW)
    assert not plausible(math.nan, NOW) and not plausible(None, NOW)
