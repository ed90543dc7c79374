"""The generated Claude projects tree (tests/claude_tree.py) is what Claude Code writes: ccusage
reads it to the same totals and blocks as the tree says it holds."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from ccusage_support import blocks, ccusage, parse_time, reference_blocks
from claude_tree import generate

START = datetime(2026, 11, 29, 6, 17, 23, tzinfo=UTC)


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("claude"), start=START, hours=20.0, big_mb=40.0)


def test_tree_shape(tree) -> None:
    assert tree.big_file is not None and tree.big_file.stat().st_size > 40 * 1024 * 1024
    kinds = {u.kind for u in tree.entries}
    assert kinds == {"main", "sidechain", "subagent", "synthetic"}
    assert any("subagents" in f.parts for f in tree.files)
    # Continuous: no gap of 5 h anywhere, 20 h end to end.
    stamps = [u.at for u in tree.entries]
    assert max(b - a for a, b in zip(stamps, stamps[1:], strict=False)) < timedelta(hours=1)
    assert stamps[-1] - stamps[0] >= timedelta(hours=19, minutes=55)
    assert tree.boundary_entry in stamps
    # Usage spread through the big file: some of it in the first 8 MB.
    with open(tree.big_file, "rb") as f:
        head = f.read(8 * 1024 * 1024).decode("utf-8", "replace")
    assert head.count('"usage":') >= 5
    # A reply split over several lines repeats its id: the tree counts it once.
    ids = []
    for path in tree.files:
        for line in path.read_text().splitlines():
            obj = json.loads(line)
            if obj.get("type") == "assistant":
                ids.append((obj["message"]["id"], obj.get("requestId")))
    assert len(set(ids)) < len(ids)
    assert len(set(ids)) == len(tree.entries)


@pytest.mark.slow
def test_ccusage_reads_the_tree_as_written(tree) -> None:
    exe = ccusage()
    got = blocks(tree.root, exe)
    want = reference_blocks([(u.at, u.tokens) for u in tree.entries])
    assert [(parse_time(b["startTime"]), b["totalTokens"], b["entries"]) for b in got] == want
    assert sum(b["totalTokens"] for b in got) == tree.tokens()
    # The reply at exactly the first block's start + 5 h is still in the first block.
    first_end = parse_time(got[0]["endTime"])
    assert first_end == tree.boundary_entry
    assert parse_time(got[0]["actualEndTime"]) == tree.boundary_entry
