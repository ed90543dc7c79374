"""Fleet primitives shared by the stores: lease helpers, and the SQLite lease implementation.

SQLite serves one machine, where the local flock already keeps one session per workspace. Its
workspace locks and pool slots are lease rows: (kind, name, slot) is the primary key, so two
holders can never take the same slot; a row is dead once it expired (the holder stopped renewing
it) or its process is gone from this host, and the next acquirer removes it. The PostgreSQL store
overrides all of this with connection-bound advisory locks (rota.store.postgres).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Mapping

from rota.store.base import (
    POOL,
    Holder,
    Lease,
    LeaseInfo,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the select path
if TYPE_CHECKING:
    from typing import Any

LEASE_COLUMNS = "kind, name, slot, machine, pid, workspace, session_id, acquired_at, expires_at"


def advisory_key(kind: str, name: str, slot: int) -> int:
    """A stable signed 64-bit key for pg_advisory_lock(bigint); the same on every machine."""
    import hashlib  # lazily: `rota select` never needs it

    digest = hashlib.sha256(f"rota\0{kind}\0{name}\0{slot}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def pid_alive(pid: int | None, start: int | None) -> bool:
    """Is this process (on this host) still running? Zombies and reused pids count as gone."""
    from rota import procs  # only for fleet leases: kept off the `rota select` path

    return procs.alive(pid, ticks=start)


def hostname() -> str:
    import socket  # lazily: `rota select` never needs it

    return socket.gethostname()


def lease_info(r: Any) -> LeaseInfo:
    return LeaseInfo(
        kind=r[0],
        name=r[1],
        slot=int(r[2]),
        machine=r[3] or "",
        pid=None if r[4] is None else int(r[4]),
        workspace=r[5] or "",
        session_id=None if r[6] is None else int(r[6]),
        acquired_at=float(r[7]),
        expires_at=None if r[8] is None else float(r[8]),
    )


class _Full(Exception):
    def __init__(self, name: str) -> None:
        self.name = name


class SQLiteLease(Lease):
    """A lease row. Renewal and release open their own short connection, so the heartbeat may
    run in another thread than the one that owns the store's connection."""

    def __init__(
        self, store: Any, kind: str, name: str, slot: int, token: str, lease_s: float
    ) -> None:
        self._store = store
        self.kind, self.name, self.slot = kind, name, slot
        self.token = token
        self.lease_s = lease_s
        self._released = False

    def _conn(self) -> _Connection:
        return _Connection(self._store)

    def renew(self) -> bool:
        if self._released:
            return False
        try:
            with self._conn() as conn:
                cur = conn.execute(
                    "UPDATE leases SET expires_at = ? WHERE token = ?",
                    (time.time() + self.lease_s, self.token),
                )
                return cur.rowcount == 1
        except sqlite3.Error:
            return False

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        try:
            with self._conn() as conn:
                conn.execute("DELETE FROM leases WHERE token = ?", (self.token,))
        except sqlite3.Error:
            pass

    def __repr__(self) -> str:
        return f"SQLiteLease({self.kind} {self.name} slot {self.slot})"


class _Connection:
    """A connection of its own to the store's file for the length of a `with` (the store's own
    for an in-memory store: one connection only, same thread). A class, not
    contextlib.contextmanager: contextlib is kept off the `rota select` path."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self._conn: sqlite3.Connection | None = None

    def __enter__(self) -> sqlite3.Connection:
        if self._store.file == ":memory:":
            return self._store.conn  # type: ignore[no-any-return]
        self._conn = sqlite3.connect(self._store.file, timeout=30.0, isolation_level=None)
        return self._conn

    def __exit__(self, *exc: object) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class SQLiteFleet:
    """Lease rows in the SQLite store (mixed into SQLiteStore)."""

    path: Any
    conn: sqlite3.Connection

    def _lease_dead(self, row: Any, now: float) -> bool:
        host, pid, start, expires_at = row
        if expires_at is not None and expires_at <= now:
            return True
        # Only a holder on this host can be checked by pid; others wait for expiry.
        return host == hostname() and not pid_alive(pid, start)

    def _acquire(
        self, kind: str, limits: Mapping[str, int], holder: Holder, lease_s: float
    ) -> tuple[list[Lease], str | None]:
        from rota import procs  # only for fleet leases: kept off the `rota select` path

        now = time.time()
        taken: list[tuple[str, int, str]] = []
        try:
            with self._write() as cur:  # type: ignore[attr-defined]
                for name, limit in sorted(limits.items()):
                    rows = cur.execute(
                        "SELECT slot, token, host, pid, proc_start, expires_at FROM leases "
                        "WHERE kind = ? AND name = ?",
                        (kind, name),
                    ).fetchall()
                    used = set()
                    for slot, token, *rest in rows:
                        if self._lease_dead(rest, now):
                            cur.execute("DELETE FROM leases WHERE token = ?", (token,))
                        else:
                            used.add(int(slot))
                    if len(used) >= limit:
                        raise _Full(name)
                    slot = min(set(range(len(used) + 1)) - used)
                    token = os.urandom(16).hex()
                    cur.execute(
                        "INSERT INTO leases (kind, name, slot, token, machine, host, pid, "
                        "proc_start, workspace, acquired_at, expires_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            kind,
                            name,
                            slot,
                            token,
                            holder.machine,
                            hostname(),
                            holder.pid,
                            procs.start_ticks(holder.pid),
                            holder.workspace,
                            now,
                            now + lease_s,
                        ),
                    )
                    taken.append((name, slot, token))
        except _Full as full:
            return [], full.name  # the transaction rolled back: nothing is held
        return [SQLiteLease(self, kind, n, s, t, lease_s) for n, s, t in taken], None

    def leases(self, now: float) -> list[LeaseInfo]:
        with self._read() as cur:  # type: ignore[attr-defined]
            rows = cur.execute(
                f"SELECT {LEASE_COLUMNS}, host, proc_start FROM leases "  # noqa: S608 - constant
                "ORDER BY kind, name, slot"
            ).fetchall()
        return [lease_info(r) for r in rows if not self._lease_dead((r[9], r[4], r[10], r[8]), now)]

    def pool_busy(self, now: float) -> dict[str, int]:
        busy: dict[str, int] = {}
        for lease in self.leases(now):
            if lease.kind == POOL:
                busy[lease.name] = busy.get(lease.name, 0) + 1
        return busy
