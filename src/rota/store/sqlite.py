"""The embedded default store: one SQLite file in WAL mode, readable by its owner only."""

from __future__ import annotations

import os
import sqlite3

from rota.errors import StoreUnavailable
from rota.privatefs import private_dir
from rota.store.leases import SQLiteFleet
from rota.store.sql import SQLStore

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the select path

if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

# Each entry migrates the schema from version i to i + 1. Append only; never edit a shipped one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE evidence (
        category TEXT NOT NULL, arm TEXT NOT NULL,
        s REAL NOT NULL, f REAL NOT NULL, t REAL NOT NULL,
        n INTEGER NOT NULL, sum_r REAL NOT NULL, sum_r2 REAL NOT NULL,
        PRIMARY KEY (category, arm)
    );
    CREATE TABLE decisions (
        id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, category TEXT NOT NULL,
        arm TEXT, workspace TEXT NOT NULL, machine TEXT NOT NULL, explanation TEXT NOT NULL
    );
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY AUTOINCREMENT, category TEXT NOT NULL, arm TEXT NOT NULL,
        arm_ran TEXT, status TEXT NOT NULL, started_at REAL NOT NULL, ended_at REAL,
        exit_code INTEGER, reward REAL, graded_at REAL, signals TEXT NOT NULL DEFAULT '{}',
        detail TEXT NOT NULL DEFAULT '{}', decision_id INTEGER, pid INTEGER,
        machine TEXT NOT NULL DEFAULT '', workspace TEXT NOT NULL DEFAULT '',
        log_path TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX sessions_started ON sessions (started_at);
    CREATE INDEX sessions_status ON sessions (status);
    CREATE TABLE blocks (
        id INTEGER PRIMARY KEY AUTOINCREMENT, scope_kind TEXT NOT NULL, scope TEXT NOT NULL,
        until_ts REAL NOT NULL, reason TEXT NOT NULL DEFAULT '', source TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL, hits INTEGER NOT NULL DEFAULT 1
    );
    CREATE INDEX blocks_until ON blocks (until_ts);
    CREATE INDEX blocks_scope ON blocks (scope_kind, scope);
    CREATE TABLE quota_cache (
        scope_kind TEXT NOT NULL, scope TEXT NOT NULL, window TEXT NOT NULL,
        source_key TEXT NOT NULL DEFAULT '', observed_at REAL NOT NULL, state TEXT NOT NULL,
        PRIMARY KEY (scope_kind, scope, window, source_key)
    );
    """,
    # 2: fleet leases (workspace locks and pool concurrency slots); see rota.store.leases.
    # SQLite uses token/host/pid/proc_start/expires_at; PostgreSQL uses backend_pid/lock_key.
    """
    CREATE TABLE leases (
        kind TEXT NOT NULL, name TEXT NOT NULL, slot INTEGER NOT NULL, token TEXT NOT NULL,
        machine TEXT NOT NULL DEFAULT '', host TEXT NOT NULL DEFAULT '', pid INTEGER,
        proc_start BIGINT, workspace TEXT NOT NULL DEFAULT '', session_id BIGINT,
        acquired_at REAL NOT NULL, expires_at REAL, backend_pid INTEGER, lock_key BIGINT,
        PRIMARY KEY (kind, name, slot)
    );
    CREATE UNIQUE INDEX leases_token ON leases (token);
    """,
    # 3: the change test of each evidence row (rota.learning.change.Drift), advanced with every
    # grade; a store from before starts every test afresh (no excursion under way).
    """
    ALTER TABLE evidence ADD COLUMN dn_g REAL NOT NULL DEFAULT 0;
    ALTER TABLE evidence ADD COLUMN dn_at REAL NOT NULL DEFAULT 0;
    ALTER TABLE evidence ADD COLUMN dn_s REAL NOT NULL DEFAULT 0;
    ALTER TABLE evidence ADD COLUMN dn_f REAL NOT NULL DEFAULT 0;
    ALTER TABLE evidence ADD COLUMN up_g REAL NOT NULL DEFAULT 0;
    ALTER TABLE evidence ADD COLUMN up_at REAL NOT NULL DEFAULT 0;
    ALTER TABLE evidence ADD COLUMN up_s REAL NOT NULL DEFAULT 0;
    ALTER TABLE evidence ADD COLUMN up_f REAL NOT NULL DEFAULT 0;
    ALTER TABLE evidence ADD COLUMN dn_tag REAL NOT NULL DEFAULT 0;
    ALTER TABLE evidence ADD COLUMN dn_os REAL NOT NULL DEFAULT 0;
    ALTER TABLE evidence ADD COLUMN dn_of REAL NOT NULL DEFAULT 0;
    ALTER TABLE evidence ADD COLUMN up_tag REAL NOT NULL DEFAULT 0;
    ALTER TABLE evidence ADD COLUMN up_os REAL NOT NULL DEFAULT 0;
    ALTER TABLE evidence ADD COLUMN up_of REAL NOT NULL DEFAULT 0;
    ALTER TABLE evidence ADD COLUMN changed_at REAL NOT NULL DEFAULT 0;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def default_db_file() -> str:
    """$ROTA_STATE_DIR/rota.db, else $XDG_STATE_HOME/rota/rota.db (~/.local/state/rota/rota.db)."""
    d = os.environ.get("ROTA_STATE_DIR")
    if d:
        return os.path.join(os.path.expanduser(d), "rota.db")
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return os.path.join(base, "rota", "rota.db")


