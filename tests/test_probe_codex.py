"""Codex quota from rollout files: plain and zst, old and new rate_limits shapes, bounded reads."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import zstandard

from rota.harnesses import get_profile
from rota.harnesses.base import ProbeContext
from rota.harnesses.codex_rollouts import MAX_DAY_DIRS, read_rollouts
from rota.quota.state import QuotaState


def ts(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


NOW = ts(2026, 11, 27, 18, 0)  # after the newest fixture line (17:52:44), before its 22:10 reset


def probe(home: Path, now: float = NOW, env: dict[str, str] | None = None) -> dict[str, QuotaState]:
    ctx = ProbeContext(home=home, env=env or {}, now=now, harness="codex")
    return {s.window: s for s in get_profile("codex").probe(ctx)}


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


def token_line(at: float, primary: dict, secondary: dict | None = None) -> str:
    rl: dict = {"primary": primary}
    if secondary is not None:
        rl["secondary"] = secondary
    return json.dumps(
        {
            "timestamp": iso(at),
            "type": "event_msg",
            "payload": {"type": "token_count", "info": None, "rate_limits": rl},
        }
    )


def write(path: Path, lines: list[str], mtime: float, *, zst: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = ("\n".join(lines) + "\n").encode()
    if zst:
        data = zstandard.ZstdCompressor().compress(data)
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))
    return path


@pytest.fixture
def home(tmp_path: Path, fixtures_dir: Path) -> Path:
    h = tmp_path / "home"
    shutil.copytree(fixtures_dir / "codex" / "sessions", h / ".codex" / "sessions")
    # mtimes as the CLI would have left them: when each file was last written.
    for f, t in (
        (
            "2026/11/20/rollout-2026-11-20T09-00-00-0199a000-0000-7000-8000-000000000000.jsonl",
            ts(2026, 11, 20, 9, 5),
        ),
        (
            "2026/11/26/rollout-2026-11-26T22-10-00-0199a100-0000-7000-8000-000000000001.jsonl.zst",
            ts(2026, 11, 26, 22, 31),
        ),
        (
            "2026/11/27/rollout-2026-11-27T17-40-02-0199a1f2-6c3e-7d10-b2a4-5e8f9c0d1a2b.jsonl",
            ts(2026, 11, 27, 17, 52, 50),
        ),
    ):
        os.utime(h / ".codex" / "sessions" / f, (t, t))
    return h


def test_fixture_newest_line_wins(home: Path) -> None:
    s = probe(home)
    assert s["five_hour"].utilization == 0.58 and s["five_hour"].resets_at == 1795817400.0
    assert s["five_hour"].available is True and s["five_hour"].window_minutes == 300
    assert s["seven_day"].utilization == 0.74 and s["seven_day"].resets_at == 1796112000.0
    assert s["five_hour"].source == "logs" and "17:52" in s["five_hour"].reason


def test_window_whose_reset_passed_is_reset(home: Path) -> None:
    s = probe(home, now=1795817400.0 + 1)
    assert (s["five_hour"].available, s["five_hour"].utilization, s["five_hour"].resets_at) == (
        True,
        0.0,
        None,
    )
    assert "reset since" in s["five_hour"].reason
    assert s["seven_day"].utilization == 0.74  # the weekly window has not reset


def test_zst_file_is_read(home: Path) -> None:
    # Only the compressed fixture left: its 96% line is the newest there is.
    for f in (home / ".codex" / "sessions").rglob("*.jsonl"):
        f.unlink()
    s = probe(home, now=ts(2026, 11, 26, 22, 40))
    assert s["five_hour"].utilization == 0.96 and s["five_hour"].resets_at == 1795734000.0
    assert s["seven_day"].utilization == 0.65


def test_older_resets_in_seconds_is_relative_to_the_line(home: Path) -> None:
    for f in list((home / ".codex" / "sessions" / "2026" / "11").iterdir()):
        if f.name != "20":
            shutil.rmtree(f)
    line_at = ts(2026, 11, 20, 9, 5)
    s = probe(home, now=ts(2026, 11, 20, 10))
    assert s["five_hour"].resets_at == line_at + 9000 and s["five_hour"].utilization == 0.12
    assert s["seven_day"].resets_at == line_at + 400000


def test_newer_zst_and_archived_sessions(tmp_path: Path) -> None:
    home = tmp_path / "h"
    sess = home / ".codex" / "sessions" / "2026" / "11" / "27"
    write(
        sess / "rollout-a.jsonl",
        [
            token_line(
                NOW - 600, {"used_percent": 10, "window_minutes": 300, "resets_at": NOW + 3600}
            )
        ],
        NOW - 600,
    )
    write(
        home / ".codex" / "archived_sessions" / "rollout-b.jsonl.zst",
        [
            token_line(
                NOW - 60,
                {"used_percent": 100, "window_minutes": 300, "resets_at": NOW + 1800},
                {"used_percent": 50, "window_minutes": 10080, "resets_at": NOW + 86400},
            )
        ],
        NOW - 60,
        zst=True,
    )
    s = probe(home)
    assert s["five_hour"].available is False and s["five_hour"].utilization == 1.0
    assert s["five_hour"].resets_at == NOW + 1800
    # CODEX_HOME moves everything.
    other = tmp_path / "elsewhere"
    shutil.copytree(home / ".codex", other)
    shutil.rmtree(home / ".codex")
    assert probe(home, env={"CODEX_HOME": str(other)})["five_hour"].available is False


def test_truncated_and_corrupt_files(tmp_path: Path) -> None:
    home = tmp_path / "h"
    day = home / ".codex" / "sessions" / "2026" / "11" / "27"
    good = token_line(
        NOW - 300, {"used_percent": 20, "window_minutes": 300, "resets_at": NOW + 3600}
    )
    newer = token_line(
        NOW - 100, {"used_percent": 30, "window_minutes": 300, "resets_at": NOW + 3600}
    )
    # A zst file cut short (a crash mid-write): the blocks before the cut still count. zstd
    # decodes whole 128 KiB blocks, so the lines must come well before the cut.
    noise = "".join(
        json.dumps({"type": "agent_message", "n": i, "pad": "y" * 100}) + "\n" for i in range(4000)
    )
    raw = zstandard.ZstdCompressor().compress((good + "\n" + newer + "\n" + noise).encode())
    p = day / "rollout-cut.jsonl.zst"
    p.parent.mkdir(parents=True)
    p.write_bytes(raw[: len(raw) - 8])
    os.utime(p, (NOW - 100, NOW - 100))
    write(day / "rollout-garbage.jsonl.zst", ["not zstd at all"], NOW - 50)  # not compressed
    write(
        day / "rollout-torn.jsonl",
        [
            "{torn",
            '{"type":"event_msg","payload":{"type":"token_count","rate_limits":"nope"}}',
            newer[:50],
        ],
        NOW - 40,
    )
    (day / "rollout-dir.jsonl").mkdir()  # unreadable: a directory
    s = probe(home)
    assert s["five_hour"].utilization == 0.3
    assert s["five_hour"].available is True


def test_unknown_keys_and_missing_fields(tmp_path: Path) -> None:
    home = tmp_path / "h"
    day = home / ".codex" / "sessions" / "2026" / "11" / "27"
    line = json.dumps(
        {
            "timestamp": iso(NOW - 10),
            "type": "event_msg",
            "payload": {
                "type": "token_count",
                "rate_limits": {
                    "primary": {"used_percent": "lots"},
                    "secondary": None,
                    "tertiary": {"used_percent": 1},
                    "future": True,
                },
            },
        }
    )
    write(day / "rollout-x.jsonl", [line], NOW - 10)
    s = probe(home)
    assert s["five_hour"].available is None and s["five_hour"].utilization is None
    assert set(s) == {"five_hour"}
    write(
        day / "rollout-x.jsonl",
        [
            json.dumps(
                {
                    "timestamp": iso(NOW),
                    "type": "event_msg",
                    "payload": {"type": "token_count", "rate_limits": {}},
                }
            )
        ],
        NOW,
    )
    assert probe(home)["rollout"].available is None


def test_empty_and_missing_dirs(tmp_path: Path) -> None:
    home = tmp_path / "h"
    s = probe(home)
    assert s["rollout"].available is None and "no rate_limits" in s["rollout"].reason
    (home / ".codex" / "sessions" / "2026" / "11" / "27").mkdir(parents=True)
    assert probe(home)["rollout"].available is None


def test_reads_only_the_newest_files(tmp_path: Path) -> None:
    home = tmp_path / "h"
    root = home / ".codex" / "sessions" / "2026"
    # Sixty days of sessions, oldest first; only the newest few may be opened.
    for i in range(60):
        day = ts(2026, 9, 1) + i * 86400
        d = datetime.fromtimestamp(day, UTC)
        write(
            root / f"{d.month:02d}" / f"{d.day:02d}" / f"rollout-{i:03d}.jsonl",
            [token_line(day, {"used_percent": i, "window_minutes": 300, "resets_at": NOW + 3600})],
            day + 60,
        )
    r = read_rollouts(home / ".codex")
    assert r.limits["codex"].windows[0].used == 0.59
    assert r.files_read == 1  # the newest file had a line; older files cannot hold a newer one
    assert r.files_read <= MAX_DAY_DIRS


def test_a_long_session_in_an_older_day_dir_still_counts(tmp_path: Path) -> None:
    home = tmp_path / "h"
    root = home / ".codex" / "sessions" / "2026" / "11"
    # Started yesterday, still writing; today's file is older than its last line.
    write(
        root / "26" / "rollout-long.jsonl",
        [token_line(NOW - 10, {"used_percent": 90, "window_minutes": 300, "resets_at": NOW + 60})],
        NOW - 10,
    )
    write(
        root / "27" / "rollout-short.jsonl",
        [token_line(NOW - 3000, {"used_percent": 5, "window_minutes": 300, "resets_at": NOW + 60})],
        NOW - 3000,
    )
    assert probe(home)["five_hour"].utilization == 0.9
