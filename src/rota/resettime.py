"""Parse reset times out of the limit messages that agent CLIs print.

Every function returns epoch seconds, or None when the text names no reset it can read. A wall time
without a date ("resets 11pm (UTC)", "try again at 2:57 PM") is the next such time after `ref` (the
moment the session ended), in the named zone or, without one, in the local zone. Lenient on purpose:
vendors change their wording often, and an unreadable reset means "back off", never a crash.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime, timedelta, tzinfo

# Abbreviations that zoneinfo does not know (or knows with a fixed offset only).
_ZONE_ALIASES = {
    "UTC": "UTC",
    "GMT": "UTC",
    "Z": "UTC",
    "PST": "America/Los_Angeles",
    "PDT": "America/Los_Angeles",
    "PT": "America/Los_Angeles",
    "MST": "America/Denver",
    "MDT": "America/Denver",
    "CST": "America/Chicago",
    "CDT": "America/Chicago",
    "EST": "America/New_York",
    "EDT": "America/New_York",
    "ET": "America/New_York",
    "BST": "Europe/London",
    "CET": "Europe/Paris",
    "CEST": "Europe/Paris",
}

_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}

_UNIT_SECONDS = {
    "w": 7 * 86400,
    "week": 7 * 86400,
    "d": 86400,
    "day": 86400,
    "h": 3600,
    "hr": 3600,
    "hour": 3600,
    "m": 60,
    "min": 60,
    "minute": 60,
    "s": 1,
    "sec": 1,
    "second": 1,
}

_EPOCH = re.compile(r"\|\s*(\d{9,13})\b")
_ISO = r"(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|z|UTC|[+-]\d{2}:?\d{2})?)"
_ISO_AFTER = re.compile(
    r"(?:after|at|until|on|resets?|reset at|resets at|reset time:?)\s+" + _ISO, re.IGNORECASE
)
_ISO_ANY = re.compile(_ISO)
_DURATION_UNIT = r"(?:weeks?|w|days?|d|hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s)"
_DURATION = re.compile(
    r"\b(?:in|after)\s+((?:\d+(?:\.\d+)?\s*" + _DURATION_UNIT + r"\b[\s,]*(?:and\s+)?)+)",
    re.IGNORECASE,
)
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(" + _DURATION_UNIT + r")\b", re.IGNORECASE)
# "resets 11pm (UTC)", "reset at 3pm (America/New_York)", "try again at 2:57 PM",
# "resets Dec 1, 8am (Europe/Lisbon)", "resets Dec 1 at 8:00 (UTC)".
_WALL = re.compile(
    r"(?:resets?|reset at|resets at|again at|retry at|available at|until)\s+"
    r"(?:(?P<mon>[A-Za-z]{3})[a-z]*\.?\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?:at\s+)?)?"
    r"(?P<h>\d{1,2})(?::(?P<m>\d{2}))?\s*(?P<ampm>[ap]\.?\s?m\.?)?"
    r"(?:\s*\(?(?P<zone>[A-Za-z_]+(?:/[A-Za-z_+\-]+)*|[+-]\d{2}:?\d{2})\)?)?",
    re.IGNORECASE,
)


def local_zone(env: dict[str, str] | None = None) -> tzinfo:
    """The machine's zone: $TZ when it names a zone, else /etc/localtime, else a fixed offset."""
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
    except OSError:
        pass
    return datetime.now().astimezone().tzinfo or UTC


def zone_named(name: str) -> tzinfo | None:
    """A tzinfo for an IANA name, a common abbreviation or a +HH:MM offset; None when unknown."""
    name = name.strip()
    if not name:
        return None
    m = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", name)
    if m:
        from datetime import timezone

        sign = 1 if m.group(1) == "+" else -1
        return timezone(sign * timedelta(hours=int(m.group(2)), minutes=int(m.group(3))))
    name = _ZONE_ALIASES.get(name.upper(), name)
    if name == "UTC":
        return UTC
    try:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    except ImportError:  # pragma: no cover - stdlib on 3.9+
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def parse_epoch(text: str) -> float | None:
    """`Claude AI usage limit reached|1795824000` (seconds, or milliseconds when 13 digits)."""
    m = _EPOCH.search(text)
    if not m:
        return None
    return epoch_seconds(int(m.group(1)))