def default_db_path() -> Path:

    import pathlib  # lazily: pathlib is kept off the `rota select` path

    return pathlib.Path(default_db_file())


PAGE_SIZE = 8192  # bytes; see bench/store_size.py


class SQLiteStore(SQLiteFleet, SQLStore):  # SQLiteFleet: lease rows for fleet primitives
    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0) -> None:
        self.file = os.fspath(path)
        self.url = f"sqlite:///{self.file}"
        try:
            if self.file != ":memory:":
                parent = os.path.dirname(self.file)
                if parent:
                    private_dir(parent)
                # Create the file owner-only before SQLite opens it; WAL/SHM files copy its mode.
                fd = os.open(self.file, os.O_RDWR | os.O_CREAT, 0o600)
                os.close(fd)
            # Autocommit mode: transactions are explicit (BEGIN IMMEDIATE for writes).
            self.conn = sqlite3.connect(self.file, timeout=timeout, isolation_level=None)
            self.conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            # A new store's pages (before WAL mode fixes them; an existing store keeps its own):
            # a graded session's row is about 2.5 KB, so 4 KB pages hold one each, half empty.
            self.conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            if self.file != ":memory:":
                self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")
            self._migrate()
        except (sqlite3.Error, OSError) as exc:
            raise StoreUnavailable(f"cannot open the state store {self.file}: {exc}") from None

    @property
    def path(self) -> Path:

        import pathlib  # lazily: pathlib is kept off the `rota select` path

        return pathlib.Path(self.file)

    def _migrate(self) -> None:
        cur = self.conn.cursor()
        version = cur.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreUnavailable(
                f"{self.file} has schema version {version}, newer than this rota understands "
                f"({SCHEMA_VERSION}); upgrade rota"
            )
        if version == SCHEMA_VERSION:
            return
        cur.execute("BEGIN IMMEDIATE")
        try:
            # Re-read under the write lock: another process may have migrated meanwhile.
            version = cur.execute("PRAGMA user_version").fetchone()[0]
            for i in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[i].split(";"):
                    if statement.strip():
                        cur.execute(statement)
                cur.execute(f"PRAGMA user_version = {i + 1}")
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise

    def _failed(self, exc: BaseException) -> StoreUnavailable:
        """A store error after the file opened (a full disk, damaged pages): exit 69, with the
        file and the fix."""
        text = str(exc) or type(exc).__name__
        hint = ""
        if "full" in text:
            hint = "; free some space on its disk"
        elif "malformed" in text or "not a database" in text or "corrupt" in text:
            hint = (
                "; the file is damaged: move it aside (rota starts a new one) or rebuild it "
                f"with `sqlite3 {self.file} .recover`"
            )
        return StoreUnavailable(f"the state store {self.file} failed: {text}{hint}")

    def _write(self) -> _Transaction:
        return _Transaction(self)

    def _read(self) -> _Reading:
        return _Reading(self)

    def _insert_id(self, cur: Any, statement: str, params: Any) -> int:
        cur.execute(statement, params)
        return int(cur.lastrowid)

    def close(self) -> None:
        try:
            self.conn.close()
        except sqlite3.Error:
            pass


# Context managers as small classes, not contextlib.contextmanager: contextlib is kept off the
# `rota select` path.
class _Transaction:
    """A write transaction (BEGIN IMMEDIATE: SQLite serialises writers): committed when the
    block ends, rolled back when it raises. A failure of the store itself becomes
    StoreUnavailable (exit 69) naming the file."""

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store
        self.cur = store.conn.cursor()

    def __enter__(self) -> sqlite3.Cursor:
        try:
            self.cur.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self.store._failed(exc) from None
        return self.cur

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if kind is None:
            try:
                self.cur.execute("COMMIT")
                return
            except sqlite3.Error as failed:
                _rollback(self.cur)
                raise self.store._failed(failed) from None
        _rollback(self.cur)
        if exc is not None and _store_failure(exc):
            raise self.store._failed(exc) from None


class _Reading:
    """A cursor for reads (autocommit: each statement sees the latest commit); a failure of the
    store itself becomes StoreUnavailable (exit 69) naming the file."""

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store

    def __enter__(self) -> sqlite3.Cursor:
        try:
            return self.store.conn.cursor()
        except sqlite3.Error as exc:
            raise self.store._failed(exc) from None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if exc is not None and _store_failure(exc):
            raise self.store._failed(exc) from None


def _rollback(cur: sqlite3.Cursor) -> None:
    try:
        cur.execute("ROLLBACK")
    except sqlite3.Error:
        pass  # no transaction left to roll back (SQLite ends one on some errors itself)


def _store_failure(exc: BaseException) -> bool:
    """An error of the store itself (a full disk, damaged pages, a locked or vanished file), not
    a statement rota got wrong (a constraint, a misuse), which stays a bug to see."""
    return isinstance(exc, sqlite3.DatabaseError) and not isinstance(
        exc, (sqlite3.IntegrityError, sqlite3.ProgrammingError)
    )
