"""`rota select`/`rota run` learn from recent sessions in the store, not only the simulator.

Real SQLite stores: sessions recorded the way the runner records them (detail["limit"] for a
limit hit, detail["utilization"] for what the probe saw), then decide() as the CLI calls it.
"""

from __future__ import annotations

import json
from pathlib import Path

from rota.config import parse_config
from rota.decide import decide
from rota.runner import pool_utilization
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
    assert not got[1].limited and got[1].reward == 0.7 and got[1].category == "code"


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
    assert pool_utilization(cfg, store, "claude-code:opus", T) == {"claude-5h": 0.875}
    assert pool_utilization(cfg, store, "gptme:glm-5", T) == {}
