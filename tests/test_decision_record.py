"""The stored decision and session records: compact in the store, the same when read back."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

from conftest import RotaEnv
from rota.config import parse_config
from rota.learning import step
from rota.learning.decision import decision_from_record
from rota.learning.policy import SelectionInput, select
from rota.quota.state import Block, QuotaState
from rota.store.base import compact_detail, full_detail
from rota.store.sqlite import SQLiteStore

T = 1_767_225_600.0
CFG = parse_config(
    {
        "categories": ["code", "triage"],
        "harnesses": {
            "claude-code": {"models": {"opus": {"tier": "high", "cost": 5}, "sonnet": {}}},
            "codex": {"models": {"gpt-5.4": {"tier": "medium", "cost": 1}}},
            "gptme": {"models": {"glm-5": {"tier": "low", "cost": 0.3}}},
        },
        "rules": {"triage": {"max_tier": "low", "prefer_cheapest": True}},
    }
)


def decision(category: str = "code"):  # type: ignore[no-untyped-def]
    rows, _ = step.rebuild(
        [("code", "codex:gpt-5.4", 0.7, T - 3600 + i) for i in range(10)]
        + [("code", "claude-code:sonnet", 0.6, T - 3600 + i) for i in range(10)],
        CFG.bandit.half_life_s,
    )
    inputs = SelectionInput(
        config=CFG,
        category=category,
        now=T,
        evidence=rows,
        quota_states=[
            QuotaState("harness", "gptme", "5h", False, 1.0, T + 7200, "api", "limit reached")
        ],
        blocks=[Block("arm", "claude-code:opus", T + 3600, "usage limit reached", "limit", T)],
        changed={("code", "codex:gpt-5.4"): T - 600},
    )
    return select(inputs, random.Random(4))


def test_a_decision_reads_back_as_it_was_made() -> None:
    for category in ("code", "triage"):
        live = decision(category)
        back = decision_from_record(json.loads(json.dumps(live.to_record())), CFG)
        assert (back.arm, back.category, back.why, back.earliest_reset) == (
            live.arm, live.category, live.why, live.earliest_reset,
        )  # fmt: skip
        for a, b in zip(live.candidates, back.candidates, strict=True):
            assert (a.arm, a.tier, a.cost, a.eligible, a.n, a.until) == (
                b.arm, b.tier, b.cost, b.eligible, b.n, b.until,
            )  # fmt: skip
            assert abs((a.mean or 0) - (b.mean or 0)) < 1e-3
            assert abs((a.score or 0) - (b.score or 0)) < 2e-3
            # The reason without a live decision's free text (the block's own message).
            assert a.reason.startswith(b.reason)
        reasons = {c.arm: c.reason for c in back.candidates}
        assert reasons["claude-code:opus"].startswith("blocked (arm claude-code:opus) until ")
        assert reasons["gptme:glm-5"].startswith("exhausted (harness gptme 5h, api) until ")
        gpt = next(c for c in back.candidates if c.arm == "codex:gpt-5.4")
        assert any("cost" in n for n in gpt.notes) == gpt.eligible
        # The change was found in code's row: code's decision says so, triage's does not.
        assert any("shifted" in n for n in gpt.notes) == (category == "code")
    live = decision("triage")  # nothing left: gptme is exhausted, the rest above max_tier
    back = decision_from_record(live.to_record(), CFG)
    assert back.arm is None and back.why.startswith("no eligible arm: earliest reset ")
    assert "tier medium is above max_tier low (rules.triage)" in {c.reason for c in back.candidates}


def test_the_stored_record_is_a_quarter_of_the_json() -> None:
    live = decision()
    full = len(json.dumps(live.to_dict(), separators=(",", ":")))
    compact = len(json.dumps(live.to_record(), separators=(",", ":")))
    assert compact * 3 < full


def test_the_store_keeps_the_record_and_gives_it_back(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "rota.db")
    live = decision()
    store.record_decision(live.to_record(), workspace="m:/w", machine="m")
    stored = store.last_decision("m:/w")
    assert stored is not None and stored["arm"] == live.arm
    assert decision_from_record(stored, CFG).why == live.why
    assert store.last_decision("elsewhere") is None
    # A decision stored whole (before the compact record) still reads.
    store.record_decision(live.to_dict(), workspace="m:/w", machine="m")
    old = decision_from_record(store.last_decision("m:/w") or {}, CFG)
    assert old.why == live.why and len(old.candidates) == len(live.candidates)


def test_session_detail_round_trips() -> None:
    arm, ws, log = "claude-code:opus", "box:/home/u/work", "/s/logs/2026-1-claude-code_opus.log"
    detail = {
        "executable": "claude",
        "harness": "claude-code",
        "model": "opus",
        "prompt_file": "/s/logs/2026-1-claude-code_opus.prompt.md",
        "workspace_path": "/home/u/work",
        "timeout_s": 3600.0,
    }
    kept = compact_detail(detail, arm, ws, log)
    assert kept == {"executable": "claude", "timeout_s": 3600.0}
    assert full_detail(kept, arm, ws, log) == detail
    moved = {**detail, "prompt_file": "/elsewhere/p.md"}  # not beside the log: kept
    assert full_detail(compact_detail(moved, arm, ws, log), arm, ws, log) == moved


def test_status_shows_the_last_decision(tmp_path: Path) -> None:
    env = RotaEnv(tmp_path)
    env.write_config()
    store = SQLiteStore(env.state / "rota.db")
    live = decision()
    record = live.to_record()
    record["decided_at"] = time.time() - 60
    import socket

    store.record_decision(record, workspace=f"{socket.gethostname()}:{env.workspace}", machine="m")
    store.close()
    proc = env.run("status")
    assert proc.returncode == 0, proc.stderr
    assert "last decision" in proc.stdout and live.arm in proc.stdout.split("last decision")[1]


def test_a_damaged_record_reads_as_far_as_it_can() -> None:
    live = decision().to_record()
    damaged = {**live, "c": [*live["c"][:1], 7, ["x"], None]}  # type: ignore[misc]
    d = decision_from_record(damaged, CFG)
    assert [c.arm for c in d.candidates] == [live["c"][0][0]]  # type: ignore[index]
    for junk in ({"v": 2, "c": 5}, {"v": 2, "why": 3}, {"candidates": [{"mean": "x"}]}, [1, 2]):
        got = decision_from_record(junk, CFG)  # type: ignore[arg-type]
        assert got.candidates == [] and isinstance(got.why, str)
