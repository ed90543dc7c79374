"""State stores. `open_store(config)` picks the store from [store] url / $ROTA_STORE_URL.

The interface and its records (base), the SQL both dialects share (sql), SQLite (sqlite, with its
lease rows in leases) and PostgreSQL (postgres, with its advisory locks in pg_leases), and
`rota store migrate` (migrate). Evidence is learnt only through rota.learning.step.observe.
"""

from __future__ import annotations

import os

from rota.errors import ConfigError
from rota.store.base import SessionOutcome, SessionRecord, Store

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the select path

if TYPE_CHECKING:
    from rota.config import Config


def store_url(config: Config | None) -> str:
    return os.environ.get("ROTA_STORE_URL") or (config.store_url if config else "") or ""


def open_url(url: str) -> Store:
    """Open a store by URL: "" (the default SQLite file), sqlite:///PATH or postgresql://…"""
    if not url:
        from rota.store.sqlite import SQLiteStore, default_db_file

        return SQLiteStore(default_db_file())
    if url.startswith("sqlite://"):
        from rota.store.sqlite import SQLiteStore

        path = url[len("sqlite://") :]
        if path.startswith("/") and not path.startswith("//"):
            path = path[1:] if path.startswith("/:memory:") else path
        return SQLiteStore(path or ":memory:")
    if url.startswith(("postgresql://", "postgres://")):
        from rota.store.postgres import PostgresStore

        return PostgresStore(url)
    raise ConfigError(
        "unsupported store URL; expected sqlite:///PATH or postgresql://…", key="store.url"
    )


def open_store(config: Config | None) -> Store:
    return open_url(store_url(config))


__all__ = ["SessionOutcome", "SessionRecord", "Store", "open_store", "open_url", "store_url"]