def epoch_seconds(value: float | int) -> float:
    """Seconds from a value that may be in milliseconds (Claude's resetsAt)."""
    v = float(value)
    return v / 1000.0 if v > 1e11 else v


def parse_iso(text: str) -> float | None:
    """An ISO-8601 time as epoch seconds; a time without a zone is taken as UTC."""
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
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def parse_duration(text: str) -> float | None:
    """Seconds in "2 days 17 hours 4 minutes", "3 hours 51 minutes", "37.5s", "1h 30m"."""
    total = 0.0
    found = False
    for num, unit in _DURATION_PART.findall(text):
        u = unit.lower().rstrip(".")
        key = u if u in _UNIT_SECONDS else u.rstrip("s")
        if key not in _UNIT_SECONDS:
            continue
        total += float(num) * _UNIT_SECONDS[key]
        found = True
    return total if found else None


def next_wall_time(
    hour: int, minute: int, zone: tzinfo, ref: float, month: int = 0, day: int = 0
) -> float:
    """The first hour:minute in `zone` strictly after `ref` (on month/day when given)."""
    ref_dt = datetime.fromtimestamp(ref, zone)
    if month and day:
        # A dated reset: this year's date, or next year's if that is already past.
        for year in (ref_dt.year, ref_dt.year + 1):
            try:
                cand = datetime(year, month, day, hour, minute, tzinfo=zone)
            except ValueError:
                continue
            if cand.timestamp() > ref - 86400:  # allow "today" even if a few hours stale
                return cand.timestamp()
        return datetime(ref_dt.year + 1, month, day, hour, minute, tzinfo=zone).timestamp()
    d: date = ref_dt.date()
    for _ in range(3):
        cand = datetime(d.year, d.month, d.day, hour, minute, tzinfo=zone)
        if cand.timestamp() > ref:
            return cand.timestamp()
        d = d + timedelta(days=1)
    return cand.timestamp()  # pragma: no cover - unreachable: one of three days is after ref


def parse_wall(text: str, ref: float, local_tz: tzinfo | None = None) -> float | None:
    """'resets 11pm (UTC)', 'try again at 2:57 PM', 'resets Dec 1, 8am (Europe/Lisbon)'."""
    for m in _WALL.finditer(text):
        hour = int(m.group("h"))
        minute = int(m.group("m") or 0)
        ampm = (m.group("ampm") or "").replace(".", "").replace(" ", "").lower()
        if not ampm and m.group("m") is None:
            continue  # a bare number ("resets 3") is not a time
        if ampm:
            if not 1 <= hour <= 12:
                continue
            hour = hour % 12 + (12 if ampm.startswith("p") else 0)
        if hour > 23 or minute > 59:
            continue
        month = day = 0
        if m.group("mon"):
            month = _MONTHS.get(m.group("mon").lower()[:3], 0)
            day = int(m.group("day"))
            if not month:
                continue
        zone_text = m.group("zone") or ""
        zone: tzinfo | None = None
        if zone_text:
            zone = zone_named(zone_text)
            if zone is None and "/" in zone_text:
                return None  # an IANA name we cannot resolve: better unknown than wrong
        if zone is None:
            zone = local_tz or local_zone()
        return next_wall_time(hour, minute, zone, ref, month, day)
    return None


def parse_reset(text: str, ref: float, local_tz: tzinfo | None = None) -> float | None:
    """The reset time a limit message names, as epoch seconds; None when it names none.

    ref: when the session ended (epoch seconds): relative durations and dateless wall times count
    from it. local_tz: the zone for wall times that name none (default: this machine's).
    """
    if not text:
        return None

    def iso(pattern: re.Pattern[str]) -> float | None:
        m = pattern.search(text)
        return parse_iso(m.group(1)) if m else None

    def duration() -> float | None:
        m = _DURATION.search(text)
        secs = parse_duration(m.group(1)) if m else None
        return None if secs is None else ref + secs

    # Most specific first; a bare ISO time anywhere (a log line's own timestamp?) comes last.
    for get in (
        lambda: parse_epoch(text),
        lambda: iso(_ISO_AFTER),
        duration,
        lambda: parse_wall(text, ref, local_tz),
        lambda: iso(_ISO_ANY),
    ):
        got = get()
        # A reset well before the session ended is not this limit's reset.
        if got is not None and got > ref - 60:
            return got
    return None
