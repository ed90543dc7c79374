"""The store interface and its records. SQLite is the default; PostgreSQL serves fleets.

Everything that belongs together (a session's outcome, its posterior update, the blocks its limit
hit created) is written in one transaction.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rota.bandit import Evidence
from rota.quota import Block, QuotaState

# Session states. `running` is the only non-final one.
RUNNING = "running"
COMPLETED = "completed"
RATE_LIMITED = "rate_limited"
CRASHED = "crashed"
TIMED_OUT = "timed_out"
INTERRUPTED = "interrupted"
ABANDONED = "abandoned"
SESSION_STATES = (RUNNING, COMPLETED, RATE_LIMITED, CRASHED, TIMED_OUT, INTERRUPTED, ABANDONED)


@dataclass(slots=True)
class SessionRecord:
    id: int
    category: str
    arm: str  # the arm selected
    arm_ran: str | None  # the arm that actually ran (credited), when known
    status: str
    started_at: float
    ended_at: float | None = None
    exit_code: int | None = None
    reward: float | None = None
    graded_at: float | None = None  # the observation time the posterior update used
    signals: dict[str, Any] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)
    decision_id: int | None = None
    pid: int | None = None
    machine: str = ""
    workspace: str = ""
    log_path: str = ""

    @property
    def credited_arm(self) -> str:
        return self.arm_ran or self.arm

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "category": self.category,
            "arm": self.arm,
            "arm_ran": self.arm_ran,
            "status": self.status,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "exit_code": self.exit_code,
            "reward": self.reward,
            "graded_at": self.graded_at,
            "signals": self.signals,
            "detail": self.detail,
            "decision_id": self.decision_id,
            "pid": self.pid,
            "machine": self.machine,
            "workspace": self.workspace,
            "log_path": self.log_path,
        }


@dataclass(slots=True)
class SessionOutcome:
    """What finish_session writes, in one transaction with the posterior update and blocks."""

    status: str
    ended_at: float
    exit_code: int | None = None
    arm_ran: str | None = None
    reward: float | None = None  # None: no grade (rate limited, interrupted, abandoned)
    signals: Mapping[str, Any] = field(default_factory=dict)
    detail: Mapping[str, Any] = field(default_factory=dict)
    blocks: Sequence[Block] = ()


class Store(ABC):
    """Persistence behind one small interface."""

    url: str

    # -- learning state -------------------------------------------------------------------------
    @abstractmethod
    def evidence(self) -> dict[tuple[str, str], Evidence]:
        """Every (category, arm) evidence row, including the overall rows (category "*")."""

    # -- decisions and sessions -----------------------------------------------------------------
    @abstractmethod
    def record_decision(self, decision: Mapping[str, Any], *, workspace: str, machine: str) -> int:
        """Store a decision with its explanation (Decision.to_dict()); returns its id."""

    @abstractmethod
    def start_session(
        self,
        *,
        category: str,
        arm: str,
        started_at: float,
        decision_id: int | None,
        pid: int | None,
        machine: str,
        workspace: str,
        log_path: str = "",
        detail: Mapping[str, Any] | None = None,
    ) -> int:
        """Create a `running` session record; returns its id."""

    @abstractmethod
    def finish_session(
        self, session_id: int, outcome: SessionOutcome, *, half_life_s: float
    ) -> SessionRecord:
        """Record the outcome, update the credited arm's posterior and add blocks: one transaction."""

    @abstractmethod
    def set_grade(
        self, session_id: int, reward: float, *, now: float, half_life_s: float, source: str = "manual"
    ) -> SessionRecord:
        """Set or correct a grade. A correction replaces the old grade's effect on the posterior."""

    @abstractmethod
    def get_session(self, session_id: int) -> SessionRecord | None: ...

    @abstractmethod
    def recent_sessions(
        self, limit: int = 20, *, status: str | None = None, workspace: str | None = None
    ) -> list[SessionRecord]:
        """Newest first."""

    @abstractmethod
    def running_sessions(self) -> list[SessionRecord]: ...

    @abstractmethod
    def mark_abandoned(self, session_id: int, now: float, reason: str) -> bool:
        """A `running` record whose process is gone becomes `abandoned` (no grade, no punishment)."""

    @abstractmethod
    def graded_observations(self) -> list[tuple[str, str, float, float]]:
        """(category, credited arm, reward, observed_at) for every graded session, oldest first."""

    # -- blocks -----------------------------------------------------------------------------------
    @abstractmethod
    def add_block(self, block: Block) -> None: ...

    @abstractmethod
    def remove_blocks(self, scope_kind: str, scope: str) -> int: ...

    @abstractmethod
    def active_blocks(self, now: float) -> list[Block]: ...

    @abstractmethod
    def latest_block(self, scope_kind: str, scope: str) -> Block | None:
        """The newest block on a scope, active or not (for growing backoff)."""

    # -- quota cache ------------------------------------------------------------------------------
    @abstractmethod
    def put_quota_states(self, states: Sequence[QuotaState], *, source_key: str = "") -> None: ...

    @abstractmethod
    def cached_quota_states(self, max_age_s: float, now: float) -> list[QuotaState]: ...

    # -- misc -------------------------------------------------------------------------------------
    @abstractmethod
    def counts(self) -> dict[str, int]:
        """Row counts per table (for migration checks and status)."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def dumps(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, default=str)


def loads(text: str | None) -> Any:
    if not text:
        return {}
    try:
        return json.loads(text)
    except ValueError:
        return {}
