"""The Claude log reader on par with ccusage, on a real-shaped projects tree (tests/claude_tree.py:
20 h of continuous work, sidechain lines, subagents/*.jsonl, a 42 MB session file, a reply at
exactly a block's start + 5 h), and its incremental cache.

The truth is what the tree says it wrote (reference_blocks: ccusage's block rule); the
side-by-side test also runs ccusage itself on the same tree (skipped, saying so, without it)."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import rota.harnesses.claude_logs as claude_logs
from ccusage_support import blocks as ccusage_blocks
from ccusage_support import ccusage, parse_time, reference_blocks
from claude_tree import Tree, generate, snapshot_at
from rota.harnesses.base import ProbeContext
from rota.harnesses.claude_logs import scan_logs

START = datetime(2026, 11, 29, 6, 17, 23, tzinfo=UTC)


def ctx(config_dir: Path, home: Path) -> ProbeContext:
    env = {"CLAUDE_CONFIG_DIR": str(config_dir), "HOME": str(home)}
    return ProbeContext(home=home, env=env, now=0.0, cache_dir=home / "cache")


def rota_blocks(s: claude_logs.LogSummary) -> list[tuple[datetime, int, int]]:
    return [(datetime.fromtimestamp(b.start, UTC), b.tokens, b.entries) for b in s.blocks]


def truth(tree: Tree, upto: datetime | None = None) -> list[tuple[datetime, int, int]]:
    return reference_blocks([(u.at, u.tokens) for u in tree.entries if upto is None or u.at <= upto])


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Tree:
    return generate(tmp_path_factory.mktemp("claude"), start=START, hours=20.0, big_mb=40.0)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Tree:
    """The same work with a 2 MB big file, for the tests that copy the tree many times."""
    return generate(tmp_path_factory.mktemp("claude"), start=START, hours=20.0, big_mb=2.0)


def test_every_block_and_total_as_the_tree_holds_them(tree: Tree, tmp_path: Path) -> None:
    end = tree.entries[-1].at
    s = scan_logs(ctx(tree.root, tmp_path), end.timestamp() + 1)
    assert rota_blocks(s) == truth(tree)
    # Subagents count (in-file sidechains and subagents/*.jsonl), and all of the 42 MB file.
    assert sum(b.tokens for b in s.blocks) == tree.tokens()
    assert tree.tokens(("sidechain",)) > 0 and tree.tokens(("subagent",)) > 0
    big = sum(u.tokens for u in tree.entries if u.path == tree.big_file)
    assert big > 0 and tree.big_file is not None and tree.big_file.stat().st_size > 40 << 20
    # The reply at exactly the first block's start + 5 h is that block's last entry.
    first = s.blocks[0]
    assert first.end == first.last == tree.boundary_entry.timestamp()
    assert s.blocks[1].start == first.end


@pytest.mark.slow
def test_side_by_side_with_ccusage(tree: Tree, tmp_path: Path) -> None:
    exe = ccusage()
    theirs = ccusage_blocks(tree.root, exe)
    s = scan_logs(ctx(tree.root, tmp_path), tree.entries[-1].at.timestamp() + 1)
    ours = s.blocks
    assert len(ours) == len(theirs)
    for b, c in zip(ours, theirs, strict=True):
        assert b.start == parse_time(c["startTime"]).timestamp()
        assert b.end == parse_time(c["endTime"]).timestamp()
        assert b.last == parse_time(c["actualEndTime"]).timestamp()
        assert (b.tokens, b.entries) == (c["totalTokens"], c["entries"])


def test_incremental_reading_as_the_tree_grows(small: Tree, tmp_path: Path) -> None:
    """Probed every 40 minutes while the work goes on: each probe reads only what was appended,
    and the current block is always the truth's, across 20 h of continuous work."""
    live = tmp_path / "live"
    c = ctx(live, tmp_path)
    at = START + timedelta(minutes=10)
    stop = small.entries[-1].at + timedelta(minutes=40)
    read = 0
    while at <= stop:
        snapshot_at(small, live, at)
        s = scan_logs(c, at.timestamp())
        read += s.bytes_read
        want = truth(small, at)
        assert rota_blocks(s) == want, at
        cur = want[-1]
        if cur[0].timestamp() <= at.timestamp() < cur[0].timestamp() + 5 * 3600:
            assert (s.block_start, s.tokens) == (cur[0].timestamp(), cur[1])
        else:
            assert s.block_start is None and s.tokens == 0
        again = scan_logs(c, at.timestamp())
        assert again.bytes_read == 0 and rota_blocks(again) == want
        at += timedelta(minutes=40)
    # Every byte read once, none twice.
    assert read == sum(p.stat().st_size for p in live.rglob("*.jsonl"))


