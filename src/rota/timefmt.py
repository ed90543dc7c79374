"""Times and durations: the one parser, the one formatter, and the one local zone.

Parsing reads what people type and what harnesses print: durations ("90m", "1h30m", "2 days
17 hours", "in 53s"), ISO times, epochs (seconds or milliseconds), and wall times ("23:30", "11pm",
"2:57 PM (UTC)", "Dec 1, 8am (Europe/Lisbon)"). `rota block --for/--until`, the quota file and
the vendor reset parser (rota.resettime) all read through these functions.

This module is on the `rota select` path: it imports only `re`, `time` and `os` up front;
datetime and zoneinfo are imported when a time is parsed.
"""

from __future__ import annotations

import os
import re
import time

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the select path
if TYPE_CHECKING:
    from datetime import tzinfo

# -- durations -----------------------------------------------------------------------------------

_UNIT_S = {
    "w": 604800.0, "week": 604800.0, "weeks": 604800.0,
    "d": 86400.0, "day": 86400.0, "days": 86400.0,
    "h": 3600.0, "hr": 3600.0, "hrs": 3600.0, "hour": 3600.0, "hours": 3600.0,
    "m": 60.0, "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
    "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
}  # fmt: skip
# Longest first, so that "minutes" is not read as "m" followed by junk.
_UNIT = r"(?:weeks?|w|days?|d|hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s)(?![a-z])"
_PART = r"(\d+(?:\.\d+)?)\s*(" + _UNIT + ")"
_ONE = r"\d+(?:\.\d+)?\s*" + _UNIT
# A run of parts as people and vendors write them: "1h30m", "2 days, 17 hours and 4 minutes".
DURATION = _ONE + r"(?:[\s,]*(?:and\s+)?" + _ONE + ")*"
_DURATION_EXAMPLES = "examples: 90m, 2h, 1d12h, 1h30m, '2 days 17 hours', in 53s"


def parse_duration(text: str) -> float:
    """Seconds in a duration: "90m", "1h30m", "2 days 17 hours", "in 53s", or plain seconds.

    Units: w, d, h, m, s and their words (week, days, hrs, min, seconds, ...). ValueError if
    the text is anything else.
    """
    t = text.strip().lower()
    t = t[3:].lstrip() if t.startswith("in ") else t
    if re.fullmatch(r"\d+(?:\.\d+)?", t):
        return float(t)
    if not t or not re.fullmatch(DURATION, t):
        raise ValueError(f"not a duration: {text!r} ({_DURATION_EXAMPLES})")
    return sum(float(n) * _UNIT_S[u] for n, u in re.findall(_PART, t))


# -- points in time ------------------------------------------------------------------------------

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
# A wall-clock time, with an optional date before it and zone after it: "23:30", "11pm",
# "2:57 PM (UTC)", "7pm PST", "8pm (+02:00)", "Dec 1, 8am (Europe/Lisbon)", "Dec 1 at 9am".
WALL_TIME = (
    r"(?:(?P<mon>[A-Za-z]{3})[a-z]*\.?\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?:at\s+)?)?"
    r"(?P<h>\d{1,2})(?::(?P<m>\d{2}))?\s*(?P<ampm>[ap]\.?\s?m\.?)?"
    r"(?:\s*\(?(?P<zone>[A-Za-z_]+(?:/[A-Za-z_+\-]+)*|[+-]\d{2}:?\d{2})\)?)?"
)
_EPOCH = r"\d{9,13}(?:\.\d+)?"
_TIME_EXAMPLES = (
    "examples: 2026-11-28T09:00, 2026-11-28T09:00Z, 23:30, 11pm, '2:57 PM (UTC)', in 2h, "
    "1795824000"
)


def parse_time(text: str, now: float | None = None) -> float:
    """Epoch seconds for a time a person types: an ISO time (local when it names no zone), a wall
    time (the next one after `now`: "23:30", "11pm", "2:57 PM (UTC)"), "in" and a duration, or an
    epoch (seconds or milliseconds). ValueError if malformed."""
    now = time.time() if now is None else now
    t = text.strip()
    if re.fullmatch(_EPOCH, t):
        return epoch_seconds(float(t))
    if t.lower().startswith("in "):
        try:
            return now + parse_duration(t)
        except ValueError:
            pass
    else:
        m = re.fullmatch(WALL_TIME, t, re.IGNORECASE)
        got = wall_time(m, now) if m else None
        if got is not None:
            return got
        got = parse_iso(t, local_zone())
        if got is not None:
            return got
    raise ValueError(f"not a time: {text!r} ({_TIME_EXAMPLES})")


