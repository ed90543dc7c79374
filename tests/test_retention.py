"""rota.store.retention: pruning old rows and logs leaves every posterior and learnt fact."""

from __future__ import annotations

import os
import time
from pathlib import Path

from rota.quota.history import LEARN_LOOKBACK_S
from rota.quota.state import Block, QuotaState
from rota.store.base import SessionOutcome
from rota.store.retention import Retention, cap_file, prune, prune_logs, prune_rows
from rota.store.sqlite import SQLiteStore

DAY = 86400.0
NOW = time.time()
H = 14 * DAY


def _history(store: SQLiteStore, days_ago: list[float]) -> None:
    for i, d in enumerate(days_ago):
        at = NOW - d * DAY
        did = store.record_decision(
            {"decided_at": at, "category": "code", "arm": "a:m", "why": "x" * 2000},
            workspace="ws",
            machine="box",
        )
        sid = store.start_session(
            category="code",
            arm="a:m",
            started_at=at,
            decision_id=did,
            pid=1,
            machine="box",
            workspace="ws",
        )
        store.finish_session(
            sid,
            SessionOutcome(status="completed", ended_at=at + 60, exit_code=0, reward=(i % 5) / 4),
            half_life_s=H,
        )


def test_prune_rows_keeps_every_posterior_and_what_selection_reads(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "rota.db")
    _history(store, [400, 300, 200, 100, 40, 29, 20, 5, 1, 0.1])
    running = store.start_session(
        category="code",
        arm="a:m",
        started_at=NOW - 500 * DAY,
        decision_id=None,
        pid=2,
        machine="box",
        workspace="ws",
    )
    store.add_block(Block("harness", "a", NOW - 10 * DAY, "old", "backoff", NOW - 11 * DAY, 1))
    store.add_block(Block("harness", "a", NOW + 3600, "new", "rate_limit", NOW, 1))
    store.put_quota_states([QuotaState("harness", "a", "w", observed_at=NOW - 30 * DAY)])
    evidence = store.evidence()
    uses = store.recent_uses(NOW - LEARN_LOOKBACK_S, 1000, 100)
    before = store.counts()

    dry = prune_rows(store, Retention(sessions_days=30), NOW, dry_run=True)
    assert store.counts() == before
    done = prune_rows(store, Retention(sessions_days=30), NOW)
    assert dry.rows == done.rows == {"sessions": 5, "decisions": 5, "blocks": 1, "quota_cache": 1}
    assert store.evidence() == evidence
    assert store.recent_uses(NOW - LEARN_LOOKBACK_S, 1000, 100) == uses
    assert store.get_session(running) is not None  # a running session is never pruned
    assert [b.reason for b in store.active_blocks(NOW)] == ["new"]


def test_a_harness_keeps_its_last_outcome_however_old(tmp_path: Path) -> None:
    """A harness without a quota source is usable when its last session succeeded
    (rota.probes reads the newest sessions' outcomes): pruning keeps that session."""
    store = SQLiteStore(tmp_path / "rota.db")
    for arm, days in (("old:m", 300), ("old:m", 200), ("a:m", 100), ("a:m", 1)):
        sid = store.start_session(
            category="code", arm=arm, started_at=NOW - days * DAY, decision_id=None, pid=1,
            machine="box", workspace="ws",
        )  # fmt: skip
        store.finish_session(
            sid,
            SessionOutcome(status="completed", ended_at=NOW - days * DAY + 60, exit_code=0),
            half_life_s=H,
        )
    from rota.probes import _last_outcomes

    before = _last_outcomes(store)
    assert set(before) == {"a", "old"}
    assert prune_rows(store, Retention(sessions_days=30), NOW).sessions == 2  # a@100, old@300
    assert _last_outcomes(store) == before


def test_sessions_days_cannot_cut_into_what_selection_reads(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "rota.db")
    _history(store, [29, 20])
    assert prune_rows(store, Retention(sessions_days=1), NOW).sessions == 0


def _log(d: Path, name: str, size: int, age_days: float) -> Path:
    p = d / name
    p.write_bytes(b"x" * size)
    t = NOW - age_days * DAY
    os.utime(p, (t, t))
    return p


def test_logs_go_by_age_then_by_total_size_oldest_first(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    old = _log(logs, "20250101T000000Z-1-a.log", 10, 40)
    old_prompt = _log(logs, "20250101T000000Z-1-a.prompt.md", 10, 40)
    mid = _log(logs, "20261101T000000Z-2-a.log", 600_000, 10)
    new = _log(logs, "20261130T000000Z-3-a.log", 600_000, 1)
    running = _log(logs, "20250101T000000Z-4-a.log", 10, 50)
    r = prune_logs(logs, Retention(logs_days=30, logs_max_mib=1.0), NOW, keep=[str(running)])
    assert not old.exists() and not old_prompt.exists() and not mid.exists()
    assert new.exists() and running.exists()
    assert r.log_files == 3 and r.log_bytes == 600_020


def test_a_log_is_capped_keeping_head_and_tail(tmp_path: Path) -> None:
    p = tmp_path / "s.log"
    lines = [f"line {i:06d}\n".encode() for i in range(100_000)]
    p.write_bytes(b"".join(lines))
    assert cap_file(p, 64 * 1024)
    data = p.read_bytes()
    assert len(data) <= 64 * 1024 + 200
    assert data.startswith(b"line 000000\n") and data.endswith(b"line 099999\n")
    assert b"bytes of output left out here" in data
    kept = [x for x in data.split(b"\n") if x.startswith(b"line ")]
    assert all(len(x) == 11 for x in kept)  # cut at line ends
    assert not cap_file(p, 64 * 1024 * 2)  # under the cap: untouched


def test_prune_does_rows_and_logs(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "rota.db")
    _history(store, [100, 1])
    logs = tmp_path / "logs"
    logs.mkdir()
    _log(logs, "x.log", 5, 100)
    r = prune(store, logs, Retention(sessions_days=30), NOW)
    assert r.sessions == 1 and r.log_files == 1
    assert r.to_dict()["rows"]["sessions"] == 1
