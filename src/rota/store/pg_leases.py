"""Fleet locks on PostgreSQL: workspace locks and pool slots as advisory locks.

They are session-level advisory locks held on a dedicated connection: the server frees them the
moment that connection dies (process killed, machine gone: TCP keepalives bound how long a silent
peer keeps them). A `leases` row per lock says who holds it; a row counts only while its holder's
backend still holds the matching lock in pg_locks, so a dead holder's row is ignored.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from rota.store.base import POOL, Holder, Lease, LeaseInfo
from rota.store.leases import LEASE_COLUMNS, advisory_key, lease_info


class PgFleet:
    """Advisory-lock fleet primitives (mixed into PostgresStore, which provides the connections)."""

    # Provided by PostgresStore: the lock state it starts with, and its connection helpers.
    _lock_conn: Any
    _lock_mutex: threading.RLock
    _held: dict[int, str]  # advisory key -> lease token, on the lock connection
    _psycopg: Any
    _connect: Callable[..., Any]
    _guard: Callable[[str], contextlib.AbstractContextManager[None]]
    _read: Callable[[], contextlib.AbstractContextManager[Any]]

    def _locks(self, lease_s: float) -> Any:
        """The dedicated lock connection: its death frees every lock this process holds."""
        with self._lock_mutex:
            conn = self._lock_conn
            if conn is not None and not conn.closed and not conn.broken:
                return conn
            with contextlib.suppress(Exception):
                if conn is not None:
                    conn.close()
            self._held.clear()  # whatever that connection held is gone with it
            idle = max(1, int(lease_s / 2))
            interval = max(1, int(lease_s / 8))
            conn = self._connect(
                "locks",
                keepalives=1,
                keepalives_idle=idle,
                keepalives_interval=interval,
                keepalives_count=4,
            )
            with self._guard("cannot set up the lock connection"):
                # The server side drops a silent peer (and frees its locks) within ~lease_s, and
                # never closes this idle connection on its own.
                for name, value in (
                    ("tcp_keepalives_idle", idle),
                    ("tcp_keepalives_interval", interval),
                    ("tcp_keepalives_count", 4),
                    ("tcp_user_timeout", int(lease_s * 1000)),
                    ("idle_session_timeout", 0),
                ):
                    with contextlib.suppress(self._psycopg.Error):
                        conn.execute("SELECT set_config(%s, %s, false)", (name, str(value)))
            self._lock_conn = conn
            return conn

    def _acquire(
        self, kind: str, limits: Mapping[str, int], holder: Holder, lease_s: float
    ) -> tuple[list[Lease], str | None]:
        taken: list[PgLease] = []
        with self._lock_mutex, self._guard("cannot take a fleet lock"):
            conn = self._locks(lease_s)
            # Forget rows of holders whose lock is gone (crashed, killed, disconnected).
            conn.execute(
                "DELETE FROM leases l WHERE NOT EXISTS (" + _HELD_BY_ROW + ")"  # noqa: S608
            )
            try:
                for name, limit in sorted(limits.items()):
                    got = None
                    for slot in range(limit):
                        key = advisory_key(kind, name, slot)
                        if key in self._held:
                            continue  # advisory locks re-enter: never take our own twice
                        if conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]:
                            got = (slot, key)
                            break
                    if got is None:
                        for lease in taken:
                            lease.release()
                        return [], name
                    slot, key = got
                    token = uuid.uuid4().hex
                    self._held[key] = token
                    taken.append(PgLease(self, kind, name, slot, key, token))
                    conn.execute(
                        "INSERT INTO leases (kind, name, slot, token, machine, host, pid, "
                        "workspace, acquired_at, expires_at, backend_pid, lock_key) "
                        "VALUES (%s, %s, %s, %s, %s, '', %s, %s, %s, NULL, pg_backend_pid(), %s) "
                        "ON CONFLICT (kind, name, slot) DO UPDATE SET token = excluded.token, "
                        "machine = excluded.machine, pid = excluded.pid, "
                        "workspace = excluded.workspace, session_id = NULL, "
                        "acquired_at = excluded.acquired_at, backend_pid = excluded.backend_pid, "
                        "lock_key = excluded.lock_key",
                        (
                            kind,
                            name,
                            slot,
                            token,
                            holder.machine,
                            holder.pid,
                            holder.workspace,
                            time.time(),
                            key,
                        ),
                    )
            except BaseException:
                for lease in taken:
                    lease.release()
                raise
        return list(taken), None

    def leases(self, now: float) -> list[LeaseInfo]:
        with self._read() as cur:
            cur.execute(
                f"SELECT {LEASE_COLUMNS} FROM leases l WHERE EXISTS ({_HELD_BY_ROW}) "  # noqa: S608
                "ORDER BY kind, name, slot"
            )
            return [lease_info(r) for r in cur.fetchall()]

    def pool_busy(self, now: float) -> dict[str, int]:
        with self._read() as cur:
            cur.execute(
                f"SELECT name, COUNT(*) FROM leases l WHERE kind = %s AND EXISTS ({_HELD_BY_ROW}) "  # noqa: S608
                "GROUP BY name",
                (POOL,),
            )
            return {r[0]: int(r[1]) for r in cur.fetchall()}

    def _close_locks(self) -> None:
        with self._lock_mutex:
            if self._lock_conn is not None:
                with contextlib.suppress(Exception):
                    self._lock_conn.close()  # frees every advisory lock it held
                self._lock_conn = None
                self._held.clear()


# A lease row is live while its holder's backend holds the advisory lock named by lock_key:
# pg_locks shows a bigint key as classid (high 32 bits) and objid (low 32 bits), objsubid 1.
_HELD_BY_ROW = (
    "SELECT 1 FROM pg_locks k WHERE k.locktype = 'advisory' AND k.granted "
    "AND k.pid = l.backend_pid AND k.objsubid = 1 "
    "AND k.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND k.classid::bigint = ((l.lock_key >> 32) & 4294967295) "
    "AND k.objid::bigint = (l.lock_key & 4294967295)"
)


class PgLease(Lease):
    """An advisory lock on the store's lock connection, with its `leases` row."""

    def __init__(
        self, store: PgFleet, kind: str, name: str, slot: int, key: int, token: str
    ) -> None:
        self._store = store
        self.kind, self.name, self.slot = kind, name, slot
        self.key = key
        self.token = token
        self._conn = store._lock_conn
        self._released = False

    def _same_connection(self) -> bool:
        conn = self._conn
        return (
            conn is not None
            and conn is self._store._lock_conn
            and not conn.closed
            and not conn.broken
            and self._store._held.get(self.key) == self.token
        )

    def renew(self) -> bool:
        """Connection-bound: alive while the lock connection is and still holds the lock."""
        if self._released:
            return False
        with self._store._lock_mutex:
            if not self._same_connection():
                return False
            try:
                row = self._conn.execute(
                    "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND pid = pg_backend_pid() AND objsubid = 1 "
                    "AND classid::bigint = ((%s::bigint >> 32) & 4294967295) "
                    "AND objid::bigint = (%s::bigint & 4294967295)",
                    (self.key, self.key),
                ).fetchone()
            except self._store._psycopg.Error:
                return False
            return row is not None

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        with self._store._lock_mutex:
            if not self._same_connection():
                return  # the connection that held it is gone, and the lock with it
            with contextlib.suppress(self._store._psycopg.Error):
                self._conn.execute("DELETE FROM leases WHERE token = %s", (self.token,))
                self._conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
            self._store._held.pop(self.key, None)

    def __repr__(self) -> str:
        return f"PgLease({self.kind} {self.name} slot {self.slot})"
