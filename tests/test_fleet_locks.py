"""Fleet primitives on both stores: workspace locks, pool concurrency slots, crash recovery of a
slot, re-selection when a pool fills up, and what `rota status` shows about the fleet."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rota.session.fleet import FleetBusy, FleetSession
from rota.store.base import LEASE_SECONDS, Holder
from rota.store.sqlite import SQLiteStore

pytestmark = pytest.mark.postgres  # the PostgreSQL half of each pair needs the server


def _opener(kind: str, request: pytest.FixtureRequest, tmp_path: Path):
    if kind == "sqlite":
        db = tmp_path / "fleet.db"
        return lambda: SQLiteStore(db), f"sqlite://{db}"
    from rota.store.postgres import PostgresStore

    url = request.getfixturevalue("pg_url")
    return lambda: PostgresStore(url), url


@pytest.fixture(params=["sqlite", "postgres"])
def stores(request: pytest.FixtureRequest, tmp_path: Path):
    """Two stores on one state: two "machines"."""
    open_, url = _opener(request.param, request, tmp_path)
    a, b = open_(), open_()
    yield a, b, url, request.param
    a.close()
    b.close()


def H(machine: str, ws: str = "w") -> Holder:
    return Holder(machine=machine, pid=os.getpid(), workspace=ws)


def test_a_workspace_is_locked_fleet_wide(stores) -> None:
    a, b, _url, _kind = stores
    lease = a.acquire_workspace("shared", H("A"))
    assert lease is not None
    assert b.acquire_workspace("shared", H("B")) is None
    assert b.acquire_workspace("other", H("B")) is not None  # other workspaces are independent
    [held] = [x for x in b.leases(time.time()) if x.name == "shared"]
    assert (held.kind, held.machine, held.pid) == ("workspace", "A", os.getpid())
    assert lease.renew()
    lease.release()
    lease.release()  # idempotent
    assert not lease.renew()
    assert b.acquire_workspace("shared", H("B")) is not None


def test_pool_slots_respect_concurrency_all_or_nothing(stores) -> None:
    a, b, _url, _kind = stores
    l1, full = a.acquire_pools({"p": 2}, H("A"))
    assert full is None and len(l1) == 1
    l2, full = b.acquire_pools({"p": 2}, H("B"))
    assert full is None and len(l2) == 1
    assert a.pool_busy(time.time()) == {"p": 2}
    assert b.acquire_pools({"p": 2}, H("B")) == ([], "p")
    # All or nothing: q has room, p does not, so no q slot is kept.
    assert b.acquire_pools({"q": 1, "p": 2}, H("B")) == ([], "p")
    assert b.pool_busy(time.time()) == {"p": 2}
    # Unlimited pools (0) hold nothing.
    assert b.acquire_pools({"free": 0}, H("B")) == ([], None)
    l1[0].release()
    assert a.pool_busy(time.time()) == {"p": 1}
    l3, full = b.acquire_pools({"q": 1, "p": 2}, H("B"))
    assert full is None and sorted(x.name for x in l3) == ["p", "q"]
    assert a.pool_busy(time.time()) == {"p": 2, "q": 1}


def _hold_and_wait(url: str, ready: str) -> None:
    from rota.store import open_url

    s = open_url(url)
    h = Holder(machine="doomed", pid=os.getpid(), workspace="ws-k")
    assert s.acquire_workspace("ws-k", h) is not None
    leases, full = s.acquire_pools({"p": 1}, h)
    assert full is None
    Path(ready).write_text("held")
    time.sleep(300)  # killed long before


def test_sigkill_frees_the_workspace_and_pool_slot_within_the_lease_time(
    stores, tmp_path: Path
) -> None:
    a, _b, url, _kind = stores
    ready = tmp_path / "ready"
    ctx = mp.get_context("fork")
    p = ctx.Process(target=_hold_and_wait, args=(url, str(ready)))
    p.start()
    deadline = time.monotonic() + 30
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert ready.exists()
    assert a.acquire_workspace("ws-k", H("A")) is None
    assert a.pool_busy(time.time()) == {"p": 1}
    os.kill(p.pid, signal.SIGKILL)
    p.join(10)
    # Free within the lease time: at once for PostgreSQL (the connection died) and for SQLite
    # (the holder's pid is gone); polled up to the lease time, never longer.
    deadline = time.monotonic() + LEASE_SECONDS
    lease = None
    while time.monotonic() < deadline:
        lease = a.acquire_workspace("ws-k", H("A"))
        if lease is not None:
            break
        time.sleep(0.05)
    assert lease is not None
    assert a.pool_busy(time.time()) == {}
    slots, full = a.acquire_pools({"p": 1}, H("A"))
    assert full is None and len(slots) == 1


def test_an_expired_sqlite_lease_from_another_host_is_taken_over(tmp_path: Path) -> None:
    s = SQLiteStore(tmp_path / "rota.db")
    now = time.time()
    s.conn.execute(
        "INSERT INTO leases (kind, name, slot, token, machine, host, pid, acquired_at, expires_at) "
        "VALUES ('pool', 'p', 0, 't-old', 'far', 'another-host', 1, ?, ?)",
        (now - 120, now - 1),
    )
    s.conn.execute(
        "INSERT INTO leases (kind, name, slot, token, machine, host, pid, acquired_at, expires_at) "
        "VALUES ('workspace', 'w', 0, 't-live', 'far', 'another-host', 1, ?, ?)",
        (now - 10, now + 50),
    )
    assert s.pool_busy(now) == {}  # expired: no longer counted
    assert s.acquire_pools({"p": 1}, H("A"))[1] is None
    assert s.acquire_workspace("w", H("A")) is None  # not expired, other host: still held


def test_sqlite_heartbeat_extends_the_lease(tmp_path: Path) -> None:
    s = SQLiteStore(tmp_path / "rota.db")
    lease = s.acquire_workspace("w", H("A"), lease_s=5.0)
    assert lease is not None
    exp0 = s.conn.execute("SELECT expires_at FROM leases").fetchone()[0]
    lease.lease_s = 500.0
    assert lease.renew()
    exp1 = s.conn.execute("SELECT expires_at FROM leases").fetchone()[0]
    assert exp1 > exp0 + 400


def test_postgres_lock_lost_with_its_connection(pg_url: str) -> None:
    import psycopg

    from rota.store.postgres import PostgresStore

    a, b = PostgresStore(pg_url), PostgresStore(pg_url)
    fleet = FleetSession(a, workspace="w", machine="A", warn=False)
    fleet.lock_workspace()
    assert fleet.renew() == []
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'rota-locks' AND datname = current_database()"
        )
    deadline = time.monotonic() + 10
    while b.acquire_workspace("w", H("B")) is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert fleet.renew() == ["workspace w slot 0"]
    assert fleet.lost == ["workspace w slot 0"]
    fleet.release()
    a.close()
    b.close()


CONFIG = """
categories = ["code"]
default_category = "code"
[workspace]
path = "{ws}"
id = "team-ws"
[harnesses.alpha]
command = ["true"]
[harnesses.alpha.models]
a1 = {{ tier = "high", cost = 1.0 }}
[harnesses.beta]
command = ["true"]
[harnesses.beta.models]
b1 = {{ tier = "low", cost = 1.0 }}
[pools.apool]
harnesses = ["alpha"]
concurrency = 1
[bandit]
explore_min_trials = 0
"""


def _config(tmp_path: Path):
    from rota.config import load_config

    (tmp_path / "ws").mkdir(exist_ok=True)
    path = tmp_path / "rota.toml"
    path.write_text(CONFIG.format(ws=tmp_path / "ws"))
    return load_config(path), path


def test_choose_reselects_when_a_pool_fills_between_read_and_claim(stores, tmp_path: Path) -> None:
    a, b, _url, _kind = stores
    config, _ = _config(tmp_path)
    # Seed 0 prefers alpha (high tier prior) when it is eligible.
    fa = FleetSession(a, workspace="w1", machine="A")
    first = fa.choose(config, category="code", now=time.time(), seed=0, states=[])
    assert first.arm == "alpha:a1" and [x.name for x in fa.pool_leases] == ["apool"]
    # Machine B reads a stale pool_busy (as if A's claim landed right after B's read).
    fb = FleetSession(b, workspace="w2", machine="B")
    b_pool_busy = b.pool_busy
    b.pool_busy = lambda now: {}  # type: ignore[method-assign]
    try:
        second = fb.choose(config, category="code", now=time.time(), seed=0, states=[])
    finally:
        b.pool_busy = b_pool_busy  # type: ignore[method-assign]
    assert second.arm == "beta:b1"
    assert fb.pool_leases == []
    assert a.pool_busy(time.time()) == {"apool": 1}
    fa.release()
    fb.release()
    assert a.pool_busy(time.time()) == {}
    # With the slot free again, B gets alpha.
    third = fb.choose(config, category="code", now=time.time(), seed=0, states=[])
    assert third.arm == "alpha:a1"
    fb.release()


def test_fleet_session_busy_names_the_holder(stores) -> None:
    a, b, _url, _kind = stores
    with FleetSession(a, workspace="team-ws", machine="box-a") as fa:
        fa.lock_workspace()
        fb = FleetSession(b, workspace="team-ws", machine="box-b")
        with pytest.raises(FleetBusy, match="box-a") as err:
            fb.lock_workspace()
        assert err.value.exit_code == 75
    fb.lock_workspace()  # released on exit
    fb.release()


def test_status_shows_the_fleet_and_select_skips_a_full_pool(stores, tmp_path: Path) -> None:
    a, _b, url, _kind = stores
    config, cfg_path = _config(tmp_path)
    t = time.time()
    for machine in ("box-a", "box-a", "box-b"):
        a.start_session(
            category="code",
            arm="beta:b1",
            started_at=t,
            decision_id=None,
            pid=1,
            machine=machine,
            workspace="w",
        )
    fleet = FleetSession(a, workspace="team-ws", machine="box-a")
    fleet.lock_workspace()
    assert fleet.claim_pools(config, "alpha:a1") is None
    env = {
        **os.environ,
        "ROTA_STORE_URL": url,
        "ROTA_CONFIG": str(cfg_path),
        "ROTA_STATE_DIR": str(tmp_path / "state"),
        "NO_COLOR": "1",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "rota.cli", "status", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)["fleet"]
    assert {m["machine"]: m["sessions"] for m in data["machines"]} == {"box-a": 2, "box-b": 1}
    held = {(x["kind"], x["name"]): x["machine"] for x in data["locks"]}
    assert held == {("workspace", "team-ws"): "box-a", ("pool", "apool"): "box-a"}
    text = subprocess.run(
        [sys.executable, "-m", "rota.cli", "status"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    assert "fleet" in text and "workspace team-ws" in text and "box-b" in text
    # `rota select` on another machine sees the pool full and picks beta.
    proc = subprocess.run(
        [sys.executable, "-m", "rota.cli", "select", "--json", "--seed", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    d = json.loads(proc.stdout)
    assert d["arm"] == "beta:b1"
    alpha = next(c for c in d["candidates"] if c["arm"] == "alpha:a1")
    assert "concurrency limit" in alpha["reason"]
    fleet.release()
