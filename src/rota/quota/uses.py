"""The session history as quota learning reads it: one `Use` per session, built from the store's
rows. Pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from rota.quota.state import Level
from rota.records import record

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the select path
if TYPE_CHECKING:
    from typing import Any


@record
class Use:
    """One session on the record, as quota learning sees it. category, reward and graded_at are
    the simulator's (the store's history read leaves them out: nothing on it reads them)."""

    arm: str  # the arm that ran (or was refused)
    at: float  # when it started, epoch seconds
    limited: bool = False  # it stopped on a limit
    resets_at: float | None = None  # the reset time the limit gave
    blocked: tuple[str, ...] = ()  # "kind:scope" pairs the hit blocked (detail["limit"]["scopes"])
    utilization: Mapping[str, float] | None = None  # probed pool -> used fraction before it ran
    category: str = ""
    reward: float | None = None  # the grade, when graded
    graded_at: float | None = None  # the observation time the posterior update used
    # Every probed quota level just before it ran: (scope_kind, scope, window, used fraction,
    # reset time or None). The next session's levels show what this one used (arm_sizes).
    levels: tuple[Level, ...] = ()


def levels_from(raw: object) -> tuple[Level, ...]:
    """detail["levels"] as recorded by the runner; anything malformed is left out, not fatal."""
    if type(raw) is not list:
        return ()
    out = []
    for item in raw:
        if type(item) is not list or len(item) != 5:
            continue
        kind, scope, window, used, resets = item
        if type(kind) is not str or type(scope) is not str or type(window) is not str:
            continue
        if type(used) not in (int, float) or (
            resets is not None and type(resets) not in (int, float)
        ):
            continue
        out.append((kind, scope, window, float(used), None if resets is None else float(resets)))
    return tuple(out)


def _scopes(raw: object) -> tuple[str, ...]:
    """detail["limit"]["scopes"]; anything but a list (a damaged row) is no scopes, not a crash."""
    return tuple(str(x) for x in raw) if type(raw) is list else ()


def uses_from_rows(rows: Iterable[Sequence[Any]]) -> list[Use]:
    """Use records from lean session rows (arm that ran, whether it stopped on a limit, started_at,
    detail JSON text or None), as Store.recent_uses reads them. Runs before every decision: the
    store sends a detail only for limit hits and the newest few sessions, and nothing that quota
    learning does not read (grades are learnt, with their changes, in the evidence rows)."""
    out: list[Use] = []
    append = out.append
    for arm, limited, started_at, text in rows:
        if not text:  # the common case: a plain finished session
            append(Use(arm, started_at, bool(limited)))
            continue
        limit: Any = None
        util: Any = None
        levels: Any = None
        if '"limit"' in text or '"utilization"' in text or '"levels"' in text:
            import json  # only for the few rows with a detail

            try:
                detail = json.loads(text)
            except ValueError:
                detail = None
            if type(detail) is dict:
                limit = detail.get("limit")
                util = detail.get("utilization")
                levels = detail.get("levels")
        if type(limit) is not dict:
            limit = {}
        resets = limit.get("resets_at")
        append(
            Use(
                arm,
                float(started_at),
                bool(limited),
                float(resets) if type(resets) in (int, float) else None,
                _scopes(limit.get("scopes")),
                util if type(util) is dict and util else None,
                levels=levels_from(levels) if levels else (),
            )
        )
    return out
