"""Quota pacing: use it or lose it, and hold back when running ahead of pace. Pure, no I/O.

For the quota windows that cover one arm (its harness, its pools, itself):
- **Use it or lose it.** A window that resets within the horizon with much unused headroom is
  quota that will be lost: the arm gets a bonus, larger the more would be lost and the sooner the
  reset. The headroom that counts is the smallest over all windows of the arm, since a
  five-hour window's headroom cannot be used once the weekly window is spent.
- **Ahead of pace.** A window whose use runs ahead of an even pace toward its reset (more used
  than the elapsed share of the window) gets a penalty, so routine work leaves the rest to work
  that needs this pool (rules with a high min_tier still reach it).

`pacing_adjustment(states, settings, now) -> (delta, explanation)`; the policy adds delta to the
arm's score and shows the explanation in `--explain`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rota.quota.state import QuotaState
from rota.records import record

# Known window lengths when a source does not give one.
_WINDOW_MINUTES = {"five_hour": 300.0, "seven_day": 10080.0, "monthly": 43200.0}
# A window this close to an even pace is on pace: no penalty for noise.
PACE_SLACK = 0.1


@record
class _Window:
    name: str
    used: float  # 0..1
    resets_in: float  # seconds, > 0
    length: float  # seconds, > 0


def _setting(settings: object, name: str, default: float) -> float:
    v = (
        settings.get(name, default)
        if isinstance(settings, dict)
        else getattr(settings, name, default)
    )
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return default
    return float(v)


_Settings = tuple[bool, float, float, float, float]
# Settings read once per settings object (select asks for every arm of every decision); a dict
# (mutable) is read every time.
_RESOLVED: dict[int, tuple[object, _Settings]] = {}


def _resolve(settings: object) -> tuple[object, _Settings]:
    enabled = bool(
        settings.get("enabled", True)  # type: ignore[attr-defined]
        if isinstance(settings, dict)
        else getattr(settings, "enabled", True)
    )
    got = (
        settings,
        (
            enabled,
            _setting(settings, "use_it_horizon_hours", 6.0),
            _setting(settings, "use_it_min_headroom", 0.4),
            _setting(settings, "bonus", 0.05),
            _setting(settings, "ahead_penalty", 0.05),
        ),
    )
    if not isinstance(settings, dict):
        if len(_RESOLVED) >= 16:
            _RESOLVED.clear()
        _RESOLVED[id(settings)] = got
    return got


def _windows(states: Iterable[QuotaState], now: float) -> list[_Window]:
    """Windows with a known use, reset and length, deduplicated (a pool repeats its harness)."""
    out: dict[tuple[str, float, float], _Window] = {}
    for s in states:
        if s.utilization is None or s.resets_at is None or s.resets_at <= now:
            continue
        if s.available is False:
            continue  # exhausted arms are not candidates at all
        minutes = s.window_minutes or _WINDOW_MINUTES.get(s.window)
        if not minutes and s.window.startswith("seven_day"):
            minutes = _WINDOW_MINUTES["seven_day"]
        if not minutes or minutes <= 0:
            continue
        used = min(1.0, max(0.0, s.utilization))
        key = (s.window, round(s.resets_at), round(used, 4))
        out[key] = _Window(s.window or s.scope, used, s.resets_at - now, minutes * 60.0)
    return list(out.values())


def _dur(seconds: float) -> str:
    m = int(seconds // 60)
    if m >= 48 * 60:
        return f"{m // 1440}d{(m % 1440) // 60}h"
    if m >= 60:
        return f"{m // 60}h{m % 60:02d}m"
    return f"{m}m"


def pacing_adjustment(
    states: Sequence[QuotaState], settings: object, now: float
) -> tuple[float, str]:
    """(delta to add to the arm's score, explanation); (0.0, "") when pacing has nothing to say.

    settings: rota.config.PacingSettings (enabled, use_it_horizon_hours, use_it_min_headroom,
    bonus, ahead_penalty) or a dict with those keys.
    """
    if settings is None:
        return 0.0, ""
    got = _RESOLVED.get(id(settings))
    if got is None or got[0] is not settings:
        got = _resolve(settings)
    enabled, horizon_h, min_headroom, bonus_max, penalty_max = got[1]
    if not enabled:
        return 0.0, ""
    windows = _windows(states, now)
    if not windows:
        return 0.0, ""
    usable = min(1.0 - w.used for w in windows)  # what the tightest window still allows

    bonus, bonus_note = 0.0, ""
    if bonus_max > 0 and horizon_h > 0:
        for w in windows:
            # The horizon never exceeds the window itself (a 5-hour window always "resets soon").
            horizon = min(horizon_h * 3600.0, w.length)
            headroom = min(1.0 - w.used, usable)
            if w.resets_in > horizon or headroom < min_headroom:
                continue
            urgency = 1.0 - w.resets_in / horizon
            b = bonus_max * headroom * (0.5 + 0.5 * urgency)
            if b > bonus:
                bonus = b
                bonus_note = (
                    f"use it or lose it: {w.name} resets in {_dur(w.resets_in)} with "
                    f"{headroom:.0%} unused +{b:.3f}"
                )

    penalty, penalty_note = 0.0, ""
    if penalty_max > 0:
        for w in windows:
            left = w.resets_in / w.length  # share of the window still to run
            left = min(1.0, max(left, 1e-6))
            # Headroom per unit of remaining time; 1 is an even pace, below 1 runs ahead.
            pace = (1.0 - w.used) / left
            if pace >= 1.0 - PACE_SLACK:
                continue
            p = penalty_max * min(1.0, 1.0 - pace)
            if p > penalty:
                penalty = p
                penalty_note = (
                    f"ahead of pace: {w.name} {w.used:.0%} used with {left:.0%} of the window "
                    f"left -{p:.3f}"
                )

    delta = bonus - penalty
    notes = "; ".join(n for n in (bonus_note, penalty_note) if n)
    if not notes:
        return 0.0, ""
    prefix = f"pacing {delta:+.3f}: " if bonus and penalty else "pacing: "
    return round(delta, 6), prefix + notes
