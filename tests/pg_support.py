"""A real PostgreSQL server for the fleet tests.

$ROTA_TEST_PG_URL when set (.ci/run starts one with .ci/postgres.sh); otherwise a throwaway
server is started here with the same script (initdb/pg_ctl from /usr/lib/postgresql/*/bin; as
root it runs as the `postgres` user) and stopped at the end of the session. When no server can be
started the PostgreSQL tests are skipped LOUDLY (a warning naming why), except where
$ROTA_REQUIRE_PG or $CI is set: there a missing server fails them, so CI cannot skip silently.

Each test gets its own fresh database (`pg_url`), dropped afterwards.
"""

from __future__ import annotations

import atexit
import os
import shlex
import subprocess
import sys
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

REPO = Path(__file__).resolve().parent.parent
PG_SCRIPT = REPO / ".ci" / "postgres.sh"


def _skip_loudly(reason: str) -> None:
    message = f"PostgreSQL tests cannot run: {reason}"
    if os.environ.get("ROTA_REQUIRE_PG") or os.environ.get("CI"):
        pytest.fail(message + " ($ROTA_REQUIRE_PG/$CI set: a skip would hide them)", pytrace=False)
    print(f"\n*** {message} -- SKIPPING the PostgreSQL tests ***", file=sys.__stderr__)
    warnings.warn(message, pytest.PytestWarning, stacklevel=2)
    pytest.skip(message)


def _start_server() -> tuple[str, str]:
    try:
        proc = subprocess.run(
            ["bash", str(PG_SCRIPT), "start", "--no-install"],
            capture_output=True,
            text=True,
            timeout=180,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        _skip_loudly(f"{PG_SCRIPT} could not run: {exc}")
    if proc.returncode != 0:
        tail = proc.stderr.strip()[-800:]
        _skip_loudly(f"{PG_SCRIPT} start exited {proc.returncode}: {tail}")
    found: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        parts = shlex.split(line)
        if len(parts) == 2 and parts[0] == "export" and "=" in parts[1]:
            k, v = parts[1].split("=", 1)
            found[k] = v
    if "ROTA_TEST_PG_URL" not in found:
        _skip_loudly(f"{PG_SCRIPT} printed no URL: {proc.stdout[-300:]!r}")
    started = found.get("ROTA_TEST_PG_DIR", "")
    if started:
        atexit.register(_stop_server, started)  # also when the session ends abnormally
    return found["ROTA_TEST_PG_URL"], started


def _stop_server(started_dir: str) -> None:
    if started_dir and Path(started_dir).exists():
        subprocess.run(
            ["bash", str(PG_SCRIPT), "stop", started_dir], capture_output=True, timeout=120
        )


def with_dbname(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """The base URL of a live PostgreSQL server (a superuser, for CREATE DATABASE)."""
    try:
        import psycopg
    except ImportError:
        _skip_loudly("psycopg is not installed (pip install 'rota[postgres]')")
    url = os.environ.get("ROTA_TEST_PG_URL", "")
    started_dir = ""
    if not url:
        url, started_dir = _start_server()
    try:
        with psycopg.connect(url, connect_timeout=10):
            pass
    except psycopg.Error as exc:
        _skip_loudly(f"cannot connect to the test server: {str(exc).splitlines()[0]}")
    try:
        yield url
    finally:
        _stop_server(started_dir)


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh, empty database on the test server, dropped after the test."""
    import psycopg
    from psycopg import sql

    name = f"rota_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield with_dbname(pg_server, name)
    finally:
        with psycopg.connect(pg_server, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def posteriors_equal(a: dict, b: dict, now: float, half_life_s: float) -> bool:
    """Same keys, and the same decayed (s, f) and counts at `now`: the posteriors are equal."""

    def close(x: float, y: float) -> bool:
        return abs(x - y) <= 1e-9 * max(1.0, abs(x), abs(y))

    if set(a) != set(b):
        return False
    for key in a:
        sa, fa = a[key].decayed(now, half_life_s)
        sb, fb = b[key].decayed(now, half_life_s)
        if a[key].n != b[key].n or not (close(sa, sb) and close(fa, fb)):
            return False
    return True