def test_blocks_stay_aligned_when_old_entries_are_dropped(small: Tree, tmp_path: Path) -> None:
    """With a lookback far shorter than the work (6 h of 20), a cold read starts its first block
    at the first entry it sees; the cache remembers where the kept blocks start instead."""
    live = tmp_path / "live"
    c = ctx(live, tmp_path)
    at = START + timedelta(minutes=30)
    end = small.entries[-1].at
    while True:
        snapshot_at(small, live, at)
        s = scan_logs(c, at.timestamp(), lookback_hours=6)
        if at + timedelta(hours=1) > end:
            break
        at += timedelta(hours=1)
    # Only the blocks of the last 6 h (and the one they began in) are remembered; each is exact.
    got = rota_blocks(s)
    assert got and got == truth(small, at)[-len(got) :]
    assert got[0][0] < at - timedelta(hours=6) < datetime.fromtimestamp(s.blocks[0].last, UTC)
    # Without the cache, the same lookback misaligns (the "shifted by 1 h").
    cold = scan_logs(ctx(live, tmp_path / "cold"), at.timestamp(), 6)
    assert rota_blocks(cold) != got
    assert rota_blocks(cold)[0][0] not in [b[0] for b in truth(small)]


def test_the_cache_is_owner_only_and_a_damaged_one_is_rebuilt(tree: Tree, tmp_path: Path) -> None:
    c = ctx(tree.root, tmp_path)
    now = tree.entries[-1].at.timestamp() + 1
    first = scan_logs(c, now)
    (cache,) = (tmp_path / "cache").iterdir()
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.parent.stat().st_mode) == 0o700
    for damage in (b"", b"{nope", b"[]", b'{"version": 1}', json.dumps({"version": 99}).encode()):
        cache.write_bytes(damage)
        again = scan_logs(c, now)
        assert rota_blocks(again) == rota_blocks(first) and again.bytes_read > 0
    # No cache dir can be made: the answer is the same, read in full each time.
    blocked = tmp_path / "file"
    blocked.write_text("")
    c2 = ProbeContext(home=tmp_path, env=c.env, now=0.0, cache_dir=blocked / "cache")
    assert rota_blocks(scan_logs(c2, now)) == rota_blocks(first)


def _line(at: str, mid: str, n: int, **extra: object) -> str:
    obj = {
        "type": "assistant",
        "timestamp": at,
        "requestId": "req_" + mid,
        "message": {"id": mid, "model": "claude-opus-4-7", "usage": {"output_tokens": n}},
        **extra,
    }
    return json.dumps(obj) + "\n"


def test_torn_lines_replaced_files_and_huge_lines(tmp_path: Path, monkeypatch) -> None:
    root = tmp_path / "claude"
    proj = root / "projects" / "p"
    (proj / "s1" / "subagents").mkdir(parents=True)
    log = proj / "s1.jsonl"
    c = ctx(root, tmp_path)
    now = datetime(2026, 11, 29, 12, tzinfo=UTC).timestamp()
    whole = _line("2026-11-29T10:00:00Z", "a", 1)
    nxt = _line("2026-11-29T10:05:00Z", "b", 2)
    log.write_text(whole + nxt[:30])  # the second line is being written
    assert scan_logs(c, now).tokens == 1
    with open(log, "a") as f:
        f.write(nxt[30:])
    s = scan_logs(c, now)
    assert s.tokens == 3 and s.bytes_read == len(nxt)
    # A subagent log counts; a line longer than MAX_LINE is skipped, the next one read.
    monkeypatch.setattr(claude_logs, "MAX_LINE", 200)
    (proj / "s1" / "subagents" / "agent-1.jsonl").write_text(
        _line("2026-11-29T10:06:00Z", "c", 4, pad="x" * 500) + _line("2026-11-29T10:07:00Z", "d", 8)
    )
    assert scan_logs(c, now).tokens == 3 + 8
    # The session file replaced by a rewrite (a new inode): read again, each reply counted once.
    tmp = proj / "s1.jsonl.new"
    tmp.write_text(whole + nxt + _line("2026-11-29T10:09:00Z", "e", 16))
    os.replace(tmp, log)
    assert scan_logs(c, now).tokens == 3 + 8 + 16
    # Cut shorter than what was read: read again from the start, nothing lost or doubled.
    log.write_text(whole)
    assert scan_logs(c, now).tokens == 3 + 8 + 16
