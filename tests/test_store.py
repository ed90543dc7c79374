"""The SQLite store: schema, permissions, transactions, grade corrections, concurrent writers."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3
import stat
from pathlib import Path

import pytest

from rota.learning import bandit, step
from rota.quota.state import Block, QuotaState
from rota.store.base import SessionOutcome
from rota.store.sqlite import SCHEMA_VERSION, SQLiteStore

HL = 14 * 86400.0


def test_file_is_owner_only_wal_and_versioned(tmp_path: Path) -> None:
    s = SQLiteStore(tmp_path / "state" / "rota.db")
    s.close()
    db = tmp_path / "state" / "rota.db"
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_newer_schema_is_refused_clearly(tmp_path: Path) -> None:
    from rota.errors import StoreUnavailable

    db = tmp_path / "rota.db"
    SQLiteStore(db).close()
    con = sqlite3.connect(db)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    con.commit()
    con.close()
    with pytest.raises(StoreUnavailable, match="newer than this rota"):
        SQLiteStore(db)


def _session(
    s: SQLiteStore, reward: float | None, *, arm: str = "a:x", at: float = 1000.0, **kw
) -> int:
    sid = s.start_session(
        category="code", arm=arm, started_at=at, decision_id=None, pid=1, machine="m", workspace="w"
    )
    s.finish_session(
        sid,
        SessionOutcome(status=kw.pop("status", "completed"), ended_at=at + 10, reward=reward, **kw),
        half_life_s=HL,
    )
    return sid


def test_session_and_posterior_update_are_one_transaction(tmp_path: Path) -> None:
    s = SQLiteStore(tmp_path / "rota.db")
    sid = s.start_session(
        category="code",
        arm="a:x",
        started_at=1.0,
        decision_id=None,
        pid=1,
        machine="m",
        workspace="w",
    )
    bad = SessionOutcome(
        status="completed",
        ended_at=2.0,
        reward=0.5,
        blocks=[Block("arm", "a:x", float("nan"), "", "x", 0)],
    )
    # Make the block insert fail inside the transaction: NOT NULL violation via a None scope.
    bad = bad._replace(blocks=[Block("arm", None, 5.0, "", "x", 0)])  # type: ignore[arg-type]
    with pytest.raises(sqlite3.IntegrityError):
        s.finish_session(sid, bad, half_life_s=HL)
    assert s.get_session(sid).status == "running"  # rolled back together
    assert s.evidence() == {}


def test_rate_limited_session_leaves_posterior_alone_and_blocks(tmp_path: Path) -> None:
    s = SQLiteStore(tmp_path / "rota.db")
    _session(s, 0.8)
    before = s.evidence()
    _session(
        s,
        None,
        status="rate_limited",
        blocks=[Block("harness", "a", 5000.0, "limit", "rate_limit", 1000.0)],
    )
    assert s.evidence() == before
    assert [b.scope for b in s.active_blocks(2000.0)] == ["a"]
    assert s.active_blocks(6000.0) == []


def test_credit_goes_to_the_arm_that_ran(tmp_path: Path) -> None:
    s = SQLiteStore(tmp_path / "rota.db")
    _session(s, 0.7, arm="copilot:gpt-5", arm_ran="copilot:gpt-4.1")
    ev = s.evidence()
    assert ("code", "copilot:gpt-4.1") in ev and ("code", "copilot:gpt-5") not in ev


def test_grade_correction_replaces_not_adds(tmp_path: Path) -> None:
    s = SQLiteStore(tmp_path / "rota.db")
    sid = _session(s, 0.9)
    s.set_grade(sid, 0.1, now=1010.0, half_life_s=HL)
    s.set_grade(sid, 0.2, now=1010.0, half_life_s=HL)
    ev = s.evidence()[("code", "a:x")]
    assert ev.n == 1
    assert ev.s == pytest.approx(0.2) and ev.f == pytest.approx(0.8)
    assert s.get_session(sid).signals["grade_history"][-1]["previous"] == pytest.approx(0.1)
    # Grading an ungraded (e.g. interrupted) session adds exactly one observation.
    sid2 = _session(s, None, status="interrupted")
    s.set_grade(sid2, 1.0, now=1020.0, half_life_s=HL)
    assert s.evidence()[("code", "a:x")].n == 2


def test_abandoned_sessions_get_no_grade(tmp_path: Path) -> None:
    s = SQLiteStore(tmp_path / "rota.db")
    sid = s.start_session(
        category="code",
        arm="a:x",
        started_at=1.0,
        decision_id=None,
        pid=999999,
        machine="m",
        workspace="w",
    )
    assert s.mark_abandoned(sid, 5.0, "process gone")
    assert not s.mark_abandoned(sid, 6.0, "again")
    rec = s.get_session(sid)
    assert rec.status == "abandoned" and rec.reward is None and s.evidence() == {}


def test_quota_cache_round_trip_and_expiry(tmp_path: Path) -> None:
    s = SQLiteStore(tmp_path / "rota.db")
    st = QuotaState(
        "harness", "codex", "primary", True, 0.42, 5000.0, "logs", "", 300, observed_at=100.0
    )
    s.put_quota_states([st])
    s.put_quota_states([st])  # upsert, not duplicate
    assert s.cached_quota_states(60, 120.0) == [st]
    assert s.cached_quota_states(60, 1000.0) == []


def _writer(path: str, n: int, arm: str) -> None:
    s = SQLiteStore(path)
    for i in range(n):
        sid = s.start_session(
            category="code",
            arm=arm,
            started_at=float(i),
            decision_id=None,
            pid=1,
            machine="m",
            workspace="w",
        )
        s.finish_session(
            sid, SessionOutcome(status="completed", ended_at=float(i), reward=1.0), half_life_s=HL
        )
    s.close()


def test_concurrent_processes_lose_no_update(tmp_path: Path) -> None:
    path = str(tmp_path / "rota.db")
    SQLiteStore(path).close()
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, 40, "a:x")) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    s = SQLiteStore(path)
    ev = s.evidence()
    assert ev[("code", "a:x")].n == 160 and ev[(bandit.OVERALL, "a:x")].n == 160
    assert s.counts()["sessions"] == 160
    # And the posteriors equal a rebuild from the session records.
    rebuilt = step.rebuild(s.graded_observations(), HL)[0]
    assert rebuilt[("code", "a:x")].n == 160
    assert rebuilt[("code", "a:x")].s == pytest.approx(ev[("code", "a:x")].s, rel=1e-6)


def test_a_new_store_has_larger_pages_and_an_old_one_keeps_its_own(tmp_path: Path) -> None:
    """A graded session's row is about 2.5 KB: 8 KB pages hold three, 4 KB pages one
    (bench/store_size.py). A store made with other pages opens with them, unchanged."""
    from rota.store.sqlite import PAGE_SIZE

    SQLiteStore(tmp_path / "new.db").close()
    conn = sqlite3.connect(tmp_path / "new.db")
    assert conn.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE == 8192
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    old = sqlite3.connect(tmp_path / "old.db")
    old.execute("PRAGMA page_size = 4096")
    old.execute("CREATE TABLE t (x)")
    old.close()
    SQLiteStore(tmp_path / "old.db").close()
    conn = sqlite3.connect(tmp_path / "old.db")
    assert conn.execute("PRAGMA page_size").fetchone()[0] == 4096
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 0
    conn.close()
