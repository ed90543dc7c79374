"""[grading]: the weights, scales and penalties of the graded reward, the LLM judge, the test run
before the session, and the delayed signals. Every key is optional; `from_table` checks types
and ranges and names the file and key of any mistake (ConfigError, exit 78).

    [grading]
    test_before = false            # run [run] test_command before the session too
    judge = ""                     # "harness:model", e.g. "claude-code:haiku"
    judge_exclude_same_family = true
    judge_timeout_seconds = 120
    followup_command = []          # argv; see rota.reward.followup
    followup_days = 7              # commits not on the default branch after this lower the grade
    size_half = 100                # work units for half the size credit
    file_lines = 10                # a touched file counts as this many lines
    uncommitted_share = 0.4        # uncommitted work counts at this share of committed work
    storm_free = 5                 # tool errors that cost nothing
    storm_full = 20                # tool errors that cost the whole error_storm penalty
    [grading.weights]              # gains: their weighted mean is the grade before penalties
    finished = 0.10, commits = 0.25, size = 0.20, tests = 0.30, pr = 0.15, judge = 0.30,
    grader = 0.30
    [grading.penalties]            # subtracted after
    broke_tests = 0.25, error_storm = 0.20, turn_limit = 0.15, reverted = 0.10, unmerged = 0.10
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from rota.errors import ConfigError

GAINS: Mapping[str, float] = MappingProxyType(
    {
        "finished": 0.10,
        "commits": 0.25,
        "size": 0.20,
        "tests": 0.30,
        "pr": 0.15,
        "judge": 0.30,
        "grader": 0.30,
    }
)
PENALTIES: Mapping[str, float] = MappingProxyType(
    {
        "broke_tests": 0.25,
        "error_storm": 0.20,
        "turn_limit": 0.15,
        "reverted": 0.10,
        "unmerged": 0.10,
    }
)
# The weights of the grade before trajectory grading, still accepted: each maps to its new gain.
LEGACY_WEIGHTS = {"exit": "finished", "harness": "finished", "files": "size"}


@dataclass(frozen=True, slots=True)
class RewardSettings:
    weights: Mapping[str, float] = field(default_factory=lambda: dict(GAINS))
    penalties: Mapping[str, float] = field(default_factory=lambda: dict(PENALTIES))
    size_half: float = 100.0
    file_lines: float = 10.0
    uncommitted_share: float = 0.4
    storm_free: int = 5
    storm_full: int = 20
    test_before: bool = False
    judge: str = ""
    judge_exclude_same_family: bool = True
    judge_timeout_seconds: float = 120.0
    followup_command: tuple[str, ...] = ()
    followup_days: float = 7.0

    def with_(self, **changes: Any) -> RewardSettings:
        return replace(self, **changes)


DEFAULT = RewardSettings()

_NUMBERS = {  # key: (minimum, maximum or None)
    "size_half": (1.0, None),
    "file_lines": (0.0, None),
    "uncommitted_share": (0.0, 1.0),
    "judge_timeout_seconds": (1.0, None),
    "followup_days": (0.0, None),
}
_INTEGERS = {"storm_free": 0, "storm_full": 1}
_BOOLS = ("test_before", "judge_exclude_same_family")


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def from_table(table: Mapping[str, Any], path: str | None = None) -> RewardSettings:
    """[grading] as read from TOML -> RewardSettings. Unknown keys are errors."""

    def err(key: str, msg: str) -> ConfigError:
        return ConfigError(msg, path=path, key=f"grading.{key}")

    d = DEFAULT
    out: dict[str, Any] = {}
    weights = dict(d.weights)
    penalties = dict(d.penalties)
    for key, v in table.items():
        if key == "weights" or key == "penalties":
            if not isinstance(v, Mapping):
                raise err(key, f"expected a table, got {type(v).__name__}")
            known = weights if key == "weights" else penalties
            for name, w in v.items():
                target = LEGACY_WEIGHTS.get(name, name) if key == "weights" else name
                if target not in known:
                    raise err(
                        f"{key}.{name}",
                        f"unknown {'gain' if key == 'weights' else 'penalty'} {name!r}; "
                        f"expected one of: {', '.join(sorted(known))}",
                    )
                if not _number(w) or w < 0 or (key == "penalties" and w > 1):
                    rng = "from 0 to 1" if key == "penalties" else ">= 0"
                    raise err(f"{key}.{name}", f"expected a number {rng}, got {w!r}")
                known[target] = float(w)
        elif key in _NUMBERS:
            lo, hi = _NUMBERS[key]
            if not _number(v) or v < lo or (hi is not None and v > hi):
                rng = f"from {lo:g} to {hi:g}" if hi is not None else f">= {lo:g}"
                raise err(key, f"expected a number {rng}, got {v!r}")
            out[key] = float(v)
        elif key in _INTEGERS:
            if not isinstance(v, int) or isinstance(v, bool) or v < _INTEGERS[key]:
                raise err(key, f"expected an integer >= {_INTEGERS[key]}, got {v!r}")
            out[key] = v
        elif key in _BOOLS:
            if not isinstance(v, bool):
                raise err(key, f"expected true or false, got {v!r}")
            out[key] = v
        elif key == "judge":
            if not isinstance(v, str) or (v and ":" not in v):
                raise err(key, f'expected "harness:model" (e.g. "claude-code:haiku") or "", got {v!r}')
            out[key] = v
        elif key == "followup_command":
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise err(key, f"expected a list of strings (an argv), got {v!r}")
            out[key] = tuple(v)
        else:
            known = sorted([*_NUMBERS, *_INTEGERS, *_BOOLS, "judge", "followup_command", "weights", "penalties"])
            raise err(key, f"unknown key {key!r}; expected one of: {', '.join(known)}")
    s = replace(d, weights=weights, penalties=penalties, **out)
    if s.storm_full <= s.storm_free:
        raise err("storm_full", f"expected more than storm_free ({s.storm_free}), got {s.storm_full}")
    return s


__all__ = ["DEFAULT", "GAINS", "LEGACY_WEIGHTS", "PENALTIES", "RewardSettings", "from_table"]
