"""What the SQL stores read back for the report, `rota status` and the fleet views: the history
of sessions, decisions and blocks, totals, machines. Every row goes through rota.store.rows, so a
damaged one is read as unknown, never a crash. A mixin of SQLStore (rota.store.sql), which
provides `_read()`, `_one()` and `_all()`.
"""

from __future__ import annotations

from collections.abc import Sequence

from rota.quota.state import Block
from rota.store import rows
from rota.store.base import RUNNING, MachineSummary, SessionRecord, SessionTotal, loads
from rota.store.rows import BLOCK_COLUMNS, SESSION_COLUMNS

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the select path
if TYPE_CHECKING:
    from typing import Any


class HistoryReads:
    _read: Any
    _one: Any
    _all: Any

    def graded_observations(self) -> list[tuple[str, str, float, float]]:
        with self._read() as cur:
            found = self._all(
                cur,
                "SELECT category, COALESCE(arm_ran, arm), reward, graded_at FROM sessions "
                "WHERE reward IS NOT NULL AND graded_at IS NOT NULL ORDER BY graded_at, id",
            )
        out = []
        for r in found:
            reward, at = rows.num(r[2]), rows.num(r[3])
            if reward is not None and at is not None:
                out.append((rows.text(r[0]), rows.text(r[1]), reward, at))
        return out

    # -- reading history back --------------------------------------------------------------------
    def sessions_since(self, since: float, limit: int) -> list[SessionRecord]:
        with self._read() as cur:
            found = self._all(
                cur,
                f"SELECT {SESSION_COLUMNS} FROM sessions WHERE started_at >= ? "  # noqa: S608
                "ORDER BY started_at DESC, id DESC LIMIT ?",
                (since, int(limit)),
            )
        return [rows.session(r) for r in reversed(found)]

    def decisions_by_id(self, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        wanted = sorted({int(i) for i in ids})
        out: dict[int, dict[str, Any]] = {}
        with self._read() as cur:
            for k in range(0, len(wanted), 500):
                chunk = wanted[k : k + 500]
                marks = ", ".join("?" for _ in chunk)  # placeholders only; the ids are parameters
                for row_id, at, category, arm, text in self._all(
                    cur,
                    "SELECT id, at, category, arm, explanation FROM decisions "  # noqa: S608
                    f"WHERE id IN ({marks})",
                    chunk,
                ):
                    d = loads(text)
                    body = d if isinstance(d, dict) else {}
                    # The columns back into the record (record_decision keeps them apart).
                    out[int(row_id)] = {
                        **body,
                        "decided_at": rows.num(at) or 0.0,
                        "category": rows.text(category),
                        "arm": arm if isinstance(arm, str) else None,
                    }
        return out

    def blocks_since(self, since: float) -> list[Block]:
        with self._read() as cur:
            found = self._all(
                cur,
                f"SELECT {BLOCK_COLUMNS} FROM blocks WHERE until_ts >= ? "  # noqa: S608
                "ORDER BY created_at, until_ts",
                (since,),
            )
        return [b for r in found if (b := rows.block(r)) is not None]

    def session_totals(self) -> list[SessionTotal]:
        with self._read() as cur:
            found = self._all(
                cur,
                "SELECT category, COALESCE(arm_ran, arm), status, COUNT(*), COUNT(reward), "
                "COALESCE(SUM(reward), 0), MAX(started_at), MAX(ended_at) FROM sessions "
                "GROUP BY category, COALESCE(arm_ran, arm), status",
            )
        return [
            SessionTotal(
                category=rows.text(r[0]),
                arm=rows.text(r[1]),
                status=rows.text(r[2]),
                sessions=rows.integer(r[3]) or 0,
                graded=rows.integer(r[4]) or 0,
                grade_sum=rows.num(r[5]) or 0.0,
                last_started_at=rows.num(r[6]),
                last_ended_at=rows.num(r[7]),
            )
            for r in found
        ]

    def last_decision_at(self) -> float | None:
        with self._read() as cur:
            r = self._one(cur, "SELECT MAX(at) FROM decisions")
        return None if r is None else rows.num(r[0])

    # -- fleet visibility (shared SQL; leases are per dialect) -----------------------------------
    def machine_summary(self, since: float) -> list[MachineSummary]:
        with self._read() as cur:
            found = self._all(
                cur,
                "SELECT machine, SUM(CASE WHEN started_at >= ? THEN 1 ELSE 0 END), "
                "SUM(CASE WHEN status = ? THEN 1 ELSE 0 END), MAX(started_at) FROM sessions "
                "WHERE started_at >= ? OR status = ? GROUP BY machine",
                (since, RUNNING, since, RUNNING),
            )
        out = [
            MachineSummary(
                machine=rows.text(r[0]),
                sessions=rows.integer(r[1]) or 0,
                running=rows.integer(r[2]) or 0,
                last_started_at=rows.num(r[3]),
            )
            for r in found
        ]
        return sorted(out, key=lambda m: (-m.sessions, -m.running, m.machine))

    def counts(self) -> dict[str, int]:
        out = {}
        with self._read() as cur:
            for table in ("evidence", "decisions", "sessions", "blocks", "quota_cache"):
                # table names come from the constant tuple above, never from data
                out[table] = int(self._one(cur, f"SELECT COUNT(*) FROM {table}")[0])  # noqa: S608
        return out
