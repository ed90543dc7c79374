"""The stored decision and session records: compact in the store, the same when read back."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

from conftest import RotaEnv
from rota.config import parse_config
from rota.learning import step
from rota.learning.decision import decision_from_record
from rota.learning.policy import SelectionInput, select
from rota.quota.state import Block, QuotaState
from rota.store.base import SessionOutcome, compact_detail, full_detail
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


def graded_detail() -> dict[str, Any]:
    """A graded session's detail as rota.session.grading makes it (to_dict of each summary)."""
    from rota.trajectory.record import Command, SuiteRun, Trajectory, Usage, WorkspaceSummary

    traj = Trajectory(source="claude-code stream-json", turns=14, verdict=True, model="sonnet")
    traj.tool("Bash", True)
    traj.tool("Edit", False)
    traj.command(Command("Bash", "pytest -q", ok=True, exit_code=0, output="3 passed"))
    traj.add_usage(Usage(input_tokens=61, output_tokens=210))
    traj.cost_usd = 0.0  # a real value that equals no default: kept
    traj.messages = 0  # 0 where the default is None: kept
    ws = WorkspaceSummary(commits=1, commit_shas=["c12a3fa"], lines_added=1, lines_removed=0)
    ws.tests_after = SuiteRun(passed=True, tests_passed=3)
    return {"executable": "claude", "trajectory": traj.to_dict(), "workspace": ws.to_dict()}


def test_graded_summaries_are_stored_without_their_defaults(tmp_path: Path) -> None:
    """The trajectory and workspace summaries lose their default fields in the store and get
    them back, in the store's key order, on every read (and a summary stored whole reads as it
    was); what is not a default (0 for None, 0.0) is kept."""
    arm, ws, log = "claude-code:sonnet", "box:/w", "/s/logs/1-claude-code_sonnet.log"
    detail = graded_detail()
    kept = compact_detail(detail, arm, ws, log)
    traj, work = kept["trajectory"], kept["workspace"]
    assert "prs" not in traj and "notes" not in traj and "turn_limit" not in traj
    assert traj["source"] == "claude-code stream-json"
    assert traj["cost_usd"] == 0.0 and traj["messages"] == 0 and traj["tool_errors"] == 1
    assert "pushed_refs" not in work and "tests_before" not in work and work["git"] is True
    as_stored = json.loads(json.dumps(detail, sort_keys=True))  # what a whole one reads back as
    back = full_detail(json.loads(json.dumps(kept, sort_keys=True)), arm, ws, log)
    for key in ("trajectory", "workspace"):
        assert list(back[key].items()) == list(as_stored[key].items())
        assert full_detail(as_stored, arm, ws, log)[key] == as_stored[key]

    store = SQLiteStore(tmp_path / "rota.db")
    sid = store.start_session(
        category="code",
        arm=arm,
        started_at=T,
        decision_id=None,
        pid=1,
        machine="box",
        workspace=ws,
        log_path=log,
        detail={"executable": "claude"},
    )
    store.finish_session(
        sid,
        SessionOutcome(status="completed", ended_at=T + 60, exit_code=0, reward=0.5, detail=detail),
        half_life_s=86400.0,
    )
    raw = store.conn.execute("SELECT detail FROM sessions WHERE id = ?", (sid,)).fetchone()[0]
    assert '"prs"' not in raw and len(raw) < len(json.dumps(detail))
    rec = store.get_session(sid)
    assert rec is not None
    assert rec.detail["trajectory"] == as_stored["trajectory"]
    assert rec.detail["workspace"] == as_stored["workspace"]
    # An empty summary list in one session is not shared with another's.
    rec.detail["trajectory"]["prs"].append("x")
    again = store.get_session(sid)
    assert again is not None and again.detail["trajectory"]["prs"] == []
    store.close()


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
