"""Codex rollouts as codex-rs writes them across versions (tests/fixtures/codex/variants): each
variant parses to the windows its expected.json names, labelled by their length, the per-model
limits on the arms of their model, plan and credits kept; forked sessions' replayed snapshots never
win over the live reading."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import codex_variants
from rota.harnesses import get_profile
from rota.harnesses.base import ProbeContext
from rota.harnesses.codex_rollouts import read_rollouts, window_label

MODELS = ("gpt-5.4", "gpt-5.3-codex-spark")


def probe(home: Path, now: float):
    ctx = ProbeContext(
        home=home.parent, env={"CODEX_HOME": str(home)}, now=now, harness="codex", models=MODELS
    )
    return get_profile("codex").probe(ctx)


@pytest.mark.parametrize("name", codex_variants.names())
def test_variant_parses_to_the_expected_windows(name: str, tmp_path: Path) -> None:
    exp = codex_variants.expected(name)
    home = codex_variants.install(name, tmp_path)
    states = probe(home, codex_variants.epoch(exp["now"]))
    want = {}
    for window, w in exp["harness_windows"].items():
        want[("harness", "codex", window)] = w
    for model, windows in exp["model_windows"].items():
        for window, w in windows.items():
            want[("arm", f"codex:{model}", window)] = w
    got = {(s.scope_kind, s.scope, s.window): s for s in states}
    assert set(got) == set(want)
    for key, w in want.items():
        s = got[key]
        assert s.utilization == pytest.approx(w["used_percent"] / 100.0), key
        assert s.resets_at == codex_variants.epoch(w["resets_at"]), key
        assert s.window_minutes == w["window_minutes"], key
        assert s.available == (w["used_percent"] < 100.0), key
        if exp.get("plan_type"):
            assert f"plan {exp['plan_type']}" in s.reason
        if exp.get("credits"):
            assert f"credits {exp['credits']['balance']}" in s.reason


@pytest.mark.parametrize(
    ("minutes", "slot", "label"),
    [
        (299, "primary", "five_hour"),
        (300, "secondary", "five_hour"),
        (10079, "secondary", "seven_day"),
        (10080, "primary", "seven_day"),
        (43800, "primary", "monthly"),
        (1440, "primary", "daily"),
        (None, "primary", "five_hour"),
        (None, "secondary", "seven_day"),
        (0, "secondary", "seven_day"),
        (100000, "primary", "100000_minutes"),
    ],
)
def test_windows_are_named_by_length(minutes, slot, label) -> None:
    assert window_label(minutes, slot) == label


def _line(at: str, typ: str, payload: dict) -> str:
    return json.dumps({"timestamp": at, "type": typ, "payload": payload}) + "\n"


def _snapshot(at: str, used: float, resets_at: int) -> str:
    rl = {
        "limit_id": "codex",
        "primary": {"used_percent": used, "window_minutes": 300, "resets_at": resets_at},
        "secondary": None,
    }
    return _line(at, "event_msg", {"type": "token_count", "info": None, "rate_limits": rl})


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    last = json.loads(text.splitlines()[-1])["timestamp"]
    t = codex_variants.epoch(last)
    os.utime(path, (t, t))


def test_a_fork_replay_with_a_future_reset_does_not_win(tmp_path: Path) -> None:
    """The fork's replay is stamped after the live reading and its reset has not passed yet: the
    replay rule (lines written with the fork's session_meta) leaves it out; the fork's own later
    reading does count."""
    home = tmp_path / "codex"
    day = home / "sessions" / "2026" / "11" / "27"
    reset = int(codex_variants.epoch("2026-11-27T21:00:00Z"))
    _write(
        day / "rollout-2026-11-27T17-40-00-live.jsonl",
        _line("2026-11-27T17:40:00.000Z", "session_meta", {"id": "live"})
        + _snapshot("2026-11-27T17:55:00.000Z", 92.0, reset),
    )
    fork = day / "rollout-2026-11-27T18-10-00-fork.jsonl"
    meta = {"id": "fork", "forked_from_id": "parent"}
    replay = _line("2026-11-27T18:10:00.000Z", "session_meta", meta) + _snapshot(
        "2026-11-27T18:10:00.400Z", 30.0, reset
    )
    _write(fork, replay)
    assert read_rollouts(home).limits["codex"].windows[0].used == 0.92
    _write(fork, replay + _snapshot("2026-11-27T18:20:00.000Z", 95.0, reset))
    assert read_rollouts(home).limits["codex"].windows[0].used == 0.95


def test_a_credits_only_snapshot_erases_no_window(tmp_path: Path) -> None:
    home = tmp_path / "codex"
    reset = int(codex_variants.epoch("2026-11-27T21:00:00Z"))
    empty = {
        "limit_id": "codex",
        "primary": None,
        "secondary": None,
        "plan_type": "pro",
        "credits": {"has_credits": False, "unlimited": False, "balance": "0"},
    }
    _write(
        home / "sessions" / "2026" / "11" / "27" / "rollout-x.jsonl",
        _snapshot("2026-11-27T17:55:00.000Z", 50.0, reset)
        + _line(
            "2026-11-27T17:56:00.000Z",
            "event_msg",
            {"type": "token_count", "info": None, "rate_limits": empty},
        ),
    )
    (s,) = probe(home, codex_variants.epoch("2026-11-27T18:00:00Z"))
    assert (s.window, s.utilization) == ("five_hour", 0.5)
    assert "plan pro" in s.reason and "no credits" in s.reason
