"""`rota report`: read the store, build the page, write it atomically, remember when."""

from __future__ import annotations

import os
from typing import Any

from rota.config import Config
from rota.report import changes, history, page
from rota.report.files import atomic_write, read_json, state_dir, write_json
from rota.store.base import Store

STATE_FILE = "report-state.json"  # when the last report was made: "what changed" starts there


def state_path() -> str:
    return os.path.join(state_dir(), STATE_FILE)


def generate(
    config: Config,
    store: Store,
    *,
    now: float,
    since: float,
    out: str,
    remember: bool = True,
) -> dict[str, Any]:
    """Write the report to `out`; returns its content as data (with "out" and "warnings")."""
    last = read_json(state_path()).get("generated_at")
    last = float(last) if isinstance(last, (int, float)) else None
    period = changes.periods(last, now)
    hist = history.read(config, store, now=now, since=since, compare_from=period.prev_start)
    text, data = page.build(hist, last)
    atomic_write(out, text, mode=0o644)
    data["out"] = os.path.abspath(out)
    data["warnings"] = []
    if remember:
        try:
            write_json(state_path(), {"generated_at": now, "out": data["out"]})
        except OSError as exc:
            data["warnings"].append(f"cannot note the report's time in {state_path()}: {exc}")
    return data
