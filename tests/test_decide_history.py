"""`rota select`/`rota run` learn from recent sessions in the store, not only the simulator.

Real SQLite stores: sessions recorded the way the runner records them (detail["limit"] for a
limit hit, detail["utilization"] for what the probe saw), then decide() as the CLI calls it.
"""

from __future__ import annotations

import json
from pathlib import Path

from rota.config import parse_config
from rota.quota.state import QuotaState
from rota.session.decide import decide, quota_states
from rota.session.outcome import probed_levels
from rota.store.base import SessionOutcome
from rota.store.sqlite import SQLiteStore

H = 3600.0
T = 1_800_000_000.0 - (1_800_000_000.0 % 86400.0)
HL = 14 * 86400.0

CFG = {
    "categories": ["code"],
    "harnesses": {
        "claude-code": {"models": {"opus": {"tier": "high", "cost": 5}}},
        "gptme": {"models": {"glm-5": {"tier": "low", "cost": 0.3}}},
    },
    "pools": {"claude-5h": {"harnesses": ["claude-code"]}},
}


def _record(store: SQLiteStore, arm: str, at: float, *, hit_reset: float | None = None) -> None:
    sid = store.start_session(
        category="code", arm=arm, started_at=at, decision_id=None, pid=1, machine="m", workspace="w"
    )
    if hit_reset is None:
        out = SessionOutcome(status="completed", ended_at=at + 300, reward=0.7)
    else:
        out = SessionOutcome(
            status="rate_limited",
            ended_at=at + 30,
            detail={"limit": {"resets_at": hit_reset, "scopes": ["pool:claude-5h"]}},
        )
    store.finish_session(sid, out, half_life_s=HL)


def test_decide_learns_an_unseen_pools_capacity_from_stored_hits(tmp_path: Path) -> None:
    cfg = parse_config(CFG)
    store = SQLiteStore(tmp_path / "rota.db")
    # Two 5-hour windows, each refusing opus after 3 sessions; then 3 sessions in a third window.
    for w in range(3):
        start = T + w * 5 * H
        for i in range(3):
            _record(store, "claude-code:opus", start + i * 600)
        if w < 2:
            _record(store, "claude-code:opus", start + 1800, hit_reset=start + 5 * H)
    now = T + 10 * H + 1900
    d = decide(cfg, store, category="code", now=now, seed=1, states=[])
    opus = next(c for c in d.candidates if c.arm == "claude-code:opus")
    assert not opus.eligible and "learned" in opus.reason
    assert opus.until == T + 15 * H
    assert d.arm == "gptme:glm-5"
    # Without history (older than the lookback), nothing is learnt: the hits are 40 days old.
    later = now + 40 * 86400.0
    d2 = decide(cfg, store, category="code", now=later, seed=1, states=[])
    assert next(c for c in d2.candidates if c.arm == "claude-code:opus").eligible


def test_session_history_is_bounded_and_lean(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "rota.db")
    for i in range(30):
        _record(store, "gptme:glm-5", T + i * 600)
    _record(store, "claude-code:opus", T + 40 * 600, hit_reset=T + 5 * H)
    got = store.recent_uses(T + 10 * 600, 15)
    assert len(got) == 15 and got[0].at > got[-1].at  # newest first, capped
    assert all(u.at >= T + 10 * 600 for u in got)
    assert got[0].limited and got[0].resets_at == T + 5 * H
    assert got[0].blocked == ("pool:claude-5h",) and got[0].arm == "claude-code:opus"
    assert not got[1].limited and got[1].arm == "gptme:glm-5"


def test_recorded_levels_are_read_for_the_newest_sessions_only(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "rota.db")
    for i in range(5):
        sid = store.start_session(
            category="code",
            arm="gptme:glm-5",
            started_at=T + i * 600,
            decision_id=None,
            pid=1,
            machine="m",
            workspace="w",
            detail={"levels": [["harness", "gptme", "", i / 10, None]]},
        )
        store.finish_session(
            sid, SessionOutcome(status="completed", ended_at=T + i * 600 + 60), half_life_s=HL
        )
    lean = store.recent_uses(T, 10)
    assert len(lean) == 5 and all(u.levels == () for u in lean)
    got = store.recent_uses(T, 10, 2)
    assert [u.levels for u in got[:3]] == [
        (("harness", "gptme", "", 0.4, None),),
        (("harness", "gptme", "", 0.3, None),),
        (),
    ]


def test_runner_records_what_the_probe_saw_for_the_arms_pools(tmp_path: Path) -> None:
    qfile = tmp_path / "quota.json"
    qfile.write_text(
        json.dumps(
            [
                {"scope": "pool:claude-5h", "utilization": 0.875, "window": "5h"},
                {"scope": "harness:gptme", "utilization": 0.1},
            ]
        )
    )
    cfg = parse_config({**CFG, "quota": {"file": str(qfile)}})
    store = SQLiteStore(tmp_path / "rota.db")
    states = quota_states(cfg, store, T)  # what the decision saw, recorded with the session
    opus = probed_levels(cfg, states, "claude-code:opus")
    assert opus["utilization"] == {"claude-5h": 0.875}
    # Every probed level, for the next session to measure what this one used.
    assert sorted(opus["levels"]) == [
        ["harness", "gptme", "", 0.1, None],
        ["pool", "claude-5h", "5h", 0.875, None],
    ]
    glm = probed_levels(cfg, states, "gptme:glm-5")
    assert "utilization" not in glm and len(glm["levels"]) == 2  # no pool of glm's was probed


def test_decide_keeps_out_an_arm_the_probed_pool_has_no_room_for(tmp_path: Path) -> None:
    """Sessions recorded with the levels the runner stores: opus was seen to use a quarter of the
    5-hour pool; at 80% used it is kept out before any refusal, and sonnet-sized glm is not."""
    cfg = parse_config(CFG)
    store = SQLiteStore(tmp_path / "rota.db")
    reset = T + 5 * H
    for i, (arm, level) in enumerate([("claude-code:opus", 0.0), ("gptme:glm-5", 0.25)]):
        sid = store.start_session(
            category="code",
            arm=arm,
            started_at=T + i * 1800,
            decision_id=None,
            pid=1,
            machine="m",
            workspace="w",
            detail={"levels": [["pool", "claude-5h", "5h", level, reset]]},
        )
        store.finish_session(
            sid,
            SessionOutcome(status="completed", ended_at=T + i * 1800 + 60, reward=0.7),
            half_life_s=HL,
        )
    probe = QuotaState("pool", "claude-5h", "5h", True, 0.8, reset, source="api")
    d = decide(cfg, store, category="code", now=T + 2 * H, seed=1, states=[probe])
    opus = next(c for c in d.candidates if c.arm == "claude-code:opus")
    assert not opus.eligible and "needed at least 25%" in opus.reason
    low = QuotaState("pool", "claude-5h", "5h", True, 0.7, reset, source="api")
    d = decide(cfg, store, category="code", now=T + 2 * H, seed=1, states=[low])
    assert next(c for c in d.candidates if c.arm == "claude-code:opus").eligible
