"""Calendar expressions are systemd's own: rota asks `systemd-analyze calendar` to check them and
to compute their next elapse, and has no parser of its own.

systemd's test vectors (src/test/test-calendarspec.c) pass through rota's reading of
systemd-analyze's answers: every valid input accepted, every invalid one rejected, every
next-elapse case right to the second (systemd-analyze prints whole seconds). rota's former parser
read 51 of the 65 valid inputs, matched 25 of the 31 next-elapse cases and accepted 5 of the 25
invalid inputs (bench/calendar_vectors.py measures any implementation against them).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from rota.systemd import analyze
from systemd_calendar_vectors import INVALID, NEXT, VALID
from systemd_fakes import needs_analyze


def utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


@pytest.fixture
def zone(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Set the local zone systemd-analyze sees, as systemd's tests do (":NAME"; "" is UTC)."""

    def set_zone(name: str | None) -> None:
        if name is None:
            monkeypatch.delenv("TZ", raising=False)
        else:
            monkeypatch.setenv("TZ", f":{name}" if name else "")

    return set_zone


@needs_analyze
def test_systemd_accepts_every_valid_vector() -> None:
    rejected = []
    for expr in VALID:
        try:
            assert analyze.check(expr) is True
        except analyze.CalendarError as exc:
            rejected.append((expr, str(exc)))
    assert rejected == []


@needs_analyze
@pytest.mark.parametrize("expr", INVALID)
def test_systemd_rejects_every_invalid_vector(expr: str) -> None:
    with pytest.raises(analyze.CalendarError):
        analyze.check(expr)


@needs_analyze
@pytest.mark.parametrize(("expr", "tz", "after_us", "expect_us"), NEXT)
def test_next_elapse_vectors(
    expr: str, tz: str | None, after_us: int, expect_us: int, zone
) -> None:  # type: ignore[no-untyped-def]
    zone(tz)
    got = analyze.next_elapse(expr, after_us / 1e6)
    assert got.source == "systemd-analyze"
    assert got.at == (None if expect_us == -1 else float(expect_us // 1_000_000))


@needs_analyze
def test_default_schedule_fires_on_the_hour_and_half_hour(zone) -> None:  # type: ignore[no-untyped-def]
    zone("")
    t = utc(2026, 11, 27, 22, 10)
    fires = []
    for _ in range(4):
        t = analyze.next_elapse("*-*-* *:00,30:00", t).at or 0.0
        fires.append(t)
    assert fires == [
        utc(2026, 11, 27, 22, 30),
        utc(2026, 11, 27, 23, 0),
        utc(2026, 11, 27, 23, 30),
        utc(2026, 11, 28, 0, 0),
    ]


@needs_analyze
def test_several_expressions_fire_at_the_earliest(zone) -> None:  # type: ignore[no-untyped-def]
    zone("Europe/Berlin")
    base = utc(2025, 1, 1, 0, 10)  # 01:10 in Berlin
    assert analyze.next_elapse(["*:50", "*:20"], base).at == utc(2025, 1, 1, 0, 20)
    assert analyze.next_elapse(["*-02-30", "daily"], base).at == utc(2025, 1, 1, 23, 0)
    assert analyze.next_elapse(["*-02-30"], base).at is None  # never


@needs_analyze
def test_a_rejected_expression_names_itself() -> None:
    with pytest.raises(analyze.CalendarError, match="every half hour"):
        analyze.next_elapse(["*:05", "every half hour"], utc(2025, 1, 1))


def test_without_systemd_analyze_nothing_is_guessed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no systemd-analyze on it
    assert analyze.check("every half hour") is False  # unchecked, not accepted
    nxt = analyze.next_elapse("*:05", utc(2025, 1, 1))
    assert (nxt.at, nxt.source, nxt.known) == (None, None, False)
    assert nxt.reason == "systemd-analyze is not installed"


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        # Local zone UTC: no "(in UTC)" line.
        (
            "Normalized form: *-*-* *:05:00\n    Next elapse: Wed 2025-01-01 01:05:00 UTC\n",
            utc(2025, 1, 1, 1, 5),
        ),
        # Another zone: the "(in UTC)" line is the answer.
        (
            "    Next elapse: Tue 2025-07-01 01:05:00 BST\n"
            "       (in UTC): Tue 2025-07-01 00:05:00 UTC\n",
            utc(2025, 7, 1, 0, 5),
        ),
        # A zone at UTC's offset under another name: systemd omits "(in UTC)"; the time is UTC.
        ("    Next elapse: Sun 2021-04-04 00:00:00 IST\n", utc(2021, 4, 4)),
        ("Normalized form: *-02-30 00:00:00\n    Next elapse: never\n", None),
    ],
)
def test_reading_systemd_analyze_output(output: str, expected: float | None) -> None:
    assert analyze.parse_next_elapse(output) == expected


def test_unreadable_output_is_an_error_not_a_time() -> None:
    with pytest.raises(ValueError):
        analyze.parse_next_elapse("something else entirely\n")
