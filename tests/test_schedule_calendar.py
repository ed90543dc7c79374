"""Calendar expressions: rota's own parser, checked by hand and against systemd-analyze."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime

import pytest

from rota.schedule import CalendarError, CalendarSpec, next_elapse


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def nexts(expr: str, base: datetime, n: int = 3) -> list[datetime]:
    return [d.astimezone(UTC) for d in CalendarSpec.parse(expr).iter_after(base, n)]


@pytest.fixture(autouse=True)
def _utc_local(monkeypatch: pytest.MonkeyPatch) -> None:
    # Expressions without a zone are local time: pin it.
    monkeypatch.setenv("TZ", "UTC")


def test_default_schedule_fires_on_the_hour_and_half_hour() -> None:
    base = utc(2026, 11, 27, 22, 10, 0)
    assert nexts("*-*-* *:00,30:00", base, 4) == [
        utc(2026, 11, 27, 22, 30),
        utc(2026, 11, 27, 23, 0),
        utc(2026, 11, 27, 23, 30),
        utc(2026, 11, 28, 0, 0),
    ]


def test_next_is_strictly_after_the_base() -> None:
    # Exactly on a slot: the next one is the following slot, not this one.
    assert nexts("*-*-* *:00,30:00", utc(2026, 1, 1, 12, 30, 0), 1) == [utc(2026, 1, 1, 13, 0)]
    # A fraction of a second past a slot: still the following slot.
    base = utc(2026, 1, 1, 12, 30, 0).replace(microsecond=500_000)
    assert nexts("*-*-* *:00,30:00", base, 1) == [utc(2026, 1, 1, 13, 0)]


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("hourly", [utc(2025, 1, 1, 1), utc(2025, 1, 1, 2)]),
        ("daily", [utc(2025, 1, 2), utc(2025, 1, 3)]),
        ("weekly", [utc(2025, 1, 6), utc(2025, 1, 13)]),  # Mondays
        ("monthly", [utc(2025, 2, 1), utc(2025, 3, 1)]),
        ("quarterly", [utc(2025, 4, 1), utc(2025, 7, 1)]),
        ("Mon..Fri 09:00", [utc(2025, 1, 1, 9), utc(2025, 1, 2, 9)]),
        ("Sat,Sun 10:15", [utc(2025, 1, 4, 10, 15), utc(2025, 1, 5, 10, 15)]),
        ("*:0/15", [utc(2025, 1, 1, 0, 15), utc(2025, 1, 1, 0, 30)]),
        ("*-*-* 8..17/4:30", [utc(2025, 1, 1, 8, 30), utc(2025, 1, 1, 12, 30)]),
        ("*-*~01", [utc(2025, 1, 31), utc(2025, 2, 28)]),  # last day of the month
        ("Sat *-*-1..7 18:00:00", [utc(2025, 1, 4, 18), utc(2025, 2, 1, 18)]),  # first Saturday
        ("*-02-29 12:00", [utc(2028, 2, 29, 12), utc(2032, 2, 29, 12)]),  # leap days only
        ("25-03-01", [utc(2025, 3, 1)]),  # two-digit year, fires once
        ("*:5", [utc(2025, 1, 1, 1, 5), utc(2025, 1, 1, 2, 5)]),
    ],
)
def test_expressions_from_a_fixed_base(expr: str, expected: list[datetime]) -> None:
    base = utc(2025, 1, 1, 0, 10)  # a Wednesday
    assert nexts(expr, base, len(expected)) == expected


def test_an_impossible_date_never_fires() -> None:
    assert CalendarSpec.parse("*-02-30").next_after(utc(2025, 1, 1)) is None


def test_time_zone_suffix_and_dst() -> None:
    # 09:00 in New York is 14:00 UTC in winter and 13:00 UTC in summer.
    spec = CalendarSpec.parse("*-*-* 09:00 America/New_York")
    assert spec.next_after(utc(2025, 1, 15)).astimezone(UTC) == utc(2025, 1, 15, 14)
    assert spec.next_after(utc(2025, 7, 15)).astimezone(UTC) == utc(2025, 7, 15, 13)
    # 02:30 does not exist on the spring-forward day (2025-03-09): that day is skipped.
    spec = CalendarSpec.parse("*-*-* 02:30 America/New_York")
    got = [d.astimezone(UTC) for d in spec.iter_after(utc(2025, 3, 8, 12), 2)]
    assert got == [utc(2025, 3, 10, 6, 30), utc(2025, 3, 11, 6, 30)]


@pytest.mark.parametrize(
    "expr",
    ["", "bogus", "Tue..Mon", "*:*/15", "*-*-* 24:00", "*-13-01", "Mon 1:2:3:4", "12:00 Mars/Base"],
)
def test_invalid_expressions_are_rejected(expr: str) -> None:
    with pytest.raises(CalendarError):
        CalendarSpec.parse(expr)


CROSS_CHECK = [
    "*-*-* *:00,30:00",
    "*-*-* *:05,20,35,50:00",
    "hourly",
    "daily",
    "weekly",
    "monthly",
    "Mon..Fri 09:00",
    "Mon,Wed..Fri *-*-* 8..17/2:30",
    "*:0/7",
    "*-*~03",
    "*-02~01..03",
    "Sat *-*-1..7 18:00:00",
    "*-02-29 12:00",
    "*-*-* 02:30 Europe/Berlin",
    "daily Europe/Lisbon",
    "semiannually",
]
BASES = [1735690200, 1743296400, 1795819973]  # 2025-01-01, 2025-03-30 01:00 UTC (DST), 2026-11-27


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
@pytest.mark.parametrize("expr", CROSS_CHECK)
def test_own_parser_agrees_with_systemd_analyze(expr: str) -> None:
    for base in BASES:
        proc = subprocess.run(
            ["systemd-analyze", "calendar", "--iterations=5", f"--base-time=@{base}", expr],
            capture_output=True,
            text=True,
            env={"TZ": "UTC", "PATH": "/usr/bin:/bin"},
            check=True,
        )
        theirs = [
            datetime.strptime(line.split(": ", 1)[1][4:23], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
            for line in proc.stdout.splitlines()
            if line.strip().startswith(("Next elapse:", "Iter. #")) and "never" not in line
        ]
        ours = nexts(expr, datetime.fromtimestamp(base, UTC), 5)
        assert ours == theirs, (expr, base)


def test_next_elapse_with_and_without_systemd_analyze() -> None:
    base = utc(2026, 11, 27, 22, 10).timestamp()
    own = next_elapse("*-*-* *:00,30:00", base, use_systemd_analyze=False)
    assert own.source == "rota"
    assert own.at == utc(2026, 11, 27, 22, 30).timestamp()
    if shutil.which("systemd-analyze"):
        theirs = next_elapse("*-*-* *:00,30:00", base)
        assert theirs.source == "systemd-analyze"
        assert theirs.at == own.at
        with pytest.raises(CalendarError):
            next_elapse("bogus", base)
    assert next_elapse("*-02-30", base, use_systemd_analyze=False).at is None
