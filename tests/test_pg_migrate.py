"""`rota store migrate`: one machine's SQLite history into the fleet's PostgreSQL, checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pg_support import posteriors_equal
from rota.learning import step
from rota.learning.bandit import merge as merge_evidence
from rota.quota.state import Block, QuotaState
from rota.store.base import SessionOutcome
from rota.store.migrate import MigrationError, migrate
from rota.store.postgres import PostgresStore
from rota.store.sqlite import SQLiteStore

pytestmark = pytest.mark.postgres
HL = 14 * 86400.0


def _history(store, machine: str, n: int, t0: float, arms=("a:x", "b:y", "c:z")) -> None:
    for i in range(n):
        did = store.record_decision(
            {"decided_at": t0 + i * 100, "category": "code", "arm": arms[i % len(arms)]},
            workspace="w",
            machine=machine,
        )
        sid = store.start_session(
            category=("code", "triage")[i % 2],
            arm=arms[i % len(arms)],
            started_at=t0 + i * 100,
            decision_id=did,
            pid=10 + i,
            machine=machine,
            workspace=f"{machine}:w",
        )
        status = "rate_limited" if i % 5 == 4 else "completed"
        store.finish_session(
            sid,
            SessionOutcome(
                status=status,
                ended_at=t0 + i * 100 + 50,
                reward=None if status == "rate_limited" else ((i * 13) % 10) / 9,
                blocks=[Block("harness", "a", t0 + 1e6, "limit", "rate_limit", t0 + i * 100)]
                if status == "rate_limited"
                else [],
            ),
            half_life_s=HL,
        )
    store.set_grade(1, 0.5, now=t0 + n * 100, half_life_s=HL)
    store.put_quota_states([QuotaState("harness", "a", "5h", True, 0.2, observed_at=t0 + n * 100)])


def test_migrate_sqlite_to_empty_postgres_keeps_ids_counts_and_posteriors(
    pg_url: str, tmp_path: Path
) -> None:
    t0 = time.time() - 10 * 86400
    src = SQLiteStore(tmp_path / "rota.db")
    _history(src, "laptop", 40, t0)
    dst = PostgresStore(pg_url)
    report = migrate(src, dst, half_life_s=HL)
    assert report.preserved_ids
    assert dst.counts() == src.counts()
    now = time.time()
    assert posteriors_equal(src.evidence(), dst.evidence(), now, HL)
    assert dst.evidence() == src.evidence()  # bit for bit: double precision both sides
    assert [s.to_dict() for s in dst.recent_sessions(100)] == [
        s.to_dict() for s in src.recent_sessions(100)
    ]
    assert dst.graded_observations() == src.graded_observations()
    # New sessions continue after the copied ids.
    sid = dst.start_session(
        category="code",
        arm="a:x",
        started_at=now,
        decision_id=None,
        pid=1,
        machine="m",
        workspace="w",
    )
    assert sid == 41
    # Copying the same history twice is refused and writes nothing.
    before = dst.counts()
    with pytest.raises(MigrationError, match="already copied"):
        migrate(src, dst, half_life_s=HL)
    assert dst.counts() == before


def test_migrate_into_a_fleet_store_that_already_has_history_merges_exactly(
    pg_url: str, tmp_path: Path
) -> None:
    t0 = time.time() - 10 * 86400
    dst = PostgresStore(pg_url)
    _history(dst, "desktop", 25, t0 + 33, arms=("a:x", "d:w"))
    laptop = SQLiteStore(tmp_path / "laptop.db")
    _history(laptop, "laptop", 30, t0)
    dst_before, src_ev = dst.evidence(), laptop.evidence()
    counts_before = dst.counts()
    report = migrate(laptop, dst, half_life_s=HL)
    assert not report.preserved_ids and report.merged_evidence_rows > 0
    after = dst.counts()
    for t in ("sessions", "decisions", "blocks"):
        assert after[t] == counts_before[t] + laptop.counts()[t]
    # The merged posteriors equal those of one store that had seen both histories.
    expected = dict(dst_before)
    for k, ev in src_ev.items():
        expected[k] = merge_evidence(expected[k], ev, HL) if k in expected else ev
    assert posteriors_equal(dst.evidence(), expected, time.time(), HL)
    rebuilt = step.rebuild(dst.graded_observations(), HL)[0]
    for k, ev in dst.evidence().items():
        assert ev.n == rebuilt[k].n
    # Sessions point at their own (renumbered) decisions.
    for s in dst.recent_sessions(200):
        assert s.decision_id is not None
    with dst._read() as cur:
        cur.execute(
            "SELECT COUNT(*) FROM sessions s JOIN decisions d ON d.id = s.decision_id "
            "WHERE d.machine <> s.machine"
        )
        assert cur.fetchone()[0] == 0


def test_cli_migrate_checks_and_reports(pg_url: str, tmp_path: Path) -> None:
    state = tmp_path / "state"
    src = SQLiteStore(state / "rota.db")
    _history(src, "laptop", 12, time.time() - 86400)
    running = src.start_session(
        category="code",
        arm="a:x",
        started_at=time.time(),
        decision_id=None,
        pid=1,
        machine="laptop",
        workspace="w",
    )
    src.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROTA_")}
    env.update(
        {
            "ROTA_STATE_DIR": str(state),
            "HOME": str(tmp_path),
            "ROTA_CONFIG": str(tmp_path / "none.toml"),
        }
    )

    def rota(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "rota.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    p = rota("store", "migrate", "--to", pg_url)
    assert p.returncode == 1 and "running session" in p.stderr
    SQLiteStore(state / "rota.db").mark_abandoned(running, time.time(), "test")
    p = rota("store", "migrate", "--to", pg_url, "--json")
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout)
    assert report["source_counts"] == report["target_after"]
    assert report["preserved_ids"] is True
    password = pg_url.split("//", 1)[1].split("@", 1)[0].split(":", 1)[1]
    assert password not in p.stdout + p.stderr
    p = rota("store", "migrate", "--to", pg_url)
    assert p.returncode == 1 and "already copied" in p.stderr
    p = rota("store", "info", "--url", pg_url, "--json")
    assert p.returncode == 0, p.stderr
    info = json.loads(p.stdout)
    assert info["kind"] == "postgresql" and info["counts"]["sessions"] == 13
    assert password not in p.stdout
    p = rota("store", "migrate", "--from", f"sqlite://{tmp_path}/missing.db", "--to", pg_url)
    assert p.returncode == 2 and "no such file" in p.stderr
