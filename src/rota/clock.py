"""What to believe of a recorded time. Pure, no I/O (the caller passes `now`).

Times come from machines whose clocks can be wrong (a clock a year ahead, a fleet member that
drifted) and from vendors' messages (a reset in 10^20 days). Believed blindly, one bad time does
lasting damage: evidence stamped a year ahead freezes an arm's learning (each later grade would be
added "already decayed" by a year), and a limit hit with the clock 30 days ahead blocks a harness
for 30 real days. So:

- a time more than MAX_AHEAD_S in the future is not believed: evidence and blocks stamped then
  are taken as made now (with a warning);
- a block never lasts longer than the window it stands for (five hours for a five-hour window,
  with a day's slack for a reset named by a wall time), and none lies further ahead than
  MAX_BLOCK_S;
- a time that is not a finite number, or before EARLIEST, is damage.
"""

from __future__ import annotations

import math

from rota.learning.bandit import Evidence
from rota.quota.state import Block

EARLIEST = 1_577_836_800.0  # 2020-01-01T00:00Z: no rota record is older; earlier is damage
MAX_AHEAD_S = 300.0  # fleet members' clocks may differ by this much without a warning
DAY = 86400.0
MAX_BLOCK_S = 31 * DAY  # the longest window any vendor has: a month
MAX_RESET_S = 400 * DAY  # as rota.resettime.HARD_CAP_S: a "reset" further away is none

# Block sources that are holds, not quota windows: `rota block` (manual), and a harness held until
# a person fixes its credentials or CLI (infra, rota.session.infra). They last as long as asked.
HELD_SOURCES = ("manual", "infra")

# Window names the profiles and probes use -> their length.
WINDOW_SECONDS = {
    "five_hour": 5 * 3600.0,
    "hourly": 3600.0,
    "daily": DAY,
    "seven_day": 7 * DAY,
    "weekly": 7 * DAY,
    "monthly": MAX_BLOCK_S,
    "premium_monthly": MAX_BLOCK_S,
}


def finite(ts: object) -> bool:
    return isinstance(ts, (int, float)) and not isinstance(ts, bool) and math.isfinite(ts)


def plausible(ts: object, now: float, *, ahead: float = MAX_AHEAD_S) -> bool:
    """A finite time between EARLIEST and `ahead` seconds from now."""
    return finite(ts) and EARLIEST <= ts <= now + ahead  # type: ignore[operator]


def ahead_by(ts: float, now: float) -> float:
    """How far `ts` lies beyond what the clock allows (0 when it is believable)."""
    return max(0.0, ts - now - MAX_AHEAD_S) if finite(ts) else 0.0


def window_seconds(window: str) -> float | None:
    """The length of a named quota window ("five_hour", "seven_day_opus", ...), else None."""
    w = (window or "").strip().lower()
    if w in WINDOW_SECONDS:
        return WINDOW_SECONDS[w]
    for name, seconds in WINDOW_SECONDS.items():
        if w.startswith(name + "_"):  # seven_day_opus, seven_day_sonnet
            return seconds
    return None


def reset_within_reach(resets_at: object, ref: float) -> float | None:
    """A parsed reset time if it is believable (finite, after `ref` less a minute, within
    MAX_RESET_S), else None: an unreadable reset means "back off", never a block for ages."""
    if not finite(resets_at) or not finite(ref):
        return None
    if resets_at <= ref - 60 or resets_at > ref + MAX_RESET_S:  # type: ignore[operator]
        return None
    return float(resets_at)  # type: ignore[arg-type]


WALL_SLACK_S = DAY  # a reset named by a wall time ("resets 6pm") may lie up to a day ahead


def cap_until(until: float, now: float, window: str = "") -> float:
    """A block's end: at most the window it names (and a day's slack for a wall-clock reset)
    from now, or MAX_BLOCK_S when the window is unknown."""
    length = window_seconds(window)
    longest = min(length + WALL_SLACK_S, MAX_BLOCK_S) if length else MAX_BLOCK_S
    if not finite(until):
        return now + longest
    return min(until, now + longest)


def believable_block(block: Block, now: float) -> tuple[Block, str]:
    """A stored block as it should be read now, and a warning when it had to be changed.

    - Stamped in the future (the clock was ahead when it was written): taken as made now, for as
      long as it was meant to last (at most MAX_BLOCK_S). `rota run` writes that back, so the
      block then ends at a fixed time.
    - A block rota made (a limit, a backoff) ends at most MAX_BLOCK_S after it was made: no
      quota window is longer. A hold (HELD_SOURCES: written by hand with `rota block`, or left
      until a person fixes the harness's credentials or CLI) lasts as long as asked.
    """
    created, until = block.created_at, block.until
    where = f"block on {block.scope_kind}:{block.scope}"
    if finite(created) and created > now + MAX_AHEAD_S:
        length = until - created if finite(until) else MAX_BLOCK_S
        length = max(0.0, length if block.source in HELD_SOURCES else min(length, MAX_BLOCK_S))
        return block._replace(created_at=now, until=now + length), (
            f"{where} was recorded {_days(created - now)} ahead of this clock; "
            f"it is taken as made now and lasts {_days(length)}"
        )
    if block.source in HELD_SOURCES:
        return block, ""
    anchor = created if plausible(created, now) else now
    latest = anchor + MAX_BLOCK_S
    if not finite(until) or until > latest:
        return block._replace(until=latest), (
            f"{where} ends {'at no readable time' if not finite(until) else _days(until - anchor) + ' after it was made'}, "
            "longer than any quota window; it ends a month after it was made"
        )
    return block, ""


def believable_evidence(ev: Evidence, now: float) -> tuple[Evidence, str]:
    """Evidence whose clock is ahead of `now` is taken as brought up to date now (its masses
    kept): otherwise every later observation would be added decayed by the whole gap."""
    if finite(ev.t) and ev.t <= now + MAX_AHEAD_S:
        return ev, ""
    if not finite(ev.t):
        return ev._replace(t=now), "evidence has no readable time; it is taken as of now"
    return ev._replace(t=now), f"evidence was recorded {_days(ev.t - now)} ahead of this clock"


def _days(seconds: float) -> str:
    if seconds >= 2 * DAY:
        return f"{seconds / DAY:.0f} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.0f} hours"
    return f"{max(0.0, seconds) / 60:.0f} minutes"


__all__ = [
    "EARLIEST",
    "MAX_AHEAD_S",
    "MAX_BLOCK_S",
    "MAX_RESET_S",
    "ahead_by",
    "believable_block",
    "believable_evidence",
    "cap_until",
    "finite",
    "plausible",
    "reset_within_reach",
    "window_seconds",
]
