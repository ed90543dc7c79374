"""The PostgreSQL store against a real server: schema and migrations, parameterised SQL, the same
behaviour as SQLite, concurrent writers, blocks shared between machines, connection errors."""

from __future__ import annotations

import multiprocessing as mp
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from rota.errors import StoreUnavailable
from rota.learning import bandit, step
from rota.quota.state import Block, QuotaState
from rota.store.base import SessionOutcome
from rota.store.postgres import PG_MIGRATIONS, SCHEMA_VERSION, PostgresStore, redact_url, to_pg
from rota.store.sqlite import MIGRATIONS, SQLiteStore

pytestmark = pytest.mark.postgres
HL = 14 * 86400.0


def _tables(url: str) -> dict[str, list[str]]:
    with psycopg.connect(url) as c:
        rows = c.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"
        ).fetchall()
    out: dict[str, list[str]] = {}
    for t, col in rows:
        out.setdefault(t, []).append(col)
    return out


def test_schema_is_created_on_first_use_and_matches_sqlite(pg_url: str, tmp_path: Path) -> None:
    assert len(PG_MIGRATIONS) == len(MIGRATIONS), "every SQLite migration needs a PostgreSQL twin"
    PostgresStore(pg_url).close()
    tables = _tables(pg_url)
    with psycopg.connect(pg_url) as c:
        versions = [r[0] for r in c.execute("SELECT version FROM rota_schema ORDER BY version")]
    assert versions == list(range(1, SCHEMA_VERSION + 1))
    lite = SQLiteStore(tmp_path / "rota.db")
    for table in ("meta", "evidence", "decisions", "sessions", "blocks", "quota_cache", "leases"):
        cols = [r[1] for r in lite.conn.execute(f"PRAGMA table_info({table})")]
        assert tables[table] == cols, table
    # Timestamps and posteriors need double precision (REAL is 4 bytes in PostgreSQL).
    with psycopg.connect(pg_url) as c:
        types = dict(
            c.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = 'evidence'"
            ).fetchall()
        )
    assert types["s"] == types["t"] == "double precision"


