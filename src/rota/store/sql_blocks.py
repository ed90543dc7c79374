"""Blocks in the SQL stores, and what a wrong clock left in the store (rota.clock): blocks read
as they should be believed now, and `repair_clock`, which writes that back. A mixin of SQLStore
(rota.store.sql), which provides `_read()`, `_write()`, `_one()`, `_all()` and `_exec()`.
"""

from __future__ import annotations

from rota.quota.state import Block
from rota.store import rows
from rota.store.rows import BLOCK_COLUMNS

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the select path
if TYPE_CHECKING:
    from typing import Any


class BlockRows:
    _read: Any
    _write: Any
    _one: Any
    _all: Any
    _exec: Any

    # -- blocks -----------------------------------------------------------------------------------
    def _insert_block(self, cur: Any, b: Block) -> None:
        self._exec(
            cur,
            f"INSERT INTO blocks ({BLOCK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
            (b.scope_kind, b.scope, b.until, b.reason, b.source, b.created_at, b.hits),
        )

    def add_block(self, block: Block) -> None:
        with self._write() as cur:
            self._insert_block(cur, block)

    def remove_blocks(self, scope_kind: str, scope: str) -> int:
        with self._write() as cur:
            return self._exec(
                cur, "DELETE FROM blocks WHERE scope_kind = ? AND scope = ?", (scope_kind, scope)
            )

    def active_blocks(self, now: float) -> list[Block]:
        """Blocks in force at `now`, as rota.clock believes them (a block stamped by a clock that
        was ahead is taken as made now; one rota made ends within its window)."""
        from rota.clock import believable_block

        with self._read() as cur:
            found = self._all(
                cur,
                f"SELECT {BLOCK_COLUMNS} FROM blocks WHERE until_ts > ? ORDER BY until_ts",  # noqa: S608
                (now,),
            )
        out = []
        for r in found:
            b = rows.block(r)
            if b is None:
                rows.damaged("blocks", f"on {r[0]}:{r[1]}", "it is ignored")
                continue
            b, warning = believable_block(b, now)
            if warning:
                _clock_warning(warning)
            if b.until > now:
                out.append(b)
        return out

    def latest_block(self, scope_kind: str, scope: str) -> Block | None:
        with self._read() as cur:
            r = self._one(
                cur,
                f"SELECT {BLOCK_COLUMNS} FROM blocks WHERE scope_kind = ? AND scope = ? "  # noqa: S608
                "ORDER BY created_at DESC, until_ts DESC LIMIT 1",
                (scope_kind, scope),
            )
        return rows.block(r) if r else None

    def repair_clock(self, now: float) -> list[str]:
        """Write back what a wrong clock left (rota.clock), so that what it fixes stays fixed:
        evidence and blocks stamped ahead of `now` are taken as made now, and a block rota made
        ends within its window. Returns the warnings. `rota run` calls it."""
        from rota.clock import MAX_AHEAD_S, believable_block, believable_evidence

        warnings: list[str] = []
        with self._write() as cur:
            ahead = self._all(
                cur,
                "SELECT category, arm, s, f, t, n, sum_r, sum_r2 FROM evidence WHERE t > ?",
                (now + MAX_AHEAD_S,),
            )
            for r in ahead:
                ev = rows.evidence(r[2:])
                if ev is not None:
                    fixed, warning = believable_evidence(ev, now)
                    self._exec(
                        cur,
                        "UPDATE evidence SET t = ? WHERE category = ? AND arm = ?",
                        (fixed.t, r[0], r[1]),
                    )
                    warnings.append(f"{warning}: ({r[0]}, {r[1]})")
            self._exec(  # a change found by a clock that was ahead counts as found now
                cur, "UPDATE evidence SET changed_at = ? WHERE changed_at > ?", (now, now)
            )
            active = self._all(
                cur, f"SELECT id, {BLOCK_COLUMNS} FROM blocks WHERE until_ts > ?", (now,)  # noqa: S608
            )
            for r in active:
                b = rows.block(r[1:])
                if b is None:
                    continue
                fixed_b, warning = believable_block(b, now)
                if warning:
                    self._exec(
                        cur,
                        "UPDATE blocks SET until_ts = ?, created_at = ? WHERE id = ?",
                        (fixed_b.until, fixed_b.created_at, r[0]),
                    )
                    warnings.append(warning)
        return warnings

def _clock_warning(text: str) -> None:
    from rota import journal

    journal.log_event("clock", level="warning", reason=text)
