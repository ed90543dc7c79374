"""rota.session.outbox: a session's outcome is kept on disk even when the disk is full."""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

import pytest

from rota.quota.state import Block
from rota.session import outbox
from rota.store.base import SessionOutcome

IDENTITY = {
    "id": 7,
    "category": "code",
    "arm": "agent:m1",
    "started_at": 1_796_000_000.5,
    "pid": 4242,
    "machine": "box",
    "workspace": "/ws",
    "log_path": "/state/logs/x.log",
    "decision_id": 3,
    "detail": {"harness": "agent", "model": "m1"},
}
OUTCOME = SessionOutcome(
    status="completed",
    ended_at=1_796_000_100.0,
    exit_code=0,
    arm_ran=None,
    reward=0.75,
    signals={"exit": 1.0, "commits": 1.0, "errors": {"grader": "x" * 100_000}},
    detail={"process": {"exit_code": 0}, "levels": [[1, 2, 3]] * 5000},
    blocks=(Block("harness", "agent", 1_796_003_700.0, "limit", "rate_limit", 1_796_000_100.0, 1),),
)


def test_reserve_write_read_discard(tmp_path: Path) -> None:
    slot = outbox.reserve(tmp_path, IDENTITY)
    assert slot is not None
    assert oct(slot.path.stat().st_mode & 0o777) == "0o600"
    assert slot.path.stat().st_size == outbox.RESERVE_BYTES
    items, bad = outbox.pending(tmp_path)
    assert bad == [] and items[0].session == IDENTITY and items[0].outcome is None
    assert slot.write(OUTCOME)
    assert slot.path.stat().st_size == outbox.RESERVE_BYTES  # in place: no growth
    items, _ = outbox.pending(tmp_path)
    got = outbox._decode_outcome(items[0].outcome or {})
    assert got.status == "completed" and got.reward == 0.75 and got.blocks == OUTCOME.blocks
    assert got.signals["exit"] == 1.0  # the oversized parts were dropped, the grade kept
    assert "levels" not in got.detail and got.detail["process"] == {"exit_code": 0}
    slot.discard()
    assert outbox.pending(tmp_path) == ([], [])


def test_a_damaged_file_is_reported_not_fatal(tmp_path: Path) -> None:
    d = outbox.outbox_dir(tmp_path)
    d.mkdir()
    (d / "x.json").write_bytes(b"{\x00 truncated")
    items, bad = outbox.pending(tmp_path)
    assert items == [] and bad == ["x.json"]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to mount a small tmpfs (CI runs as root)")
def test_the_outcome_is_written_on_a_full_disk(tmp_path: Path) -> None:
    mnt = tmp_path / "disk"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], check=True)
    try:
        slot = outbox.reserve(mnt, IDENTITY)
        assert slot is not None
        with contextlib.suppress(OSError), open(mnt / "filler", "wb", buffering=0) as fh:
            while True:
                fh.write(b"\0" * 4096)
        with pytest.raises(OSError):
            (mnt / "more").write_bytes(b"\0" * 8192)  # the disk is full indeed
        assert slot.write(OUTCOME)
        slot.close()
        items, _ = outbox.pending(mnt)
        assert items[0].outcome is not None and items[0].outcome["reward"] == 0.75
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


# ---------------------------------------------------------------------------------------------
# Replay into a real store

from rota.store.sqlite import SQLiteStore  # noqa: E402

H = 14 * 86400.0


def _started(store: SQLiteStore) -> dict:
    sid = store.start_session(
        category="code",
        arm="agent:m1",
        started_at=IDENTITY["started_at"],
        decision_id=None,
        pid=4242,
        machine="box",
        workspace="/ws",
    )
    return {**IDENTITY, "id": sid, "decision_id": None}


def _keep(state: Path, identity: dict, outcome: SessionOutcome | None = OUTCOME) -> Path:
    slot = outbox.reserve(state, identity)
    assert slot is not None
    if outcome is not None:
        assert slot.write(outcome)
    slot.close()
    return slot.path


def _replay(store: SQLiteStore, state: Path, alive: bool = False) -> outbox.ReplayReport:
    return outbox.replay(store, state, half_life_s=H, machine="box", alive=lambda p, t: alive)


def test_a_kept_outcome_finishes_its_running_session(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "rota.db")
    ident = _started(store)
    path = _keep(tmp_path, ident)
    report = _replay(store, tmp_path)
    assert report.recorded == [ident["id"]] and not path.exists()
    rec = store.get_session(ident["id"])
    assert rec is not None and rec.status == "completed" and rec.reward == 0.75
    assert store.evidence()[("code", "agent:m1")].n == 1
    assert [b.scope for b in store.active_blocks(1_796_000_200.0)] == ["agent"]
    assert _replay(store, tmp_path).recorded == []  # once


def test_a_session_marked_abandoned_meanwhile_gets_its_real_outcome(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "rota.db")
    ident = _started(store)
    _keep(tmp_path, ident)
    assert store.mark_abandoned(ident["id"], 1_796_000_300.0, "process 4242 on box is gone")
    _replay(store, tmp_path)
    rec = store.get_session(ident["id"])
    assert rec is not None and rec.status == "completed" and "abandoned_reason" not in rec.detail


def test_a_session_the_store_lost_is_recorded_anew(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "new.db")  # the damaged database was replaced
    _keep(tmp_path, IDENTITY)
    report = _replay(store, tmp_path)
    assert len(report.recorded) == 1
    rec = store.get_session(report.recorded[0])
    assert (
        rec is not None and rec.status == "completed" and rec.started_at == IDENTITY["started_at"]
    )
    assert store.evidence()[("code", "agent:m1")].n == 1


def test_an_outcome_already_recorded_is_dropped(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "rota.db")
    ident = _started(store)
    store.finish_session(ident["id"], OUTCOME._replace(signals={}, detail={}), half_life_s=H)
    path = _keep(tmp_path, ident)
    report = _replay(store, tmp_path)
    assert report.recorded == [] and not path.exists()
    assert store.evidence()[("code", "agent:m1")].n == 1  # not counted twice


def test_a_live_process_records_its_own_outcome(tmp_path: Path) -> None:
    """Written ahead by a run that is about to record it: another run must not take it."""
    store = SQLiteStore(tmp_path / "rota.db")
    ident = _started(store)
    path = _keep(tmp_path, ident)
    assert _replay(store, tmp_path, alive=True).kept == [path.name] and path.exists()
    assert store.get_session(ident["id"]).status == "running"  # type: ignore[union-attr]


def test_a_reservation_without_outcome_is_kept_while_its_process_lives(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "rota.db")
    ident = _started(store)
    path = _keep(tmp_path, ident, outcome=None)
    assert _replay(store, tmp_path, alive=True).kept == [path.name] and path.exists()
    assert _replay(store, tmp_path, alive=False).dropped == [path.name] and not path.exists()
