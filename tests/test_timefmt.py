"""The one home for time: durations and times as people type them and harnesses print them."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest

from conftest import RotaEnv
from rota import timefmt
from rota.resettime import parse_reset
from rota.timefmt import local_zone, parse_duration, parse_time, zone_named


def ts(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


NOW = ts(2026, 11, 27, 18, 31)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90m", 5400),
        ("2h", 7200),
        ("2H", 7200),
        ("1d12h", 86400 + 12 * 3600),
        ("1h30m", 5400),
        ("1 h 30 m", 5400),
        ("45s", 45),
        ("37.5s", 37.5),
        ("3600", 3600),
        ("1w", 7 * 86400),
        ("2 days 17 hours", 2 * 86400 + 17 * 3600),
        ("2 days, 17 hours and 4 minutes", 2 * 86400 + 17 * 3600 + 4 * 60),
        ("3 hours 51 minutes", 3 * 3600 + 51 * 60),
        ("1h 30min", 5400),
        ("10 mins", 600),
        ("3 hrs", 3 * 3600),
        ("in 53s", 53),
        ("  in 2 hours ", 7200),
    ],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "5x", "1h and", "h", "500ms", "in", "1.2.3s", "-5m"])
def test_what_is_not_a_duration_says_so(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration.*examples"):
        parse_duration(text)


def test_times_people_type(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Europe/Berlin")  # UTC+1 in November
    assert parse_time("1795824000", NOW) == 1795824000.0
    assert parse_time("1795824000000", NOW) == 1795824000.0  # milliseconds, as Claude prints
    assert parse_time("in 53s", NOW) == NOW + 53
    assert parse_time("in 2 days 17 hours", NOW) == NOW + 2 * 86400 + 17 * 3600
    assert parse_time("2026-11-28T09:00Z", NOW) == ts(2026, 11, 28, 9)
    assert parse_time("2026-11-28 09:00 UTC", NOW) == ts(2026, 11, 28, 9)
    assert parse_time("2026-11-28T09:00", NOW) == ts(2026, 11, 28, 8)  # no zone: local
    assert parse_time("2026-11-28T09:00+09:00", NOW) == ts(2026, 11, 28, 0)
    # Wall times: the next one after now, local unless they name a zone.
    assert parse_time("23:30", NOW) == ts(2026, 11, 27, 22, 30)
    assert parse_time("19:00", NOW) == ts(2026, 11, 28, 18)  # 19:00 Berlin has passed: tomorrow
    assert parse_time("11pm", NOW) == ts(2026, 11, 27, 22)
    assert parse_time("11pm (UTC)", NOW) == ts(2026, 11, 27, 23)
    assert parse_time("11pm UTC", NOW) == ts(2026, 11, 27, 23)
    assert parse_time("2:57 PM (America/New_York)", NOW) == ts(2026, 11, 27, 19, 57)
    assert parse_time("Dec 1, 8am (Europe/Lisbon)", NOW) == ts(2026, 12, 1, 8)


@pytest.mark.parametrize(
    "text", ["soon", "3", "25:00", "13pm", "11pm (Mars/Olympus)", "in a while", "2026-13-01"]
)
def test_what_is_not_a_time_says_so(text: str) -> None:
    with pytest.raises(ValueError, match="not a time.*examples"):
        parse_time(text, NOW)


def test_what_a_harness_printed_reads_the_same_when_a_person_types_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The reset in a limit message, and the same words given to `rota block --until`."""
    monkeypatch.setenv("TZ", "Europe/Berlin")
    for phrase in ("in 2 days 17 hours 4 minutes", "in 37.5s", "in 1 day, 2 hours and 5 minutes"):
        assert parse_reset(f"Try again {phrase}.", NOW) == parse_time(phrase, NOW)
    for phrase in ("11pm (UTC)", "2:57 PM", "Dec 1, 8am (Europe/Lisbon)", "7:45 p.m."):
        assert parse_reset(f"resets {phrase}", NOW) == parse_time(phrase, NOW)


def test_one_local_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    assert local_zone({"TZ": "Asia/Tokyo"}) == zone_named("Asia/Tokyo")
    assert local_zone({"TZ": ":Europe/Lisbon"}) == zone_named("Europe/Lisbon")
    assert local_zone({"TZ": "Nowhere/Land"}) is not None  # falls back, never raises
    monkeypatch.setenv("TZ", "America/New_York")
    assert local_zone() == zone_named("America/New_York")


def test_one_formatter_for_people() -> None:
    assert timefmt.human_duration(45) == "45s"
    assert timefmt.human_duration(2 * 3600 + 5 * 60 + 7) == "2h 5m"
    assert timefmt.human_duration(3 * 86400 + 4 * 3600 + 5) == "3d 4h"
    assert timefmt.relative(NOW + 90, NOW) == "in 1m"
    assert timefmt.relative(NOW - 7200, NOW) == "2h ago"
    assert timefmt.when(None) == "never"
    assert timefmt.when(NOW + 7200, NOW) == f"{timefmt.local(NOW + 7200)} (in 2h)"
    assert timefmt.iso(NOW) == "2026-11-27T18:31:00Z"
    assert timefmt.iso(NOW + 0.25) == "2026-11-27T18:31:00.25Z"


def test_block_reads_what_harnesses_print(rota_env: RotaEnv) -> None:
    rota_env.write_config()
    t0 = time.time()
    proc = rota_env.run("block", "codex", "--for", "2 days 17 hours", "--json", check=True)
    until = parse_time(json.loads(proc.stdout)["until"])
    assert t0 + 2 * 86400 + 17 * 3600 <= until <= time.time() + 2 * 86400 + 17 * 3600
    proc = rota_env.run("block", "gptme", "--until", "11pm (UTC)", "--json", check=True)
    until = parse_time(json.loads(proc.stdout)["until"])
    assert datetime.fromtimestamp(until, UTC).strftime("%H:%M") == "23:00"
    assert t0 < until <= t0 + 86400
    proc = rota_env.run("block", "claude-code", "--until", "in 53s", check=True)
    assert "(in 53s)" in proc.stdout or "(in 52s)" in proc.stdout
    bad = rota_env.run("block", "codex", "--until", "whenever")
    assert bad.returncode == 2 and "not a time" in bad.stderr and "examples" in bad.stderr
