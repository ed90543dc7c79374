"""Reading what the report shows from the store, once and bounded: the sessions of the period
(and of the 28 days before it, which selection's history needs), every graded observation (the
posterior at the period's start depends on all of them), the blocks, and the decisions behind the
sessions listed."""

from __future__ import annotations

from dataclasses import dataclass

from rota.config import Config
from rota.learning.decision import RECORD_VERSION, decision_from_record
from rota.quota.history import LEARN_LOOKBACK_S
from rota.quota.state import Block
from rota.store.base import SessionRecord, Store

MAX_SESSIONS = 200_000  # read at most this many (the newest); charts aggregate them
TABLE_ROWS = 200  # sessions listed, newest first, each with its decision


@dataclass(slots=True)
class History:
    config: Config
    now: float
    since: float
    sessions: list[SessionRecord]  # started in [since, now], oldest first
    context: list[SessionRecord]  # started from since - 28 days on, oldest first (a superset)
    observations: list[tuple[str, str, float, float]]  # (category, arm, reward, at), oldest first
    blocks: list[Block]  # in force at some point from the context's start on
    active_blocks: list[Block]
    decisions: dict[int, dict]  # decision id -> explanation, for the listed sessions
    truncated: bool  # more sessions than MAX_SESSIONS: the oldest were left out
    total_sessions: int  # in the store, all time


def read(
    config: Config, store: Store, *, now: float, since: float, compare_from: float | None = None
) -> History:
    """compare_from: the start of the earlier period that "what changed" compares with."""
    start = min(since - LEARN_LOOKBACK_S, compare_from if compare_from is not None else since)
    context = store.sessions_since(start, MAX_SESSIONS)
    truncated = len(context) >= MAX_SESSIONS
    context = [s for s in context if s.started_at <= now]
    sessions = [s for s in context if s.started_at >= since]
    listed = sessions[-TABLE_ROWS:]
    ids = [s.decision_id for s in listed if s.decision_id is not None]
    return History(
        config=config,
        now=now,
        since=since,
        sessions=sessions,
        context=context,
        observations=[o for o in store.graded_observations() if o[3] <= now],
        blocks=store.blocks_since(start),
        active_blocks=store.active_blocks(now),
        decisions={  # compact records as the explanation they stand for; older ones as they are
            i: decision_from_record(d, config).to_dict() if d.get("v") == RECORD_VERSION else d
            for i, d in (store.decisions_by_id(ids) if ids else {}).items()
        },
        truncated=truncated,
        total_sessions=store.counts().get("sessions", 0),
    )