def epoch_seconds(value: float | int) -> float:
    """Seconds from an epoch that may be in milliseconds (Claude's resetsAt)."""
    try:
        v = float(value)
    except OverflowError:  # a JSON integer with hundreds of digits
        return float("inf") if value > 0 else float("-inf")
    return v / 1000.0 if v > 1e11 else v


def parse_iso(text: str, zone: tzinfo | None = None) -> float | None:
    """An ISO-8601 time as epoch seconds, or None. Without a zone in the text it is in `zone`
    (default UTC: what a vendor's timestamp means). Accepts "Z", " UTC", a space for the T, and
    more than 6 fractional digits."""
    from datetime import UTC, datetime

    s = text.strip().replace(" UTC", "Z").replace("z", "Z")
    if s.endswith("UTC"):
        s = s[:-3] + "Z"
    s = s.replace(" ", "T", 1) if re.match(r"\d{4}-\d{2}-\d{2} \d", s) else s
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        # Python 3.11 accepts up to 6 fractional digits; trim longer ones.
        m = re.match(r"(.*?\.\d{6})\d+(.*)", s)
        if not m:
            return None
        try:
            dt = datetime.fromisoformat((m.group(1) + m.group(2)).replace("Z", "+00:00"))
        except ValueError:
            return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=zone or UTC)
    return dt.timestamp()


def wall_time(m: re.Match[str], ref: float, local_tz: tzinfo | None = None) -> float | None:
    """The time a WALL_TIME match names: the next such time after `ref` (on its date, when it
    names one), in its zone or else `local_tz` (default: this machine's). None when it is not a
    time (wall_clock) or names an IANA zone that is not known here: better unknown than wrong."""
    clock = wall_clock(m)
    if clock is None:
        return None
    zone_text = m.group("zone") or ""
    zone = zone_named(zone_text) if zone_text else None
    if zone is None and "/" in zone_text:
        return None
    hour, minute, month, day = clock
    return next_wall_time(hour, minute, zone or local_tz or local_zone(), ref, month, day)


def wall_clock(m: re.Match[str]) -> tuple[int, int, int, int] | None:
    """(hour, minute, month, day) of a WALL_TIME match (month and day 0 without a date); None
    when it is not a time: a bare number ("resets 3"), out of range, or an unknown month."""
    hour = int(m.group("h"))
    minute = int(m.group("m") or 0)
    ampm = (m.group("ampm") or "").replace(".", "").replace(" ", "").lower()
    if not ampm and m.group("m") is None:
        return None
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm.startswith("p") else 0)
    if hour > 23 or minute > 59:
        return None
    month = day = 0
    if m.group("mon"):
        mon = m.group("mon").lower()[:3]
        if mon not in _MONTHS:
            return None
        month, day = _MONTHS.index(mon) + 1, int(m.group("day"))
    return hour, minute, month, day


def next_wall_time(
    hour: int, minute: int, zone: tzinfo, ref: float, month: int = 0, day: int = 0
) -> float:
    """The first hour:minute in `zone` strictly after `ref` (on month/day when given)."""
    from datetime import datetime, timedelta

    ref_dt = datetime.fromtimestamp(ref, zone)
    if month and day:
        # A dated time: this year's date, or next year's if that is already past.
        for year in (ref_dt.year, ref_dt.year + 1):
            try:
                cand = datetime(year, month, day, hour, minute, tzinfo=zone)
            except ValueError:
                continue
            if cand.timestamp() > ref - 86400:  # allow "today" even if a few hours stale
                return cand.timestamp()
        return datetime(ref_dt.year + 1, month, day, hour, minute, tzinfo=zone).timestamp()
    d = ref_dt.date()
    for _ in range(3):
        cand = datetime(d.year, d.month, d.day, hour, minute, tzinfo=zone)
        if cand.timestamp() > ref:
            return cand.timestamp()
        d = d + timedelta(days=1)
    return cand.timestamp()  # pragma: no cover - unreachable: one of three days is after ref


# -- zones ---------------------------------------------------------------------------------------

