"""The simple quota source: a JSON file of states the user (or a script) maintains.

[quota] file = "~/.config/rota/quota.json" holds a list of objects such as
  {"scope": "harness:codex", "available": false, "resets_at": "2026-11-28T09:00Z",
   "utilization": 1.0, "window": "weekly", "reason": "plan limit"}
scope is KIND:NAME with KIND harness, pool or arm (an arm keeps its own colon: arm:codex:gpt-5.4).
A malformed file is reported and ignored: it never makes rota crash or treat an arm as exhausted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rota.quota.state import SCOPE_KINDS, QuotaState
from rota.timefmt import parse_time


class QuotaFileError(ValueError):
    pass


def read_quota_file(path: Path, now: float) -> list[QuotaState]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise QuotaFileError(f"{path}: cannot read quota file: {exc}") from None
    if isinstance(data, dict):
        data = data.get("states", [])
    if not isinstance(data, list):
        raise QuotaFileError(f"{path}: expected a JSON list of quota states")
    return [_state(path, i, item, now) for i, item in enumerate(data)]


def _state(path: Path, i: int, item: Any, now: float) -> QuotaState:
    where = f"{path}: entry {i}"
    if not isinstance(item, dict):
        raise QuotaFileError(f"{where}: expected an object")
    scope = item.get("scope")
    if not isinstance(scope, str) or ":" not in scope:
        raise QuotaFileError(f'{where}: "scope" must be "harness:NAME", "pool:NAME" or "arm:H:M"')
    kind, name = scope.split(":", 1)
    if kind not in SCOPE_KINDS or not name:
        raise QuotaFileError(f"{where}: scope kind must be one of {', '.join(SCOPE_KINDS)}")
    resets = item.get("resets_at")
    try:
        resets_at = None if resets is None else parse_time(str(resets), now)
    except ValueError as exc:
        raise QuotaFileError(f"{where}: resets_at: {exc}") from None
    util = item.get("utilization")
    if util is not None and (isinstance(util, bool) or not isinstance(util, (int, float))):
        raise QuotaFileError(f"{where}: utilization must be a number from 0 to 1")
    avail = item.get("available")
    if avail is not None and not isinstance(avail, bool):
        raise QuotaFileError(f"{where}: available must be true, false or null")
    if avail is None and util is not None:
        avail = float(util) < 1.0
    return QuotaState(
        scope_kind=kind,
        scope=name,
        window=str(item.get("window", "") or ""),
        available=avail,
        utilization=None if util is None else float(util),
        resets_at=resets_at,
        source="file",
        reason=str(item.get("reason", "") or ""),
        window_minutes=item.get("window_minutes"),
        observed_at=now,
    )
