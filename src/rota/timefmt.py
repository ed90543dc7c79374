"""Parsing and showing times and durations for the command line."""

from __future__ import annotations

import re
import time

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s)", re.IGNORECASE)
_UNIT_S = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> float:
    """'90m', '2h', '1d12h', '1h30m', '45s', or plain seconds -> seconds. ValueError if malformed."""
    t = text.strip().replace(" ", "")
    if re.fullmatch(r"\d+(\.\d+)?", t):
        return float(t)
    pos = 0
    total = 0.0
    for m in _DURATION.finditer(t):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNIT_S[m.group(2).lower()]
        pos = m.end()
    if pos != len(t) or not t:
        raise ValueError(f"not a duration: {text!r} (examples: 90m, 2h, 1d12h)")
    return total


def parse_time(text: str, now: float | None = None) -> float:
    """ISO-8601 ('2026-11-28T09:00', with or without zone: local if none), 'HH:MM' (the next such
    local time), or epoch seconds -> epoch seconds. ValueError if malformed."""
    now = time.time() if now is None else now
    t = text.strip()
    if re.fullmatch(r"\d{9,11}(\.\d+)?", t):
        return float(t)
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", t)
    if m:
        from datetime import datetime, timedelta

        base = datetime.fromtimestamp(now).astimezone()
        cand = base.replace(hour=int(m.group(1)), minute=int(m.group(2)), second=0, microsecond=0)
        if cand.timestamp() <= now:
            cand += timedelta(days=1)
        return cand.timestamp()
    from datetime import datetime

    try:
        dt = datetime.fromisoformat(t.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"not a time: {text!r} (examples: 2026-11-28T09:00, 2026-11-28T09:00Z, 23:30)"
        ) from None
    if dt.tzinfo is None:
        dt = dt.astimezone()  # naive means local time
    return dt.timestamp()


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    # time.strftime, not datetime: this runs on the `rota select --json` path
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts))
        + f"{ts % 1:.6f}"[1:].rstrip("0").rstrip(".")
        + "Z"
    )


def local(ts: float | None) -> str:
    if ts is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(ts))


def relative(ts: float | None, now: float | None = None) -> str:
    """'in 2h 5m' / '3d 4h ago'."""
    if ts is None:
        return "-"
    now = time.time() if now is None else now
    delta = ts - now
    text = human_duration(abs(delta))
    return f"in {text}" if delta >= 0 else f"{text} ago"


def human_duration(seconds: float) -> str:
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= size:
            parts.append(f"{s // size}{unit}")
            s %= size
    return " ".join(parts[:2])
