"""Parse reset times out of the limit messages that agent CLIs print.

Every function returns epoch seconds, or None when the text names no reset it can read. This
module knows how vendors *phrase* a reset; reading a time or a zone itself is rota.timefmt's. A
wall time without a date is the next such time after `ref` (the moment the session ended), in the
named zone or, without one, in the local zone; a date without a time is the start of that day.
Every phrase below exists for a real message: the comment names it (tests/fixtures/limits holds
them all). Strict where the wording is ambiguous: a retry delay ("Retrying in 0.2 seconds"), a
period ("every 5h") or an approximation ("~2 weeks") is not a reset.

Bounded and total: any text of any size, with ANSI escapes or invalid UTF-8, and absurd numbers
give a time or None in bounded time, never an exception. A reset is never before `ref` - 60 s
and never after `ref` + the caller's horizon (and never after HARD_CAP_S, so it can be stored and
formatted).
"""

from __future__ import annotations

import math
import re
from datetime import datetime, tzinfo

from rota.timefmt import epoch_seconds, local_zone, next_wall_time, parse_iso, zone_named
from rota.timefmt import parse_duration as _duration_seconds

MAX_TEXT = 16_384  # characters examined: limit messages are short, and the time stays bounded
HARD_CAP_S = 400 * 86400.0  # no horizon is longer: a year and a bit
_MAX_REF = 253_000_000_000.0  # year ~9987: beyond it no reset can be formatted

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_CTRL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

# -- durations ----------------------------------------------------------------------------------

_NUM = r"\d{1,15}(?:\.\d{1,9})?"
_UNIT = (
    r"(?:weeks?|w|days?|d|hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s)"
    r"(?![a-z])"
)
_ONE = _NUM + r"\s?" + _UNIT
# "2 days 17 hours 4 minutes" (codex), "8h44m7s" and "7h12m3.5s" (gemini), "26.604s" (openai),
# "15 hours 23 minutes" (copilot), "1 day, 2 hours and 5 minutes".
_DURATION = _ONE + r"(?:(?:\s*,\s*|\s+and\s+|\s*)" + _ONE + r"){0,6}"
_DURATION_AFTER = re.compile(
    r"(?P<lead>"
    # "try again in 4 days 20 hours 9 minutes" (codex), "Please try again in 58 hours" (copilot),
    # "Please try again in 26.604s" (openai, via gptme/aider), "retry after 45 seconds"
    r"\b(?:try\s+again|retry)\s+(?:in|after)"
    # "Your quota will reset after 8h44m7s" (gemini), "wait for your limit to reset in 3 hours
    # 49 minutes" (copilot)
    r"|\breset(?:s)?\s+(?:in|after)"
    # "Please upgrade your plan or wait 6 seconds" / "Please wait 2 minutes before trying again"
    # (copilot)
    r"|\bwait"
    # "Try again in ..." after other words, "available in 3 hours"
    r"|\b(?:in|after)"
    r")\s+(?P<dur>" + _DURATION + r")",
    re.IGNORECASE,
)
# The CLI's own retry delay is not the reset: "Retrying in 0.2 seconds..." (aider),
# "Retrying after 6173ms..." (gemini), "529 Overloaded · Retrying in 21s" (claude),
# "[retrying in ~2 weeks attempt #1]" (opencode: rounded, so not a time either).
_RETRY_BEFORE = re.compile(r"\bretrying\s*$|~\s*$", re.IGNORECASE)

# -- absolute times -------------------------------------------------------------------------------

