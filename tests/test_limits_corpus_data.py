"""The limit corpus itself: well-formed, large enough, honest about its sources, no secrets, and
each entry turned into CLI output that still carries the message."""

from __future__ import annotations

import json
import re
from collections import Counter
from zoneinfo import ZoneInfo

import pytest

from limits_corpus import CHANNELS, HARNESSES, KINDS, ORIGINS, load, outputs, reset_ok

ENTRIES = load()
SECRET = re.compile(r"AIza[0-9A-Za-z_\-]{20,}|\bsk-[A-Za-z0-9]{20,}|\bghp_[A-Za-z0-9]{20,}")


def test_corpus_size_and_coverage() -> None:
    kinds = Counter(e.kind for e in ENTRIES)
    assert kinds["limit"] >= 60
    assert kinds["lookalike"] >= 20
    real = [e for e in ENTRIES if e.is_limit and e.origin == "issue"]
    assert len(real) >= 60, "at least 60 limits pasted by users in public trackers"
    for h in HARNESSES:
        assert any(e.harness == h and e.is_limit for e in ENTRIES), h
        assert any(e.harness == h and not e.is_limit for e in ENTRIES), h
    assert sum(e.reset is not None for e in ENTRIES) >= 40


def test_ids_unique() -> None:
    ids = Counter(e.id for e in ENTRIES)
    assert [i for i, n in ids.items() if n > 1] == []


@pytest.mark.parametrize("e", ENTRIES, ids=lambda e: e.id)
def test_entry_well_formed(e) -> None:
    assert e.harness in HARNESSES
    assert e.kind in KINDS
    assert e.channel in CHANNELS
    assert e.origin in ORIGINS
    assert e.text.strip()
    ZoneInfo(e.zone)  # raises for an unknown zone
    if e.origin == "issue":
        assert e.source.startswith("https://github.com/"), e.source
    answers = [e.reset, e.reset_implied, e.reset_max_days, e.reset_range_days]
    assert sum(a is not None for a in answers) <= 1
    if not e.is_limit:
        assert answers == [None] * 4, "a look-alike states no reset"
    for r in (e.reset, e.reset_implied):
        if r is not None:
            assert e.at < r <= e.at + 35 * 86400, "a reset after the message, within a month"
    assert not SECRET.search(e.text), "redact keys from pasted URLs"


@pytest.mark.parametrize("e", ENTRIES, ids=lambda e: e.id)
def test_outputs_carry_the_message(e) -> None:
    stdout, stderr, code = outputs(e)
    assert code == e.exit_code
    if e.channel == "rate-limit-event":
        events = [json.loads(x) for x in stdout.splitlines()]
        assert events[1]["rate_limit_info"] == json.loads(e.text)
        return
    if e.channel in ("result", "json-event"):
        found = json.dumps([json.loads(x) for x in stdout.splitlines()], ensure_ascii=False)
        assert json.dumps(e.text, ensure_ascii=False)[1:-1] in found
    elif e.channel == "stderr-json":
        assert json.loads(stderr)["error"]["message"] == e.text
    else:
        assert e.text in stdout + stderr


def test_reset_ok_is_strict() -> None:
    by_id = {e.id: e for e in ENTRIES}
    exact = by_id["claude-23772"]
    assert reset_ok(exact, exact.reset)
    assert not reset_ok(exact, None)
    assert not reset_ok(exact, exact.reset + 60)
    none = by_id["codex-2669"]
    assert reset_ok(none, None) and not reset_ok(none, none.at + 5 * 3600)
    capped = by_id["codex-absurd-duration"]
    assert reset_ok(capped, None) and reset_ok(capped, capped.at + 86400)
    assert not reset_ok(capped, capped.at + 9 * 86400)
