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