# "Claude AI usage limit reached|1762952400" (claude-code before 2.0; ms when 13 digits).
_EPOCH_BAR = re.compile(r"\|\s*(\d{9,13})\b")
# The codex backend's 429 body: {"type":"usage_limit_reached",...,"resets_at":1777936568,...}
# (also escaped inside another JSON string), and its relative twin "resets_in_seconds".
_JSON_RESET_AT = re.compile(r"\\?\"resets?_at\\?\"\s*:\s*(\d{9,13})\b", re.IGNORECASE)
_JSON_RESET_IN = re.compile(r"\\?\"resets?_in_seconds\\?\"\s*:\s*(\d{1,10})\b", re.IGNORECASE)
_ISO = r"(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|z|UTC|[+-]\d{2}:?\d{2})?)"
# "TerminalQuotaError: ... Please retry after 2026-11-28T00:00:00Z" (gemini),
# "quotaResetTimeStamp": "2025-12-18T20:18:34Z" (Google's 429 details).
_ISO_AFTER = re.compile(
    r"(?:after|at|until|on|resets?|reset\s+at|reset\s+time:?|ResetTimeStamp\\?\"?\s*:)\s*\\?\"?"
    + _ISO,
    re.IGNORECASE,
)
_ISO_ANY = re.compile(_ISO)

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
# pt/es abbreviations, only in the "10 de jul. de 2026" form (codex app, pt-BR locale).
_MONTHS_LATIN = {"fev": 2, "abr": 4, "mai": 5, "ago": 8, "set": 9, "out": 10, "dez": 12}
_MONTHS_LATIN.update({"ene": 1, "dic": 12})
_ZONE_WORDS = r"UTC|GMT|PST|PDT|PT|MST|MDT|CST|CDT|EST|EDT|ET|BST|CET|CEST"
_TIME = r"(?P<h>\d{1,2})(?::(?P<m>\d{2}))?\s*(?P<ampm>[ap]\.?\s?m\.?(?![a-z]))?"
# "(America/New_York)", "(Etc/GMT+5)", "(+02:00)", " PST"
_ZONE = (
    r"(?:\s*\(\s*(?P<zone>[A-Za-z_]+(?:/[A-Za-z0-9_+\-]+)*|[+-]\d{2}:?\d{2})\s*\)"
    r"|\s+(?P<zone2>" + _ZONE_WORDS + r")(?![\w/]))?"
)
# What introduces a wall-clock reset: "resets 3pm" / "reset at 9am" (claude), "try again at 7:58
# PM" / "try again after July 3, 2026 at 2:45 PM" (codex), "Your rate limit resets on Jul 3,
# 2026, 11:43 AM" (codex app), "retry at", "available at", "until".
_LEAD = (
    r"(?:\bresets?(?:\s+(?:at|on))?|\breset\s+at|\bagain\s+(?:at|after|on)|\bretry\s+(?:at|after)"
    r"|\bavailable\s+(?:at|on)|\buntil)\s+"
)
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
# "resets Oct 24" (a date alone: claude), "resets Oct 31, 9am" / "resets Dec 4, 9:24pm (UTC)"
# (claude), "try again at Jul 5th, 2026 8:19 PM" / "Dec 2nd, 2026 1:22 AM" (codex), "try again
# after July 3, 2026 at 2:45 PM" / "September 6, 2026, 11:15." (codex app).
_DATED = re.compile(
    _LEAD + r"(?P<mon>[a-z]{3})[a-z]*\.?\s+" + _DAY + r"(?:\s*,?\s*(?P<year>\d{4}))?"
    r"(?:\s*,?\s*(?:at\s+)?" + _TIME + r")?" + _ZONE + r"(?![\w:])",
    re.IGNORECASE,
)
# "try again at 10 de jul. de 2026, 11:52" (codex app, pt-BR).
_DATED_LATIN = re.compile(
    _LEAD + r"(?P<day>\d{1,2})\s+de\s+(?P<mon>[a-z]{3})[a-z]*\.?\s+de\s+(?P<year>\d{4})"
    r"(?:\s*,?\s*(?:[aà]s\s+)?" + _TIME + r")?" + _ZONE + r"(?![\w:])",
    re.IGNORECASE,
)
# "resets 11pm (UTC)", "resets 1:30am (Asia/Dhaka)" (claude), "try again at 2:57 PM" (codex).
_WALL = re.compile(_LEAD + _TIME + _ZONE + r"(?![\w:])", re.IGNORECASE)


def clean(text: str) -> str:
    """The text without ANSI escapes or control characters, at most MAX_TEXT characters."""
    text = _ANSI.sub("", text[: MAX_TEXT * 2])
    return _CTRL.sub(" ", text.replace("\t", " "))[:MAX_TEXT]


def unwrap(text: str, glue: str = " ") -> str:
    """The lines of a message joined as they were before a terminal wrapped them ("try again in
    5 days 22 hours 11\\nminutes"; "or try a\\ngain at Jun 18th, 2026 8:41 AM" needs glue="")."""
    lines = text.split("\n")  # no regex: a run of blanks must not cost its length squared
    last = len(lines) - 1
    return glue.join(
        (line if i == last else line.removesuffix("\r").rstrip(" \t"))
        if i == 0
        else (line if i == last else line.removesuffix("\r").rstrip(" \t")).lstrip(" \t>│|")
        for i, line in enumerate(lines)
    )


def cap_reset(resets_at: float | None, ref: float, horizon_s: float | None = None) -> float | None:
    """A reset that can be stored: None when absent, not finite, or before `ref` (a stale reset is
    not this limit's); at most `ref` + horizon (the harness's longest window, a little over)."""
    if resets_at is None or not math.isfinite(resets_at) or not 0 < ref < _MAX_REF:
        return None  # (a session "ending" past year 9987 has no reset that can be formatted)
    if resets_at <= ref - 60:
        return None
    limit = HARD_CAP_S if horizon_s is None else min(max(horizon_s, 0.0), HARD_CAP_S)
    return min(resets_at, ref + limit)


def parse_epoch(text: str) -> float | None:
    """`Claude AI usage limit reached|1795824000` (seconds, or milliseconds when 13 digits)."""
    m = _EPOCH_BAR.search(text)
    return epoch_seconds(int(m.group(1))) if m else None


def parse_duration(text: str) -> float | None:
    """Seconds in the first duration the text names ("3 hours 51 minutes", "37.5s", "1h 30m")."""
    m = re.search(_DURATION, text, re.IGNORECASE)
    if not m:
        return None
    try:
        secs = _duration_seconds(re.sub(r"\s*,\s*|\s+and\s+", " ", m.group(0)))
    except ValueError:  # never raise on a vendor's text
        return None
    return secs if math.isfinite(secs) else None


