"""Parse reset times out of the limit messages that agent CLIs print.

Every function returns epoch seconds, or None when the text names no reset it can read. This
module knows how vendors *phrase* a reset ("resets 11pm (UTC)", "try again in 2 days 17 hours",
"usage limit reached|1795824000", "retry after 2026-11-28T00:00Z"); reading the time itself is
rota.timefmt's, the one parser of times and durations. A wall time without a date is the next such
time after `ref` (the moment the session ended), in the named zone or, without one, in the local
zone. Lenient on purpose: vendors change their wording often, and an unreadable reset means "back
off", never a crash.
"""

from __future__ import annotations

import re
from datetime import tzinfo

from rota.timefmt import DURATION, WALL_TIME, epoch_seconds, parse_iso, wall_clock, wall_time
from rota.timefmt import parse_duration as _duration_seconds

# "...usage limit reached|1795824000" (seconds, or milliseconds when 13 digits).
_EPOCH = re.compile(r"\|\s*(\d{9,13})\b")
_ISO = r"(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|z|UTC|[+-]\d{2}:?\d{2})?)"
_ISO_AFTER = re.compile(
    r"(?:after|at|until|on|resets?|reset at|resets at|reset time:?)\s+" + _ISO, re.IGNORECASE
)
_ISO_ANY = re.compile(_ISO)
# "try again in 2 days 17 hours", "retry after 45 seconds".
_DURATION = re.compile(r"\b(?:in|after)\s+(" + DURATION + ")", re.IGNORECASE)
_DURATION_ANY = re.compile(DURATION, re.IGNORECASE)
# "resets 11pm (UTC)", "reset at 3pm (America/New_York)", "try again at 2:57 PM",
# "resets Dec 1, 8am (Europe/Lisbon)", "resets Dec 1 at 8:00 (UTC)".
_WALL = re.compile(
    r"(?:resets?|reset at|resets at|again at|retry at|available at|until)\s+" + WALL_TIME,
    re.IGNORECASE,
)


def parse_epoch(text: str) -> float | None:
    """`Claude AI usage limit reached|1795824000` (seconds, or milliseconds when 13 digits)."""
    m = _EPOCH.search(text)
    if not m:
        return None
    return epoch_seconds(int(m.group(1)))


def parse_duration(text: str) -> float | None:
    """Seconds in the first duration the text names ("3 hours 51 minutes", "37.5s", "1h 30m")."""
    m = _DURATION_ANY.search(text)
    try:
        return _duration_seconds(m.group(0)) if m else None
    except ValueError:  # never raise on a vendor's text
        return None


def parse_wall(text: str, ref: float, local_tz: tzinfo | None = None) -> float | None:
    """'resets 11pm (UTC)', 'try again at 2:57 PM', 'resets Dec 1, 8am (Europe/Lisbon)'."""
    for m in _WALL.finditer(text):
        if wall_clock(m) is not None:  # else not a time ("resets 3"): look further
            return wall_time(m, ref, local_tz)
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