def test_an_older_schema_is_migrated_and_keeps_its_data(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as c:
        for statement in PG_MIGRATIONS[0].split(";"):
            if statement.strip():
                c.execute(statement)
        c.execute(
            "CREATE TABLE rota_schema (version INTEGER PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)"
        )
        c.execute("INSERT INTO rota_schema VALUES (1, 0)")
        c.execute(
            "INSERT INTO sessions (category, arm, status, started_at) VALUES ('code', 'a:x', 'completed', 5)"
        )
    s = PostgresStore(pg_url)
    assert s.schema_version() == SCHEMA_VERSION
    assert "leases" in _tables(pg_url)
    assert [r.arm for r in s.recent_sessions(5)] == ["a:x"]
    # New rows get fresh ids after the old ones.
    sid = s.start_session(
        category="code",
        arm="b:y",
        started_at=6,
        decision_id=None,
        pid=1,
        machine="m",
        workspace="w",
    )
    assert sid == 2


def _open(url: str, q: mp.Queue) -> None:
    try:
        PostgresStore(url).close()
        q.put("ok")
    except Exception as exc:  # pragma: no cover - reported to the parent
        q.put(repr(exc))


def test_concurrent_first_use_migrates_exactly_once(pg_url: str) -> None:
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    procs = [ctx.Process(target=_open, args=(pg_url, q)) for _ in range(6)]
    for p in procs:
        p.start()
    results = [q.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(60)
    assert results == ["ok"] * 6
    with psycopg.connect(pg_url) as c:
        assert c.execute("SELECT COUNT(*) FROM rota_schema").fetchone()[0] == SCHEMA_VERSION


def test_a_newer_schema_is_refused_clearly(pg_url: str) -> None:
    PostgresStore(pg_url).close()
    with psycopg.connect(pg_url, autocommit=True) as c:
        c.execute("INSERT INTO rota_schema VALUES (%s, 0)", (SCHEMA_VERSION + 3,))
    with pytest.raises(StoreUnavailable, match="newer than this rota"):
        PostgresStore(pg_url)


def test_placeholders_are_converted_not_interpolated() -> None:
    assert to_pg("SELECT a FROM t WHERE b = ? AND c LIKE 'x%'") == (
        "SELECT a FROM t WHERE b = %s AND c LIKE 'x%%'"
    )


NASTY = 'x\'); DROP TABLE sessions; -- ? %s %(a)s \\ "q" ünï'


@pytest.fixture(params=["sqlite", "postgres"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "sqlite":
        s = SQLiteStore(tmp_path / "rota.db")
    else:
        s = PostgresStore(request.getfixturevalue("pg_url"))
    yield s
    s.close()


def test_every_value_goes_through_parameters_on_both_stores(any_store) -> None:
    s = any_store
    did = s.record_decision(
        {"decided_at": 10.0, "category": NASTY, "arm": NASTY}, workspace=NASTY, machine=NASTY
    )
    sid = s.start_session(
        category=NASTY,
        arm=NASTY,
        started_at=11.0,
        decision_id=did,
        pid=7,
        machine=NASTY,
        workspace=NASTY,
        log_path=NASTY,
        detail={"k": NASTY},
    )
    rec = s.finish_session(
        sid,
        SessionOutcome(
            status="completed",
            ended_at=12.0,
            reward=0.75,
            signals={"s": NASTY},
            detail={"d": NASTY},
            blocks=[Block("arm", NASTY, 99.0, NASTY, "manual", 12.0)],
        ),
        half_life_s=HL,
    )
    assert (rec.category, rec.arm, rec.machine, rec.workspace, rec.log_path) == (NASTY,) * 5
    assert rec.signals == {"s": NASTY} and rec.detail["d"] == NASTY and rec.detail["k"] == NASTY
    assert s.recent_sessions(5, workspace=NASTY)[0].id == sid
    assert s.recent_sessions(5, workspace=NASTY + "x") == []
    assert [b.scope for b in s.active_blocks(50.0)] == [NASTY]
    s.put_quota_states(
        [QuotaState("harness", NASTY, NASTY, False, 0.5, 200.0, "api", NASTY, 300.0, 20.0)],
        source_key=NASTY,
    )
    [q] = s.cached_quota_states(100.0, 30.0)
    assert (q.scope, q.window, q.reason, q.available) == (NASTY, NASTY, NASTY, False)
    assert s.counts()["sessions"] == 1  # the table is still there


def _drive(store, t0: float) -> dict:
    """The same sequence of calls on any store; returns what the store says afterwards."""
    out: dict = {}
    for i in range(12):
        sid = store.start_session(
            category=("code", "triage")[i % 2],
            arm=("a:x", "b:y", "c:z")[i % 3],
            started_at=t0 + i * 60,
            decision_id=None,
            pid=100 + i,
            machine="m",
            workspace="w",
        )
        status = ("completed", "rate_limited", "crashed")[i % 3]
        reward = None if status == "rate_limited" else (i % 5) / 4
        store.finish_session(
            sid,
            SessionOutcome(
                status=status,
                ended_at=t0 + i * 60 + 30,
                reward=reward,
                arm_ran="c:z" if i == 4 else None,
            ),
            half_life_s=HL,
        )
    store.set_grade(1, 0.1, now=t0 + 2000, half_life_s=HL)
    store.set_grade(1, 0.9, now=t0 + 2100, half_life_s=HL)
    running = store.start_session(
        category="code",
        arm="a:x",
        started_at=t0 + 3000,
        decision_id=None,
        pid=999999,
        machine="m",
        workspace="w",
    )
    out["running"] = [r.id for r in store.running_sessions()]
    assert store.mark_abandoned(running, t0 + 3100, "gone")
    assert not store.mark_abandoned(running, t0 + 3200, "again")
    store.add_block(Block("harness", "a", t0 + 9000, "limit", "rate_limit", t0 + 10, 2))
    store.add_block(Block("harness", "a", t0 + 500, "old", "rate_limit", t0 + 5, 1))
    out["latest"] = store.latest_block("harness", "a")
    out["active"] = store.active_blocks(t0 + 1000)
    out["removed"] = store.remove_blocks("harness", "a")
    out["evidence"] = store.evidence()
    out["obs"] = store.graded_observations()
    out["sessions"] = [r.to_dict() for r in store.recent_sessions(50)]
    out["counts"] = store.counts()
    out["machines"] = store.machine_summary(t0)
    return out


def test_postgres_behaves_exactly_like_sqlite(pg_url: str, tmp_path: Path) -> None:
    t0 = 1_800_000_000.0
    lite = _drive(SQLiteStore(tmp_path / "rota.db"), t0)
    pg = _drive(PostgresStore(pg_url), t0)
    assert set(lite) == set(pg)
    for key in lite:
        if key == "evidence":
            assert set(lite[key]) == set(pg[key])
            for k in lite[key]:
                a, b = lite[key][k], pg[key][k]
                assert (
                    a.n == b.n
                    and a.s == pytest.approx(b.s, abs=1e-12)
                    and a.f == pytest.approx(b.f, abs=1e-12)
                )
        else:
            assert lite[key] == pg[key], key


def _writer(url: str, n: int, seed: int, q: mp.Queue) -> None:
    s = PostgresStore(url)
    total = 0.0
    for i in range(n):
        r = ((seed * 31 + i * 7) % 11) / 10
        sid = s.start_session(
            category=("code", "triage")[i % 2],
            arm="a:x",
            started_at=time.time(),
            decision_id=None,
            pid=os.getpid(),
            machine=f"m{seed}",
            workspace=f"w{seed}",
        )
        s.finish_session(
            sid, SessionOutcome(status="completed", ended_at=time.time(), reward=r), half_life_s=HL
        )
        total += r
    s.close()
    q.put(total)


def test_concurrent_posterior_updates_from_many_processes_lose_nothing(pg_url: str) -> None:
    PostgresStore(pg_url).close()
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    procs, per = 8, 25
    ps = [ctx.Process(target=_writer, args=(pg_url, per, k, q)) for k in range(procs)]
    for p in ps:
        p.start()
    totals = [q.get(timeout=120) for _ in ps]
    for p in ps:
        p.join(60)
        assert p.exitcode == 0
    s = PostgresStore(pg_url)
    ev = s.evidence()
    overall = ev[(bandit.OVERALL, "a:x")]
    assert overall.n == procs * per
    assert ev[("code", "a:x")].n + ev[("triage", "a:x")].n == procs * per
    assert overall.sum_r == pytest.approx(sum(totals), abs=1e-9)
    # And the live rows equal the ones rebuilt from the session records: their counts and sums
    # whatever the order the writers committed in; their decayed masses too where no change was
    # found (a sequential test follows the order grades were learnt in, which concurrent
    # writers do not fix).
    rebuilt, drifts = step.rebuild(s.graded_observations(), HL)
    live_drifts = s.drifts()
    assert set(rebuilt) == set(ev)
    # A change found in one category also takes its mass out of the arm's overall row, so any
    # change on the arm's rows (in either order) sets the arm's masses apart.
    changed_arms = {k[1] for d in (drifts, live_drifts) for k, x in d.items() if x.changed_at}
    for key, r in rebuilt.items():
        assert ev[key].n == r.n and ev[key].sum_r == pytest.approx(r.sum_r, abs=1e-9)
        if key[1] in changed_arms:
            continue
        assert ev[key].s == pytest.approx(r.s, rel=1e-6) and ev[key].f == pytest.approx(
            r.f, rel=1e-6
        )


CONFIG = """
categories = ["code"]
default_category = "code"
[workspace]
path = "{ws}"
[harnesses.alpha]
command = ["true"]
[harnesses.alpha.models]
a1 = {{ tier = "high" }}
[harnesses.beta]
command = ["true"]
[harnesses.beta.models]
b1 = {{ tier = "low" }}
[pools.shared]
harnesses = ["alpha"]
"""


def _machine_a_hits_a_limit(url: str) -> None:
    s = PostgresStore(url)
    sid = s.start_session(
        category="code",
        arm="alpha:a1",
        started_at=time.time(),
        decision_id=None,
        pid=os.getpid(),
        machine="A",
        workspace="wa",
    )
    until = time.time() + 3600
    s.finish_session(
        sid,
        SessionOutcome(
            status="rate_limited",
            ended_at=time.time(),
            blocks=[Block("pool", "shared", until, "usage limit", "rate_limit", time.time())],
        ),
        half_life_s=HL,
    )
    s.close()


def test_a_limit_hit_on_machine_a_blocks_the_pool_for_machine_b(
    pg_url: str, tmp_path: Path
) -> None:
    from rota.config import load_config
    from rota.session.decide import decide

    (tmp_path / "ws").mkdir()
    cfg_path = tmp_path / "rota.toml"
    cfg_path.write_text(CONFIG.format(ws=tmp_path / "ws"))
    config = load_config(cfg_path)
    b = PostgresStore(pg_url)  # machine B's store, open before A's limit hit
    before = decide(config, b, category="code", now=time.time(), seed=1, states=[])
    assert {c.arm for c in before.candidates if c.eligible} == {"alpha:a1", "beta:b1"}
    ctx = mp.get_context("fork")
    p = ctx.Process(target=_machine_a_hits_a_limit, args=(pg_url,))
    p.start()
    p.join(60)
    assert p.exitcode == 0
    after = decide(config, b, category="code", now=time.time(), seed=1, states=[])
    alpha = next(c for c in after.candidates if c.arm == "alpha:a1")
    assert not alpha.eligible and "pool shared" in alpha.reason
    assert after.arm == "beta:b1"
    # And from the command line on machine B.
    env = {
        **os.environ,
        "ROTA_STORE_URL": pg_url,
        "ROTA_CONFIG": str(cfg_path),
        "ROTA_STATE_DIR": str(tmp_path / "b"),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "rota.cli", "select", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert '"arm": "beta:b1"' in proc.stdout


def test_redact_url_hides_passwords_everywhere() -> None:
    assert (
        redact_url("postgresql://u:s3cret@h:5/db?sslmode=require")
        == "postgresql://u:***@h:5/db?sslmode=require"
    )
    assert "s3cret" not in redact_url("postgresql://u@h/db?password=s3cret")
    assert redact_url("postgresql://h/db") == "postgresql://h/db"


def test_connection_errors_exit_69_with_a_clear_message_and_no_password(
    pg_server: str, tmp_path: Path
) -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(pg_server)
    (tmp_path / "ws").mkdir()
    cfg = tmp_path / "rota.toml"
    cfg.write_text(CONFIG.format(ws=tmp_path / "ws"))
    wrong_password = (
        f"postgresql://{parts.username}:Wr0ngPassw0rd@{parts.hostname}:{parts.port}/postgres"
    )
    with socket_closed_port() as port:
        refused = f"postgresql://rota:Sup3rSecret@127.0.0.1:{port}/rota"
        for url, secret, why in (
            (refused, "Sup3rSecret", "refused"),
            (wrong_password, "Wr0ngPassw0rd", "password"),
        ):
            env = {
                **os.environ,
                "ROTA_STORE_URL": url,
                "ROTA_CONFIG": str(cfg),
                "ROTA_STATE_DIR": str(tmp_path / "s"),
            }
            for args in (["status"], ["select"], ["store", "info"]):
                proc = subprocess.run(
                    [sys.executable, "-m", "rota.cli", *args],
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=60,
                )
                assert proc.returncode == 69, (args, proc.stderr)
                assert secret not in proc.stdout + proc.stderr
                assert "PostgreSQL store postgresql://" in proc.stderr and ":***@" in proc.stderr
                assert why in proc.stderr
                assert "Traceback" not in proc.stderr


class socket_closed_port:
    """A loopback port with nothing listening on it."""

    def __enter__(self) -> int:
        import socket

        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        return self.port

    def __exit__(self, *exc: object) -> None:
        pass


def test_a_dropped_connection_is_reported_then_recovered(pg_url: str) -> None:
    s = PostgresStore(pg_url)
    s.add_block(Block("arm", "a:x", time.time() + 60, "r", "manual", time.time()))
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'rota-rota' AND datname = current_database()"
        )
    try:
        s.active_blocks(time.time())  # may fail: the server closed the connection
    except StoreUnavailable as exc:
        assert "***" in str(exc) or "@" not in str(exc)
    assert len(s.active_blocks(time.time())) == 1  # reconnected on the next use