def _clock(m: re.Match[str], need_minutes_or_marker: bool = True) -> tuple[int, int] | None:
    """(hour, minute) of a _TIME match; None when it is not a time ("resets 3", "13pm")."""
    hour, minute = int(m.group("h")), int(m.group("m") or 0)
    ampm = (m.group("ampm") or "").replace(".", "").replace(" ", "").lower()
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm.startswith("p") else 0)
    elif need_minutes_or_marker and m.group("m") is None:
        return None
    if hour > 23 or minute > 59:
        return None
    return hour, minute


def _zone_of(m: re.Match[str], local: tzinfo) -> tzinfo | None:
    """The zone a match names, else the local one; None for a name not known here (better
    unknown than wrong)."""
    name = m.group("zone") or m.group("zone2") or ""
    return zone_named(name) if name else local


def _dated(m: re.Match[str], month: int, ref: float, local: tzinfo) -> float | None:
    clock = (0, 0)  # a date alone: the start of that day
    if m.group("h") is not None:
        got = _clock(m)
        if got is None:
            return None
        clock = got
    zone = _zone_of(m, local)
    if zone is None:
        return None
    day = int(m.group("day"))
    if m.group("year"):
        return datetime(int(m.group("year")), month, day, *clock, tzinfo=zone).timestamp()
    year = datetime.fromtimestamp(ref, zone).year
    for y in (year, year + 1):  # this year's date, or next year's if that is already past
        try:
            cand = datetime(y, month, day, *clock, tzinfo=zone).timestamp()
        except ValueError:
            continue
        if cand > ref - 86400:  # "today" even if a few hours stale
            return cand
    return None


def parse_wall(text: str, ref: float, local_tz: tzinfo | None = None) -> float | None:
    """A dated or dateless wall time after a reset phrase; None when there is none."""
    local = local_tz or local_zone()
    for m in _DATED.finditer(text):
        mon = m.group("mon").lower()
        if mon in _MONTHS:
            got = _dated(m, _MONTHS.index(mon) + 1, ref, local)
            if got is not None:
                return got
    for m in _DATED_LATIN.finditer(text):
        mon = m.group("mon").lower()
        month = _MONTHS.index(mon) + 1 if mon in _MONTHS else _MONTHS_LATIN.get(mon, 0)
        if month:
            got = _dated(m, month, ref, local)
            if got is not None:
                return got
    for m in _WALL.finditer(text):
        clock = _clock(m)
        zone = _zone_of(m, local)
        if clock is not None and zone is not None:
            return next_wall_time(clock[0], clock[1], zone, ref)
    return None


def _duration(text: str, ref: float) -> float | None:
    for m in _DURATION_AFTER.finditer(text):
        if _RETRY_BEFORE.search(text, max(0, m.start() - 24), m.start()):
            continue
        if text[max(0, m.start("dur") - 1) : m.start("dur")] == "~":
            continue
        secs = parse_duration(m.group("dur"))
        if secs is not None:
            return ref + secs
    return None


def _reset_in(text: str, ref: float, local: tzinfo) -> float | None:
    """The first reset the (unwrapped) text names, most specific phrase first."""
    m = _EPOCH_BAR.search(text)
    if m:
        return epoch_seconds(int(m.group(1)))
    m = _JSON_RESET_AT.search(text)
    if m:
        return epoch_seconds(int(m.group(1)))
    m = _JSON_RESET_IN.search(text)
    if m:
        return ref + int(m.group(1))
    m = _ISO_AFTER.search(text)
    got = parse_iso(m.group(1)) if m else None
    if got is not None:
        return got
    m_dated = _DATED.search(text) or _DATED_LATIN.search(text)
    if m_dated is not None:
        got = parse_wall(text, ref, local)
        if got is not None:
            return got
    got = _duration(text, ref)
    if got is not None:
        return got
    got = parse_wall(text, ref, local)
    if got is not None:
        return got
    # A bare ISO time anywhere (a log line's own timestamp?) comes last.
    m = _ISO_ANY.search(text)
    return parse_iso(m.group(1)) if m else None


def parse_reset(
    text: str, ref: float, local_tz: tzinfo | None = None, horizon_s: float | None = None
) -> float | None:
    """The reset time a limit message names, as epoch seconds; None when it names none.

    ref: when the session ended (epoch seconds): relative durations and dateless wall times count
    from it. local_tz: the zone for wall times that name none (default: this machine's).
    horizon_s: the longest a reset may lie after ref (the harness's longest window, a little
    over); an absurd reset ("in 99999999999999999999 days") is capped to it.
    """
    if not text or not isinstance(ref, (int, float)) or not 0 < ref < _MAX_REF:
        return None
    local = local_tz or local_zone()
    base = clean(text)
    for variant in dict.fromkeys((unwrap(base, " "), unwrap(base, ""))):
        try:
            got = _reset_in(variant, ref, local)
        except (ValueError, OverflowError, OSError):
            got = None  # a date the calendar cannot hold ("Feb 30", year 10000): no reset
        if got is not None:
            return cap_reset(got, ref, horizon_s)
    return None