# Abbreviations that zoneinfo does not know (or knows with a fixed offset only).
_ZONE_ALIASES = {
    "UTC": "UTC", "GMT": "UTC", "Z": "UTC",
    "PST": "America/Los_Angeles", "PDT": "America/Los_Angeles", "PT": "America/Los_Angeles",
    "MST": "America/Denver", "MDT": "America/Denver",
    "CST": "America/Chicago", "CDT": "America/Chicago",
    "EST": "America/New_York", "EDT": "America/New_York", "ET": "America/New_York",
    "BST": "Europe/London", "CET": "Europe/Paris", "CEST": "Europe/Paris",
}  # fmt: skip


def zone_named(name: str) -> tzinfo | None:
    """A tzinfo for an IANA name, a common abbreviation or a +HH:MM offset; None when unknown."""
    from datetime import UTC, timedelta, timezone

    name = name.strip()
    if not name:
        return None
    m = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", name)
    if m:
        sign = 1 if m.group(1) == "+" else -1
        return timezone(sign * timedelta(hours=int(m.group(2)), minutes=int(m.group(3))))
    name = _ZONE_ALIASES.get(name.upper(), name)
    if name == "UTC":
        return UTC
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def local_zone(env: dict[str, str] | None = None) -> tzinfo:
    """This machine's zone with its DST rules: $TZ when it names a zone, else /etc/localtime (by
    its name when it links into a zoneinfo tree, else read as a file), else a fixed offset."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    env = os.environ if env is None else env  # type: ignore[assignment]
    name = (env.get("TZ") or "").lstrip(":")
    zone = zone_named(name) if name else None
    if zone is not None:
        return zone
    try:
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            zone = zone_named(target.split("zoneinfo/", 1)[1])
            if zone is not None:
                return zone
        with open("/etc/localtime", "rb") as fh:
            return ZoneInfo.from_file(fh, key="localtime")
    except (OSError, ValueError):
        pass
    return datetime.now().astimezone().tzinfo or UTC


# -- showing times to people and scripts ---------------------------------------------------------


# A time shown may come from a damaged store or an absurd vendor message (1e20, inf, NaN): it is
# shown as out of range, never raised (the store, not the display, decides what is believed).
_LATEST = "9999-12-31T23:59:59Z"
_EARLIEST = "0001-01-01T00:00:00Z"


def _finite(x: float) -> bool:
    return x == x and x not in (float("inf"), float("-inf"))


def iso(ts: float | None) -> str | None:
    """UTC ISO-8601 with a Z, for --json; fractional seconds only when there are any."""
    if ts is None or ts != ts:
        return None
    # time.strftime, not datetime: this runs on the `rota select --json` path
    try:
        return (
            time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts))
            + f"{ts % 1:.6f}"[1:].rstrip("0").rstrip(".")
            + "Z"
        )
    except (OverflowError, OSError, ValueError):
        return _LATEST if ts > 0 else _EARLIEST


def utc(ts: float, fmt: str = "%Y-%m-%d %H:%M UTC") -> str:
    """time.strftime(fmt) in UTC, for any number: out of range is said, never raised."""
    try:
        return time.strftime(fmt, time.gmtime(ts))
    except (OverflowError, OSError, ValueError, TypeError):
        return "unknown time" if ts != ts else ("far future" if ts > 0 else "far past")


def local(ts: float | None) -> str:
    """'2026-11-27 23:00 CET': local time, to the minute, with the zone's abbreviation."""
    if ts is None:
        return "-"
    try:
        return time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(ts))
    except (OverflowError, OSError, ValueError):
        return "unknown time" if ts != ts else ("far future" if ts > 0 else "far past")


def relative(ts: float | None, now: float | None = None) -> str:
    """'in 2h 5m' / '3d 4h ago'."""
    if ts is None:
        return "-"
    now = time.time() if now is None else now
    delta = ts - now
    if delta != delta:
        return "at an unknown time"
    text = human_duration(abs(delta))
    return f"in {text}" if delta >= 0 else f"{text} ago"


def when(ts: float | None, now: float | None = None) -> str:
    """'2026-11-27 23:00 CET (in 2h 5m)'; 'never' for no time."""
    if ts is None:
        return "never"
    return f"{local(ts)} ({relative(ts, now)})"


def human_duration(seconds: float) -> str:
    """'45s', '5m', '2h 5m', '3d 4h': the two largest units."""
    if not _finite(seconds) or abs(seconds) > 1e12:  # over 30,000 years: a damaged time
        return "ages"
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= size:
            parts.append(f"{s // size}{unit}")
            s %= size
    return " ".join(parts[:2])
