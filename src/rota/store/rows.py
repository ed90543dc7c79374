"""Stored rows into records, whatever the rows hold.

A row may be damaged: text in a REAL column (SQLite keeps what it is given), an infinite time, a
blob where JSON was, a value written by hand or by an older rota. Reading one must never stop a
command: a field that cannot be read becomes unknown, and a row that cannot be used at all
(evidence whose masses are not numbers, a block without an end) is left out with a warning on
standard error naming the table and the row.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rota.learning.bandit import Evidence
from rota.quota.state import Block
from rota.store.base import SessionRecord, full_detail, loads

SESSION_COLUMNS = (
    "id, category, arm, arm_ran, status, started_at, ended_at, exit_code, reward, graded_at, "
    "signals, detail, decision_id, pid, machine, workspace, log_path"
)
BLOCK_COLUMNS = "scope_kind, scope, until_ts, reason, source, created_at, hits"

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the select path
if TYPE_CHECKING:
    from typing import Any


def session(r: Sequence[Any]) -> SessionRecord:
    """A sessions row (SESSION_COLUMNS order); unreadable fields become unknown."""
    return SessionRecord(
        id=int(r[0]),
        category=text(r[1]),
        arm=text(r[2]),
        arm_ran=None if r[3] is None else text(r[3]),
        status=text(r[4]),
        started_at=num(r[5]) or 0.0,
        ended_at=num(r[6]),
        exit_code=integer(r[7]),
        reward=num(r[8]),
        graded_at=num(r[9]),
        signals=loads(r[10]),
        detail=full_detail(loads(r[11]), text(r[2]), text(r[15]), text(r[16])),
        decision_id=integer(r[12]),
        pid=integer(r[13]),
        machine=text(r[14]),
        workspace=text(r[15]),
        log_path=text(r[16]),
    )


def block(r: Sequence[Any]) -> Block | None:
    """A blocks row (BLOCK_COLUMNS order); None without a usable end. An infinite end is kept
    (rota.clock decides what to believe of it)."""
    until = num(r[2], finite=False)
    if until is None or until != until:
        return None
    return Block(
        scope_kind=text(r[0]),
        scope=text(r[1]),
        until=until,
        reason=text(r[3]),
        source=text(r[4]),
        created_at=num(r[5]) or 0.0,
        hits=integer(r[6]) or 1,
    )


def evidence(r: Sequence[Any]) -> Evidence | None:
    """(s, f, t, n, sum_r, sum_r2); None when a field is not a finite number or a mass is
    negative: such a row would make the sampler loop or fail."""
    s, f, t, sum_r, sum_r2 = (num(x) for x in (r[0], r[1], r[2], r[4], r[5]))
    n = integer(r[3])
    if s is None or f is None or t is None or sum_r is None or sum_r2 is None or n is None:
        return None
    if n < 0 or s < 0 or f < 0:
        return None
    return Evidence(s=s, f=f, t=t, n=n, sum_r=sum_r, sum_r2=sum_r2)


def usable_use(r: Sequence[Any]) -> bool:
    """A history row (arm, stopped on a limit, started_at, detail text or None) whose arm is text
    and whose start is a number: what rota.quota.uses can learn from."""
    return isinstance(r[0], str) and num(r[2]) is not None and (r[3] is None or isinstance(r[3], str))


def drift(r: Sequence[Any], drift_type: Any) -> Any:
    """A change test's columns as a `drift_type` (rota.learning.change.Drift, passed in: the
    learning step stays off the read path); None when one is not a finite number: the test then
    starts again."""
    values = [num(x) for x in r]
    if any(v is None for v in values):
        return None
    return drift_type._make(values)


def num(v: Any, *, finite: bool = True) -> float | None:
    """A stored number; None for NULL or anything that is not one (text in a REAL column)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    try:
        x = float(v)
    except OverflowError:
        return None
    if finite and not math.isfinite(x):
        return None
    return x


def integer(v: Any) -> int | None:
    x = num(v)
    return None if x is None or abs(x) > 2**63 else int(x)


def text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return str(v)


def damaged(table: str, row: str, consequence: str) -> None:
    """Say on standard error that a row could not be read, and what rota does instead."""
    from rota import journal

    journal.log_event(
        "damaged_row", level="warning", table=table, row=row, reason=f"unreadable; {consequence}"
    )


__all__ = ["block", "damaged", "evidence", "integer", "num", "session", "text", "usable_use"]
