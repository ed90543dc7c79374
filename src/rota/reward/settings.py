"""[grading] in the config file -> GradingSettings (rota.config.schema), checked: every gain,
penalty and scale of the graded reward, the LLM judge, the test run before the session, and the
delayed signals. Every key is optional; a mistake names the file and the key (ConfigError, 78).

    [grading]
    test_before = false            # run [run] test_command before the session too
    judge = ""                     # "harness:model", e.g. "claude-code:haiku"
    judge_exclude_same_family = true
    judge_timeout_seconds = 120
    followup_command = []          # argv; see rota.reward.followup
    followup_days = 7              # commits not on the default branch after this lower the grade
    size_half = 100                # work units for half the size gain
    file_lines = 10                # a touched file counts as this many lines
    uncommitted_share = 0.4        # uncommitted work counts at this share of committed work
    storm_free = 5                 # failing tool calls that cost nothing
    storm_full = 20                # failing tool calls that cost the whole error_storm penalty
    [grading.weights]              # gains: finished 0.1, commits 0.25, size 0.2, tests 0.3,
                                   # pr 0.15, judge 0.3, grader 0.3
    [grading.penalties]            # broke_tests 0.25, error_storm 0.2, turn_limit 0.15,
                                   # reverted 0.1, unmerged 0.1

Read on every `rota select` (the config is validated each time): no heavy imports here.
"""

from __future__ import annotations

import math

from rota.config.schema import GAINS, PENALTIES, GradingSettings
from rota.errors import ConfigError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the select path
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from rota.config.reader import Problems

RewardSettings = GradingSettings
DEFAULT = GradingSettings()
# Harness profiles that can run without tools, so that they can judge (rota.reward.judge).
JUDGE_HARNESSES = ("claude-code", "codex", "gemini")
# The weights of the grade before trajectory grading, still accepted: each maps to a gain.
LEGACY_WEIGHTS = {"exit": "finished", "harness": "finished", "files": "size"}

_NUMBERS = {  # key: (minimum, maximum): finite ranges, as every number in the config
    "size_half": (1.0, 1e9),
    "file_lines": (0.0, 1e6),
    "uncommitted_share": (0.0, 1.0),
    "judge_timeout_seconds": (1.0, 86400.0),
    "followup_days": (0.0, 365.0),
}
_INTEGERS = {"storm_free": (0, 100_000), "storm_full": (1, 100_000)}
_BOOLS = ("test_before", "judge_exclude_same_family")
_KEYS = sorted(
    [*_NUMBERS, *_INTEGERS, *_BOOLS, "judge", "followup_command", "weights", "penalties"]
)


def _number(v: object) -> bool:
    """A finite number: NaN and infinities are refused (a NaN passes every bound)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


class _Found(Exception):
    """One problem in [grading]: (key under grading, message)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key, self.message = key, message


def _table(v: object, known: dict[str, float], key: str, legacy: bool, found: list[_Found]) -> None:
    what = "gain" if legacy else "penalty"
    if not isinstance(v, dict):
        found.append(_Found(key, f"expected a table, got {type(v).__name__}"))
        return
    for name, w in v.items():
        target = LEGACY_WEIGHTS.get(name, name) if legacy else name
        if target not in known:
            found.append(
                _Found(
                    f"{key}.{name}",
                    f"unknown {what} {name!r}; expected one of: {', '.join(sorted(known))}",
                )
            )
        elif not _number(w) or w < 0 or w > (100 if legacy else 1):
            rng = "from 0 to 100" if legacy else "from 0 to 1"
            found.append(_Found(f"{key}.{name}", f"expected a finite number {rng}, got {w!r}"))
        else:
            known[target] = float(w)


def from_table(
    table: Mapping[str, Any], path: str | None = None, problems: Problems | None = None
) -> GradingSettings:
    """[grading] as read from TOML -> GradingSettings. Unknown keys are errors: with `problems`
    (rota.config.reader) each is collected there and the default kept; without, the first one is
    raised as a ConfigError naming the file and the key."""
    found: list[_Found] = []
    try:
        s = _parse(table, found)
    except _Found as exc:
        found.append(exc)
        s = DEFAULT
    if problems is not None:
        for f in found:
            problems.add(f.message, f"grading.{f.key}")
    elif found:
        raise ConfigError(found[0].message, path=path, key=f"grading.{found[0].key}")
    return s


def _parse(table: Mapping[str, Any], found: list[_Found]) -> GradingSettings:
    def err(key: str, msg: str) -> _Found:
        return _Found(key, msg)

    out: dict[str, Any] = {}
    weights = dict(DEFAULT.weights)
    penalties = dict(DEFAULT.penalties)
    for key, v in table.items():
        if key == "weights":
            _table(v, weights, key, True, found)
        elif key == "penalties":
            _table(v, penalties, key, False, found)
        elif key in _NUMBERS:
            lo, hi = _NUMBERS[key]
            if not _number(v) or v < lo or v > hi:
                found.append(err(key, f"expected a finite number from {lo:g} to {hi:g}, got {v!r}"))
                continue
            out[key] = float(v)
        elif key in _INTEGERS:
            lo_i, hi_i = _INTEGERS[key]
            if not isinstance(v, int) or isinstance(v, bool) or not lo_i <= v <= hi_i:
                found.append(err(key, f"expected an integer from {lo_i} to {hi_i}, got {v!r}"))
                continue
            out[key] = v
        elif key in _BOOLS:
            if not isinstance(v, bool):
                found.append(err(key, f"expected true or false, got {v!r}"))
                continue
            out[key] = v
        elif key == "judge":
            if not isinstance(v, str) or (v and ":" not in v):
                found.append(
                    err(key, f'expected "harness:model" (e.g. "claude-code:haiku") or "", got {v!r}')
                )
                continue
            out[key] = v
        elif key == "followup_command":
            if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
                found.append(err(key, f"expected a list of strings (an argv), got {v!r}"))
                continue
            out[key] = tuple(v)
        else:
            found.append(err(key, f"unknown key {key!r}; expected one of: {', '.join(_KEYS)}"))
    s = GradingSettings(weights=weights, penalties=penalties, **out)
    if s.storm_full <= s.storm_free:
        found.append(
            err("storm_full", f"expected more than storm_free ({s.storm_free}), got {s.storm_full}")
        )
        s = s._replace(storm_free=DEFAULT.storm_free, storm_full=DEFAULT.storm_full)
    return s


__all__ = [
    "DEFAULT",
    "GAINS",
    "JUDGE_HARNESSES",
    "LEGACY_WEIGHTS",
    "PENALTIES",
    "RewardSettings",
    "from_table",
]
