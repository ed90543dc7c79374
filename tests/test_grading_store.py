"""What grading needs from the stores, on SQLite and PostgreSQL alike: the measured cost read in
SQL, a regrade that also replaces the grade's signals, and signals updated without a regrade."""

from __future__ import annotations

from pathlib import Path

import pytest

from rota.learning import step
from rota.store.base import SessionOutcome
from rota.store.postgres import PostgresStore
from rota.store.sqlite import SQLiteStore

HL = 14 * 86400.0


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "sqlite":
        s = SQLiteStore(tmp_path / "rota.db")
    else:
        s = PostgresStore(request.getfixturevalue("pg_url"))
    yield s
    s.close()


def session(s, arm: str, at: float, *, category="code", status="completed", reward=0.5, cost=None):
    sid = s.start_session(
        category=category,
        arm=arm,
        started_at=at,
        decision_id=None,
        pid=1,
        machine="m",
        workspace=f"w{at}",
        detail={},
    )
    detail = {"cost": cost} if cost is not None else {}
    s.finish_session(
        sid,
        SessionOutcome(
            status=status,
            ended_at=at + 1,
            reward=reward,
            signals={"grade": {"reward": reward}},
            detail=detail,
        ),
        half_life_s=HL,
    )
    return sid


def test_measured_costs_are_read_in_sql(store) -> None:
    session(store, "claude-code:opus", 100.0, cost={"usd": 1.25, "tokens": 5000, "source": "x"})
    session(store, "codex:gpt-5.4", 101.0, cost={"tokens": 800, "source": "y"})
    session(store, "codex:gpt-5.4", 102.0)  # reported nothing
    session(store, "claude-code:haiku", 103.0, category="judge", reward=None, cost={"usd": 0.01})
    session(store, "claude-code:opus", 104.0, status="rate_limited", reward=None, cost={"usd": 9.0})
    session(store, "claude-code:opus", 10.0, cost={"usd": 7.0})  # too old
    got = store.measured_costs(50.0, 100)
    assert got == [
        ("codex:gpt-5.4", None, None),
        ("codex:gpt-5.4", None, 800.0),
        ("claude-code:opus", 1.25, 5000.0),
    ]
    assert len(store.measured_costs(50.0, 2)) == 2


def test_a_regrade_replaces_its_signals_and_equals_a_rebuild(store) -> None:
    a = session(store, "codex:gpt-5.4", 100.0, reward=0.8)
    session(store, "codex:gpt-5.4", 200.0, reward=0.6)
    rec = store.set_grade(
        a,
        0.3,
        now=500.0,
        half_life_s=HL,
        source="followup",
        signals={"grade": {"reward": 0.3}, "followup": {"reverted": 1}},
    )
    assert rec.reward == 0.3 and rec.signals["grade"] == {"reward": 0.3}
    assert rec.signals["followup"] == {"reverted": 1}
    assert rec.signals["grade_history"][-1] == {
        "reward": 0.3,
        "previous": 0.8,
        "at": 500.0,
        "source": "followup",
    }
    rebuilt = step.rebuild(store.graded_observations(), HL)[0]
    rows = store.evidence()
    for key, ev in rebuilt.items():
        assert (rows[key].n, rows[key].t) == (ev.n, ev.t)
        assert (rows[key].s, rows[key].f, rows[key].sum_r) == pytest.approx((ev.s, ev.f, ev.sum_r))
    store.update_signals(a, {"followup": {"reverted": 1, "checked_at": 600.0}})
    again = store.get_session(a)
    assert again.reward == 0.3 and again.signals["followup"]["checked_at"] == 600.0
    assert store.evidence() == rows  # signals only: the posterior is untouched
    with pytest.raises(KeyError):
        store.update_signals(999, {"x": 1})
