"""Health evaluation for monitoring (`rota health`).

`evaluate` is pure: it takes plain data (sessions, blocks, arms, timer state, the store error if
any) and returns named checks. `gather` does the I/O: it reads the store and asks systemd about
rota.timer. A check is "ok", "problem" or "unknown"; the report is healthy when no check is a
problem. Unknown is not a problem unless the caller asks for it (e.g. `--require-timer`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rota.quota.state import ArmScopes, Block

OK = "ok"
PROBLEM = "problem"
UNKNOWN = "unknown"

# Check names (stable: monitoring keys on them).
CHECK_STORE = "store_readable"
CHECK_SUCCESS = "recent_success"
CHECK_CRASHES = "crash_streak"
CHECK_BLOCKED = "arms_available"
CHECK_TIMER = "timer_active"
CHECK_INFRA = "harnesses_usable"
INFRA_SOURCE = "infra"  # Block.source of an infrastructure failure (rota.session.infra)
INFRA_HOLD_KINDS = ("auth", "cli")  # held until `rota unblock` or the config changes

# Outcomes that count toward a crash streak: the harness died or hung.
CRASH_STATES = ("crashed", "timed_out")
SUCCESS_STATE = "completed"
JUDGE_CATEGORY = "judge"  # rota.session.record.JUDGE_CATEGORY (not imported: health stays light)
JUDGE_SLACK = 20  # extra rows read so that judge runs do not crowd out sessions


@dataclass(frozen=True, slots=True)
class SessionFacts:
    """The few fields of a session record that health needs."""

    id: int
    status: str
    started_at: float
    ended_at: float | None = None
    arm: str = ""

    @classmethod
    def of(cls, rec: Any) -> SessionFacts:
        """From a rota.store SessionRecord (or anything with the same attributes)."""
        return cls(
            id=int(rec.id),
            status=str(rec.status),
            started_at=float(rec.started_at),
            ended_at=None if rec.ended_at is None else float(rec.ended_at),
            arm=str(getattr(rec, "arm_ran", None) or getattr(rec, "arm", "") or ""),
        )


@dataclass(frozen=True, slots=True)
class TimerFacts:
    """What is known about rota.timer. systemd False = no manager here: the check is unknown."""

    systemd: bool
    installed: bool
    active_state: str = "unknown"
    detail: str = ""
    system: bool = False  # system units (else user units)


@dataclass(frozen=True, slots=True)
class HealthThresholds:
    max_hours_without_success: float = 24.0
    blocked_all_hours: float = 6.0
    crash_streak: int = 3
    require_timer: bool = False  # treat "timer state unknown / not installed" as a problem

    @classmethod
    def of(cls, cfg_health: Any, *, require_timer: bool = False) -> HealthThresholds:
        d = cls()
        return cls(
            max_hours_without_success=float(
                getattr(cfg_health, "max_hours_without_success", d.max_hours_without_success)
            ),
            blocked_all_hours=float(getattr(cfg_health, "blocked_all_hours", d.blocked_all_hours)),
            crash_streak=int(getattr(cfg_health, "crash_streak", d.crash_streak)),
            require_timer=require_timer,
        )


@dataclass(frozen=True, slots=True)
class HealthInput:
    now: float
    store_error: str | None = None
    # Newest first. `last_success` is the newest completed session, which may be older than any
    # in `recent`; `total_sessions` says whether history extends beyond `recent`.
    recent: Sequence[SessionFacts] = ()
    last_success: SessionFacts | None = None
    total_sessions: int | None = None
    arms: Sequence[ArmScopes] = ()
    blocks: Sequence[Block] = ()
    timer: TimerFacts | None = None


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: str
    detail: str
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.name, "status": self.status, "detail": self.detail, **self.data}


@dataclass(frozen=True, slots=True)
class HealthReport:
    checks: tuple[Check, ...]
    now: float

    @property
    def healthy(self) -> bool:
        return not self.problems

    @property
    def problems(self) -> list[Check]:
        return [c for c in self.checks if c.status == PROBLEM]

    def to_dict(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "checked_at": self.now,
            "problems": [c.to_dict() for c in self.problems],
            "checks": [c.to_dict() for c in self.checks],
        }


def _hours(seconds: float) -> str:
    h = seconds / 3600.0
    return f"{h:.1f} h" if h < 48 else f"{h / 24:.1f} d"


def evaluate(inp: HealthInput, settings: HealthThresholds) -> HealthReport:
    checks: list[Check] = []
    now = inp.now

    if inp.store_error is not None:
        checks.append(
            Check(CHECK_STORE, PROBLEM, f"the state store cannot be read: {inp.store_error}")
        )
        for name in (CHECK_SUCCESS, CHECK_CRASHES, CHECK_BLOCKED, CHECK_INFRA):
            checks.append(Check(name, UNKNOWN, "store unreadable"))
    else:
        checks.append(Check(CHECK_STORE, OK, "the state store is readable"))
        checks.append(_check_success(inp, settings))
        checks.append(_check_crashes(inp, settings))
        checks.append(_check_blocked(inp, settings))
        checks.append(_check_infra(inp))
    checks.append(_check_timer(inp.timer, settings))
    return HealthReport(tuple(checks), now)


def _check_infra(inp: HealthInput) -> Check:
    """Harnesses held out by a failure a person must fix: credentials the provider rejected, or
    a CLI that is missing or refuses to start (held until `rota unblock` or the config changes)."""
    held = [
        b
        for b in inp.blocks
        if b.source == INFRA_SOURCE
        and b.until > inp.now
        and b.reason.split(":", 1)[0] in INFRA_HOLD_KINDS
    ]
    if not held:
        return Check(CHECK_INFRA, OK, "no harness is held by a failed login or a missing CLI")
    names = sorted({b.scope for b in held})
    detail = "; ".join(f"{b.scope_kind}:{b.scope}: {b.reason}" for b in held)
    return Check(
        CHECK_INFRA,
        PROBLEM,
        f"held until fixed ({', '.join(names)}): {detail}. Fix the login or the CLI "
        "(the hold lifts when its [harnesses.X] config changes), or `rota unblock NAME`",
        {"harnesses": names},
    )


def _check_success(inp: HealthInput, settings: HealthThresholds) -> Check:
    window = settings.max_hours_without_success * 3600.0
    last = inp.last_success
    if last is None:
        last = next((s for s in inp.recent if s.status == SUCCESS_STATE), None)
    if last is not None:
        at = last.ended_at or last.started_at
        age = now_minus(inp.now, at)
        data = {"last_success_at": at, "last_success_session": last.id}
        if age <= window:
            return Check(
                CHECK_SUCCESS, OK, f"last successful session #{last.id} {_hours(age)} ago", data
            )
        return Check(
            CHECK_SUCCESS,
            PROBLEM,
            f"no successful session in {_hours(window)} (the last, #{last.id}, ended "
            f"{_hours(age)} ago)",
            data,
        )
    if not inp.recent:
        # A fresh install has no history yet: nothing to judge.
        return Check(CHECK_SUCCESS, UNKNOWN, "no sessions recorded yet")
    oldest = min(s.started_at for s in inp.recent)
    history_beyond = inp.total_sessions is not None and inp.total_sessions > len(inp.recent)
    if history_beyond or inp.now - oldest > window:
        return Check(
            CHECK_SUCCESS,
            PROBLEM,
            f"no successful session in {_hours(window)} (none ever completed; "
            f"{inp.total_sessions or len(inp.recent)} recorded)",
        )
    return Check(
        CHECK_SUCCESS,
        OK,
        f"no session has completed yet, but history is only {_hours(inp.now - oldest)} old",
    )


def now_minus(now: float, ts: float) -> float:
    return max(0.0, now - ts)


def _check_crashes(inp: HealthInput, settings: HealthThresholds) -> Check:
    n = settings.crash_streak
    finished = [s for s in inp.recent if s.status != "running"][:n]
    if len(finished) < n:
        return Check(CHECK_CRASHES, OK, f"fewer than {n} finished sessions recorded")
    if all(s.status in CRASH_STATES for s in finished):
        ids = ", ".join(f"#{s.id} {s.status}" for s in finished)
        return Check(
            CHECK_CRASHES,
            PROBLEM,
            f"the last {n} sessions all crashed or timed out ({ids})",
            {"sessions": [s.id for s in finished]},
        )
    return Check(CHECK_CRASHES, OK, f"no crash streak in the last {n} sessions")


def _check_blocked(inp: HealthInput, settings: HealthThresholds) -> Check:
    if not inp.arms:
        return Check(CHECK_BLOCKED, UNKNOWN, "no enabled arms configured")
    now = inp.now
    since_all: float = float("-inf")
    free: list[str] = []
    earliest_free: float | None = None
    for scopes in inp.arms:
        covering = [b for b in inp.blocks if b.until > now and scopes.covers(b.scope_kind, b.scope)]
        if not covering:
            free.append(scopes.arm)
            continue
        # The arm has been out since its oldest active block began (created_at 0 = unknown: now).
        started = min((b.created_at if b.created_at > 0 else now) for b in covering)
        since_all = max(since_all, started)
        until = max(b.until for b in covering)
        earliest_free = until if earliest_free is None else min(earliest_free, until)
    if free:
        return Check(CHECK_BLOCKED, OK, f"{len(free)} of {len(inp.arms)} arms unblocked")
    duration = now - since_all
    limit = settings.blocked_all_hours * 3600.0
    data = {"all_blocked_since": since_all, "earliest_unblock_at": earliest_free}
    if duration > limit:
        return Check(
            CHECK_BLOCKED,
            PROBLEM,
            f"every arm ({len(inp.arms)}) has been blocked for {_hours(duration)} "
            f"(threshold {_hours(limit)})",
            data,
        )
    return Check(
        CHECK_BLOCKED,
        OK,
        f"every arm is blocked, for {_hours(duration)} so far (threshold {_hours(limit)})",
        data,
    )


def _check_timer(timer: TimerFacts | None, settings: HealthThresholds) -> Check:
    unknown_status = PROBLEM if settings.require_timer else UNKNOWN
    if timer is None:
        return Check(CHECK_TIMER, unknown_status, "timer state not checked")
    if not timer.installed:
        return Check(
            CHECK_TIMER, unknown_status, "rota.timer is not installed (rota systemd install)"
        )
    if not timer.systemd:
        return Check(
            CHECK_TIMER,
            unknown_status,
            f"rota.timer is installed but systemd is not running here ({timer.detail})",
        )
    if timer.active_state == "active":
        return Check(CHECK_TIMER, OK, "rota.timer is active")
    return Check(
        CHECK_TIMER,
        PROBLEM,
        f"rota.timer is {timer.active_state}"
        + (f" ({timer.detail})" if timer.detail else "")
        + "; start it with `systemctl"
        + ("" if timer.system else " --user")
        + " enable --now rota.timer`",
    )


# ---------------------------------------------------------------------------------------------
# I/O


def timer_facts() -> TimerFacts:
    """Find our installed timer (user, then system units) and ask systemd whether it is active."""
    from rota.systemd import systemctl

    inst = systemctl.find_installation()
    if inst is None or not inst.timer:
        return TimerFacts(systemd=False, installed=False)
    state = systemctl.systemd_state(system=inst.system)
    if not state.running:
        return TimerFacts(systemd=False, installed=True, detail=state.detail, system=inst.system)
    active = systemctl.timer_active_state(system=inst.system)
    return TimerFacts(systemd=True, installed=True, active_state=active, system=inst.system)


def gather(
    config: Any,
    *,
    now: float | None = None,
    store: Any | None = None,
    timer: TimerFacts | None = None,
    recent_limit: int = 50,
) -> HealthInput:
    """Read what `evaluate` needs. A store failure is data (store_error), never an exception."""
    now = time.time() if now is None else now
    arms = []
    try:
        for a in config.enabled_arms():
            arms.append(config.arm_scopes(a.arm))
    except Exception:
        arms = []
    crash_n = int(getattr(getattr(config, "health", None), "crash_streak", 3))
    own_store = store is None
    try:
        if store is None:
            from rota.store import open_store

            store = open_store(config)
        try:
            # A judge's own run (category "judge", rota.session.record) is no session of work.
            recent = [
                SessionFacts.of(r)
                for r in store.recent_sessions(max(recent_limit, crash_n) + JUDGE_SLACK)
                if r.category != JUDGE_CATEGORY
            ][: max(recent_limit, crash_n)]
            succ = [
                r
                for r in store.recent_sessions(JUDGE_SLACK, status=SUCCESS_STATE)
                if r.category != JUDGE_CATEGORY
            ]
            last_success = SessionFacts.of(succ[0]) if succ else None
            total = int(store.counts().get("sessions", len(recent)))
            blocks = list(store.active_blocks(now))
        finally:
            if own_store:
                store.close()
    except Exception as exc:
        return HealthInput(now=now, store_error=_short_error(exc), arms=arms, timer=timer)
    return HealthInput(
        now=now,
        recent=recent,
        last_success=last_success,
        total_sessions=total,
        arms=arms,
        blocks=blocks,
        timer=timer,
    )


def _short_error(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
