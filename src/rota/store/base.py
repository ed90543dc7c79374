"""The store interface and its records. SQLite is the default; PostgreSQL serves fleets.

Everything that belongs together (a session's outcome, its posterior update, the blocks its limit
hit created) is written in one transaction.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from types import MappingProxyType

from rota.learning.bandit import Evidence
from rota.quota.state import Block, QuotaState
from rota.quota.uses import Use
from rota.records import record

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the select path
if TYPE_CHECKING:
    from typing import Any

    from rota.learning.change import Drift

_EMPTY: Mapping[str, Any] = MappingProxyType({})  # shared, never mutated

# Session states. `running` is the only non-final one.
RUNNING = "running"
COMPLETED = "completed"
RATE_LIMITED = "rate_limited"
CRASHED = "crashed"
TIMED_OUT = "timed_out"
INTERRUPTED = "interrupted"
ABANDONED = "abandoned"
# The harness could not do the work for a reason outside the arm's skill (credentials rejected,
# provider down, model unknown, CLI missing or refusing): recorded, never graded; blocks instead.
UNAVAILABLE = "unavailable"
SESSION_STATES = (
    RUNNING,
    COMPLETED,
    RATE_LIMITED,
    CRASHED,
    TIMED_OUT,
    INTERRUPTED,
    ABANDONED,
    UNAVAILABLE,
)
# The newest sessions whose outcomes the probes read (rota.probes: a harness without a quota
# source is usable when its last session succeeded); retention never prunes them.
RECENT_OUTCOMES = 100


@record
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
    signals: Mapping[str, Any] = _EMPTY
    detail: Mapping[str, Any] = _EMPTY
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
            "signals": dict(self.signals),
            "detail": dict(self.detail),
            "decision_id": self.decision_id,
            "pid": self.pid,
            "machine": self.machine,
            "workspace": self.workspace,
            "log_path": self.log_path,
        }


@record
class SessionOutcome:
    """What finish_session writes, in one transaction with the posterior update and blocks."""

    status: str
    ended_at: float
    exit_code: int | None = None
    arm_ran: str | None = None
    reward: float | None = None  # None: no grade (rate limited, interrupted, abandoned)
    signals: Mapping[str, Any] = _EMPTY
    detail: Mapping[str, Any] = _EMPTY
    blocks: Sequence[Block] = ()


@record
class SessionTotal:
    """One group of `Store.session_totals()`: what `rota metrics` exports as counters."""

    category: str
    arm: str  # the credited arm (the one that ran, else the one selected)
    status: str
    sessions: int
    graded: int
    grade_sum: float
    last_started_at: float | None
    last_ended_at: float | None


LEASE_SECONDS = 60.0  # a crashed holder's lease row frees its slot after this long at most
WORKSPACE = "workspace"  # lease kinds
POOL = "pool"


@record
class Holder:
    """Who holds a fleet lock or pool slot: shown by `rota status`, used to spot dead holders."""

    machine: str
    pid: int
    workspace: str = ""


@record
class LeaseInfo:
    kind: str  # WORKSPACE or POOL
    name: str  # the workspace id or pool name
    slot: int
    machine: str
    pid: int | None
    workspace: str
    session_id: int | None
    acquired_at: float
    expires_at: float | None  # None: bound to a live database connection (PostgreSQL)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "slot": self.slot,
            "machine": self.machine,
            "pid": self.pid,
            "workspace": self.workspace,
            "session_id": self.session_id,
            "acquired_at": self.acquired_at,
            "expires_at": self.expires_at,
        }


@record
class MachineSummary:
    machine: str
    sessions: int  # started since the summary's `since`
    running: int
    last_started_at: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "machine": self.machine,
            "sessions": self.sessions,
            "running": self.running,
            "last_started_at": self.last_started_at,
        }


class Lease(ABC):
    """A held workspace lock or pool slot. release() is idempotent and never raises."""

    kind: str
    name: str
    slot: int

    @abstractmethod
    def renew(self) -> bool:
        """Heartbeat: extend the lease; False when it has been lost (expired and taken, or the
        connection that held it died)."""

    @abstractmethod
    def release(self) -> None: ...


class Store(ABC):
    """Persistence behind one small interface."""

    url: str

    # -- learning state -------------------------------------------------------------------------
    @abstractmethod
    def evidence(self) -> dict[tuple[str, str], Evidence]:
        """Every (category, arm) evidence row, including the overall rows (category "*")."""

    @abstractmethod
    def evidence_and_changes(
        self,
    ) -> tuple[dict[tuple[str, str], Evidence], dict[tuple[str, str], float]]:
        """evidence(), and when a detected change last set each row's older evidence aside (only
        rows where one did), in one read: what a decision needs."""

    @abstractmethod
    def drifts(self) -> dict[tuple[str, str], Drift]:
        """The change test of every evidence row (rota.learning.change.Drift)."""

    # -- decisions and sessions -----------------------------------------------------------------
    @abstractmethod
    def record_decision(self, decision: Mapping[str, Any], *, workspace: str, machine: str) -> int:
        """Store a decision with its explanation (Decision.to_record()); returns its id."""

    @abstractmethod
    def last_decision(self, workspace: str | None = None) -> dict[str, Any] | None:
        """The newest stored decision (of a workspace), as record_decision was given it."""

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
        self,
        session_id: int,
        outcome: SessionOutcome,
        *,
        half_life_s: float,
        reopen: bool = False,
    ) -> SessionRecord:
        """Record the outcome, update the credited arm's posterior and add blocks: one transaction.
        reopen: finish an `abandoned` session too (an outcome kept on disk, replayed)."""

    @abstractmethod
    def import_session(
        self,
        *,
        category: str,
        arm: str,
        started_at: float,
        pid: int | None,
        machine: str,
        workspace: str,
        log_path: str,
        detail: Mapping[str, Any],
        outcome: SessionOutcome,
        half_life_s: float,
    ) -> int:
        """Record a whole session with its outcome in one transaction (a replayed session whose
        row the store lost). Returns its id."""

    @abstractmethod
    def set_grade(
        self,
        session_id: int,
        reward: float,
        *,
        now: float,
        half_life_s: float,
        source: str = "manual",
        signals: Mapping[str, Any] | None = None,
    ) -> SessionRecord:
        """Set or correct a grade. A correction replaces the old grade's effect on the posterior
        (the learning step's retract, then observe). `signals`: keys that replace the stored
        ones (the grade behind the new reward); `grade_history` records every change and its
        source ("manual", "followup")."""

    @abstractmethod
    def update_signals(self, session_id: int, signals: Mapping[str, Any]) -> None:
        """Replace some keys of a finished session's signals; its grade stays as it is."""

    @abstractmethod
    def get_session(self, session_id: int) -> SessionRecord | None: ...

    @abstractmethod
    def recent_outcomes(self, limit: int) -> list[tuple[str, str, float | None]]:
        """(arm that ran, status, ended_at or started_at) of the newest `limit` sessions, newest
        first, the running ones left out: what a quota heuristic reads (lean, no JSON)."""

    @abstractmethod
    def recent_sessions(
        self,
        limit: int = 20,
        *,
        status: str | None = None,
        workspace: str | None = None,
        arm: str | None = None,
        category: str | None = None,
        since: float | None = None,
    ) -> list[SessionRecord]:
        """Newest first. `arm`: the arm chosen or the one that ran; a name without ':' is a
        harness (all its arms). `since`: started at or after (epoch seconds)."""

    @abstractmethod
    def recent_uses(self, since: float, limit: int, levels: int = 0) -> list[Use]:
        """Finished sessions started since `since`, newest first, at most `limit`, as the Use
        records selection learns quota windows and regressions from (rota.quota). Only the
        newest `levels` of them carry their recorded quota levels (they cost a JSON parse each)."""

    @abstractmethod
    def measured_costs(
        self, since: float, limit: int, *, exclude_category: str = "judge"
    ) -> list[tuple[str, float | None, float | None]]:
        """(arm that ran, dollars or None, tokens or None) of the newest graded sessions started
        since `since` (judge runs left out), as their harness reported them (detail.cost)."""

    @abstractmethod
    def running_sessions(self) -> list[SessionRecord]: ...

    @abstractmethod
    def mark_abandoned(self, session_id: int, now: float, reason: str) -> bool:
        """A `running` record whose process is gone becomes `abandoned` (no grade, no punishment)."""

    @abstractmethod
    def graded_observations(self) -> list[tuple[str, str, float, float]]:
        """(category, credited arm, reward, observed_at) for every graded session, oldest first."""

    # -- reading history back (rota report, rota metrics) -----------------------------------------
    @abstractmethod
    def sessions_since(self, since: float, limit: int) -> list[SessionRecord]:
        """Sessions started at or after `since`, oldest first: the newest `limit` of them."""

    @abstractmethod
    def decisions_by_id(self, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """The stored decisions (as record_decision was given them: Decision.to_record(), or
        to_dict() from before) of these ids; rota.learning.decision.decision_from_record reads
        them."""

    @abstractmethod
    def blocks_since(self, since: float) -> list[Block]:
        """Every block still in force at or after `since` (expired ones included), oldest first."""

    @abstractmethod
    def session_totals(self) -> list[SessionTotal]:
        """Sessions over all time, per (category, credited arm, status): counts, grades, times."""

    @abstractmethod
    def last_decision_at(self) -> float | None:
        """When the newest decision was stored (None: never)."""

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

    # -- fleet: workspace locks, pool concurrency, visibility (see rota.session.fleet) --------------------
    @abstractmethod
    def _acquire(
        self, kind: str, limits: Mapping[str, int], holder: Holder, lease_s: float
    ) -> tuple[list[Lease], str | None]:
        """Take one of `limit` slots of every (kind, name) in `limits`, all or nothing, without
        waiting: (leases, None), or ([], name) naming one that is full (nothing is held then).

        PostgreSQL: advisory locks on a dedicated connection (freed when that connection dies).
        SQLite (one machine, where the local flock already excludes): lease rows, for visibility.
        """

    def acquire_workspace(
        self, workspace: str, holder: Holder, *, lease_s: float = LEASE_SECONDS
    ) -> Lease | None:
        """Lock a workspace fleet-wide without waiting; None when someone else holds it."""
        leases, _full = self._acquire(WORKSPACE, {workspace: 1}, holder, lease_s)
        return leases[0] if leases else None

    def acquire_pools(
        self, limits: Mapping[str, int], holder: Holder, *, lease_s: float = LEASE_SECONDS
    ) -> tuple[list[Lease], str | None]:
        """Take one slot in every pool of `limits` (pool -> concurrency > 0), all or nothing.

        Returns (leases, None), or ([], pool) naming a pool that is full (nothing is held then).
        """
        return self._acquire(POOL, {p: n for p, n in limits.items() if n > 0}, holder, lease_s)

    @abstractmethod
    def pool_busy(self, now: float) -> dict[str, int]:
        """Sessions holding a slot right now, per pool (what SelectionInput.pool_busy wants)."""

    @abstractmethod
    def leases(self, now: float) -> list[LeaseInfo]:
        """Live workspace locks and pool slots across the fleet, with their holders."""

    @abstractmethod
    def machine_summary(self, since: float) -> list[MachineSummary]:
        """Sessions per machine started since `since`, with the running ones; busiest first."""

    @abstractmethod
    def repair_clock(self, now: float) -> list[str]:
        """Write back what a wrong clock left (rota.clock); returns the warnings."""

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


def prompt_beside(log_path: str) -> str:
    """Where a session's prompt file is written: beside its log (rota.session.paths)."""
    return log_path[: -len(".log")] + ".prompt.md" if log_path.endswith(".log") else ""


def compact_detail(
    detail: Mapping[str, Any], arm: str, workspace: str, log_path: str
) -> dict[str, Any]:
    """A session's detail as the store keeps it: without what its other columns already say
    (the harness and model of its arm, its prompt file beside its log, its workspace path at the
    end of its workspace id). full_detail() puts them back."""
    if not isinstance(detail, Mapping):
        return detail  # type: ignore[return-value]  # damaged: kept as it is
    out = dict(detail)
    harness, _, model = arm.partition(":")
    for key, same in (
        ("harness", harness),
        ("model", model),
        ("prompt_file", prompt_beside(log_path)),
        ("workspace_path", workspace.split(":", 1)[1] if ":" in workspace else None),
    ):
        if same and out.get(key) == same:
            del out[key]
    for key, first in _SUMMARIES.items():
        if isinstance(out.get(key), Mapping):
            out[key] = _without_defaults(out[key], _summary_defaults(key), first)
    return out


# The graded summaries in a session's detail (rota.trajectory.record.Trajectory and
# WorkspaceSummary, to_dict()): stored without the fields that hold their default (most of them,
# for most sessions), except the one each reader looks at first; full_detail() puts them back.
_SUMMARIES = {"trajectory": "source", "workspace": "git"}


def _summary_defaults(key: str) -> dict[str, Any]:
    from rota.trajectory.record import stored_defaults  # dataclasses: never on the select path

    return stored_defaults()[key]


def _without_defaults(
    summary: Mapping[str, Any], defaults: Mapping[str, Any], first: str
) -> dict[str, Any]:
    out = {}
    for k, v in summary.items():
        d = defaults.get(k, _MISSING)
        # The same type too: 0 is not the default False, nor 0.0 the default None.
        if k == first or d is _MISSING or type(v) is not type(d) or v != d:
            out[k] = v
    return out


def _with_defaults(summary: dict[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """Every field, in the sorted order the store keeps keys in (a summary stored before its
    defaults were left out comes back as it was)."""
    if all(k in summary for k in defaults):
        return summary
    out = {}
    for k in sorted({*summary, *defaults}):
        if k in summary:
            out[k] = summary[k]
        else:
            d = defaults[k]
            out[k] = d.copy() if isinstance(d, (list, dict)) else d
    return out


_MISSING = object()


def full_detail(detail: Any, arm: str, workspace: str, log_path: str) -> Any:
    """A stored detail with what compact_detail() left to the other columns put back (a damaged
    one, not an object, as it is)."""
    if not isinstance(detail, dict):
        return detail  # damaged: as it is
    summaries = [k for k in _SUMMARIES if isinstance(detail.get(k), dict)]
    if summaries:
        detail = dict(detail)
        for key in summaries:
            detail[key] = _with_defaults(detail[key], _summary_defaults(key))
    if "executable" not in detail:
        return detail  # not a launch's detail: nothing else was left out
    out = dict(detail)
    harness, _, model = arm.partition(":")
    out.setdefault("harness", harness)
    out.setdefault("model", model)
    if "prompt_file" not in out and prompt_beside(log_path):
        out["prompt_file"] = prompt_beside(log_path)
    if "workspace_path" not in out and ":" in workspace:
        out["workspace_path"] = workspace.split(":", 1)[1]
    return out


def dumps(obj: Any) -> str:
    """JSON as the store keeps it: sorted keys, no spaces (a session's record is read far less
    often than it is kept)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def loads(text: str | None) -> Any:
    """A stored JSON object; {} for anything else (a damaged row must not stop a command)."""
    if not text:
        return {}
    try:
        obj = json.loads(text)
    except (ValueError, TypeError):
        return {}
    return obj if isinstance(obj, dict) else {}
