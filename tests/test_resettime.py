"""Reset times parsed from the limit messages the CLIs print (fixtures/outputs) and variants."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rota.resettime import parse_duration, parse_reset
from rota.timefmt import epoch_seconds, local_zone, next_wall_time, parse_iso, zone_named


def ts(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


# The session ended at 2026-11-27 18:31 UTC; "local" is Europe/Berlin (UTC+1 in November).
REF = ts(2026, 11, 27, 18, 31)
BERLIN = zone_named("Europe/Berlin")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("claude-code-limit-old.txt", ts(2026, 11, 28, 0, 0)),  # |1795824000
        ("claude-code-limit-new.txt", ts(2026, 11, 27, 23, 0)),  # resets 11pm (UTC)
        ("claude-code-limit-session.txt", ts(2026, 11, 28, 3, 40)),  # 3:40am Lisbon (UTC+0)
        ("claude-code-limit-old-text.txt", ts(2026, 11, 27, 20, 0)),  # 3pm New York (UTC-5)
        ("codex-limit-duration.txt", REF + 2 * 86400 + 17 * 3600 + 4 * 60),
        ("codex-limit-time.txt", ts(2026, 11, 28, 13, 57)),  # 2:57 PM Berlin, tomorrow
        ("copilot-rate-limited.txt", REF + 2 * 3600),
        ("gemini-quota.txt", ts(2026, 11, 28, 0, 0)),
        ("copilot-no-quota.txt", None),
        ("not-a-limit.txt", None),
    ],
)
def test_fixture_outputs(fixtures_dir: Path, name: str, expected: float | None) -> None:
    text = (fixtures_dir / "outputs" / name).read_text(encoding="utf-8")
    assert parse_reset(text, REF, BERLIN) == expected


def test_epoch_in_milliseconds_and_seconds() -> None:
    assert parse_reset("Claude AI usage limit reached|1795824000000", REF) == 1795824000.0
    assert epoch_seconds(1795824000000) == 1795824000.0
    assert epoch_seconds(1795824000) == 1795824000.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("retry after 2026-11-28T00:00:00Z", ts(2026, 11, 28)),
        ("resets at 2026-12-01T08:00:00.615661+00:00", ts(2026, 12, 1, 8) + 0.615661),
        ("resets 2026-12-01T08:00:00.6156612345+00:00", ts(2026, 12, 1, 8) + 0.615661),
        ("retry after 2026-11-28 01:00", ts(2026, 11, 28, 1)),  # no zone: UTC
        ("until 2026-11-28T09:00:00+09:00", ts(2026, 11, 28, 0)),
    ],
)
def test_iso_variants(text: str, expected: float) -> None:
    assert parse_reset(text, REF) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("try again in 2 hours", 7200),
        ("Try again in 3 hours 51 minutes.", 3 * 3600 + 51 * 60),
        ("Please retry in 37.5s.", 37.5),
        ("try again in 1h 30m", 5400),
        ("retry after 45 seconds", 45),
        ("try again in 1 day, 2 hours and 5 minutes", 86400 + 7200 + 300),
        ("try again in 1 week", 7 * 86400),
    ],
)
def test_durations_count_from_the_session_end(text: str, seconds: float) -> None:
    assert parse_reset(text, REF) == pytest.approx(REF + seconds)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("resets 11pm (UTC)", ts(2026, 11, 27, 23)),
        ("resets 6pm (UTC)", ts(2026, 11, 28, 18)),  # 18:00 is before 18:31: tomorrow
        ("resets 12am (UTC)", ts(2026, 11, 28, 0)),
        ("resets 12pm (UTC)", ts(2026, 11, 28, 12)),
        ("resets 7pm PST", ts(2026, 11, 28, 3)),  # abbreviation -> America/Los_Angeles
        ("resets 23:15 (UTC)", ts(2026, 11, 27, 23, 15)),
        ("resets 8pm (+02:00)", ts(2026, 11, 28, 18)),
        ("Opus weekly limit reached ∙ resets Dec 1, 8am (Europe/Lisbon)", ts(2026, 12, 1, 8)),
        ("resets Dec 1 at 9am (Europe/Berlin)", ts(2026, 12, 1, 8)),
        ("resets Jan 2, 1am (UTC)", ts(2027, 1, 2, 1)),  # a date already past: next year
        ("try again at 7:45 p.m.", ts(2026, 11, 27, 18, 45)),  # Berlin local
    ],
)
def test_wall_times(text: str, expected: float) -> None:
    assert parse_reset(text, REF, BERLIN) == expected


def test_wall_time_follows_daylight_saving() -> None:
    ny = zone_named("America/New_York")
    assert ny is not None
    summer_ref = ts(2026, 7, 1, 12)
    # 3pm New York is 19:00 UTC in July (EDT) and 20:00 UTC in November (EST).
    assert parse_reset("reset at 3pm (America/New_York)", summer_ref) == ts(2026, 7, 1, 19)
    # The next 3am after the autumn change (Sunday 2026-11-01) is after the fall-back.
    ref = ts(2026, 10, 31, 12)  # 08:00 EDT on Saturday
    assert next_wall_time(3, 0, ny, ref) == ts(2026, 11, 1, 8)  # 03:00 EST = 08:00 UTC


def test_a_log_prefix_timestamp_is_not_the_reset() -> None:
    line = "2026-11-27T18:30:59Z ERROR: You've hit your usage limit. Try again in 2 hours."
    assert parse_reset(line, REF) == REF + 7200
    # A reset that lies before the session ended is stale: unknown, so the caller backs off.
    assert parse_reset("Claude AI usage limit reached|1795700000", REF) is None
    assert parse_reset("retry after 2026-11-01T00:00:00Z", REF) is None


def test_unknown_things_give_none() -> None:
    assert parse_reset("resets 11pm (Mars/Olympus)", REF) is None  # unknown IANA zone
    assert parse_reset("", REF) is None
    assert parse_reset("You've hit your limit", REF) is None
    assert parse_reset("resets 3", REF) is None  # a bare number is not a time
    assert parse_reset("resets 25:99 (UTC)", REF) is None
    assert parse_reset("resets 13pm (UTC)", REF) is None
    assert parse_iso("not a time") is None
    assert parse_duration("soon") is None
    assert zone_named("Not/AZone") is None
    assert zone_named("") is None


def test_wall_time_without_zone_uses_local_zone_from_tz_env() -> None:
    zone = local_zone({"TZ": "Asia/Tokyo"})
    assert zone == zone_named("Asia/Tokyo")
    # 2:57 PM in Tokyo (UTC+9) = 05:57 UTC; after 18:31 UTC: the next day.
    assert parse_reset("try again at 2:57 PM", REF, zone) == ts(2026, 11, 28, 5, 57)
    assert local_zone({"TZ": "Nowhere/Land"}) is not None  # falls back, never raises


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_never_raises_on_arbitrary_text(text: str) -> None:
    got = parse_reset(text, REF, BERLIN)
    assert got is None or isinstance(got, float)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=1, max_value=12),
    st.integers(min_value=0, max_value=59),
    st.sampled_from(["am", "pm", "AM", "PM"]),
    st.sampled_from(["UTC", "Europe/Lisbon", "America/New_York", "Asia/Kolkata"]),
    st.floats(min_value=ts(2026, 1, 1), max_value=ts(2027, 12, 31)),
)
def test_dateless_wall_time_is_within_a_day_after_the_session(
    hour: int, minute: int, ampm: str, zone: str, ref: float
) -> None:
    got = parse_reset(f"resets {hour}:{minute:02d}{ampm} ({zone})", ref)
    assert got is not None
    assert ref < got <= ref + 25 * 3600  # 25 h: a day plus a DST change
    local = datetime.fromtimestamp(got, zone_named(zone))
    h24 = hour % 12 + (12 if ampm.lower() == "pm" else 0)
    # Equal, except for a wall time that does not exist on a spring-forward day.
    assert (local.hour, local.minute) == (h24, minute) or local.hour == (h24 + 1) % 24
