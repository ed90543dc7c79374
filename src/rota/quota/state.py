"""The quota model: what a probe says about a scope (QuotaState), a block on a scope (Block), which
scopes cover an arm (ArmScopes), and whether a state or block keeps an arm out. Pure, no I/O.

A *scope* says what a quota state or a block covers: a whole harness, a named pool (which may span
harnesses or name single arms), or one arm. Probes (rota.probes) produce QuotaState; the session
outcome and `rota block` produce Block.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rota.records import record

FIT_MIN_UTILIZATION = 0.5  # less used than this, a refusal is not about an arm's size

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the select path
if TYPE_CHECKING:
    pass

SCOPE_KINDS = ("harness", "pool", "arm")


@record
class QuotaState:
    """What a quota source says about one window of one scope.

    available: True (usable), False (exhausted), None (unknown: never treated as exhausted).
    utilization: used fraction 0..1 of the window, None when unknown.
    resets_at: epoch seconds when the window resets, None when unknown.
    source: where the figure came from: api, logs, heuristic, block, config, file.
    """

    scope_kind: str
    scope: str
    window: str = ""
    available: bool | None = None
    utilization: float | None = None
    resets_at: float | None = None
    source: str = "heuristic"
    reason: str = ""
    window_minutes: float | None = None
    observed_at: float = 0.0
    ttl: float | None = None  # seconds this answer may be reused from the cache

    def to_dict(self) -> dict[str, object]:
        return {
            "scope_kind": self.scope_kind,
            "scope": self.scope,
            "window": self.window,
            "available": self.available,
            "utilization": self.utilization,
            "resets_at": self.resets_at,
            "source": self.source,
            "reason": self.reason,
            "window_minutes": self.window_minutes,
            "observed_at": self.observed_at,
            "ttl": self.ttl,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, object]) -> QuotaState:
        def opt_float(v: object) -> float | None:
            return None if v is None else float(v)  # type: ignore[arg-type]

        avail = d.get("available")
        return cls(
            scope_kind=str(d.get("scope_kind", "harness")),
            scope=str(d.get("scope", "")),
            window=str(d.get("window", "") or ""),
            available=None if avail is None else bool(avail),
            utilization=opt_float(d.get("utilization")),
            resets_at=opt_float(d.get("resets_at")),
            source=str(d.get("source", "heuristic")),
            reason=str(d.get("reason", "") or ""),
            window_minutes=opt_float(d.get("window_minutes")),
            observed_at=float(d.get("observed_at", 0.0) or 0.0),  # type: ignore[arg-type]
            ttl=opt_float(d.get("ttl")),
        )


@record
class Block:
    """An arm, harness or pool that may not be used until `until` (epoch seconds)."""

    scope_kind: str
    scope: str
    until: float
    reason: str = ""
    source: str = "manual"  # manual, rate_limit, backoff, health, outage
    created_at: float = 0.0
    hits: int = 1  # consecutive limit hits without a known reset; drives the backoff


@record
class ArmScopes:
    """Every scope that covers one arm: its harness, the pools naming it or its harness, itself."""

    arm: str
    harness: str
    pools: tuple[str, ...] = ()

    def covers(self, scope_kind: str, scope: str) -> bool:
        if scope_kind == "arm":
            return scope == self.arm
        if scope_kind == "harness":
            return scope == self.harness
        if scope_kind == "pool":
            return scope in self.pools
        return False


def blocking(scopes: ArmScopes, blocks: Iterable[Block], now: float) -> Block | None:
    """The active block that keeps this arm out longest, or None."""
    worst: Block | None = None
    for b in blocks:
        if b.until > now and scopes.covers(b.scope_kind, b.scope):
            if worst is None or b.until > worst.until:
                worst = b
    return worst


def exhausting(scopes: ArmScopes, states: Iterable[QuotaState], now: float) -> QuotaState | None:
    """The quota state that says this arm is exhausted now (the latest reset wins), or None.

    A state whose reset time has passed no longer counts: the window has reset.
    """
    worst: QuotaState | None = None
    for s in states:
        if s.available is not False or not scopes.covers(s.scope_kind, s.scope):
            continue
        if s.resets_at is not None and s.resets_at <= now:
            continue
        if worst is None or (s.resets_at or float("inf")) > (worst.resets_at or float("inf")):
            worst = s
    return worst


def states_for(scopes: ArmScopes, states: Iterable[QuotaState]) -> list[QuotaState]:
    return [s for s in states if scopes.covers(s.scope_kind, s.scope)]


# ---------------------------------------------------------------------------------------------
# What rota learns from its own limit hits, where no probe can see.


LevelKey = tuple[str, str, str]  # (scope_kind, scope, window) of a probed quota level
# One probed level as recorded with a session: (scope_kind, scope, window, used fraction, reset).
Level = tuple[str, str, str, float, float | None]


def pool_use(states: Iterable[QuotaState], pools: Iterable[str]) -> dict[str, float]:
    """Each of `pools` that a probe reports -> its used fraction (the most used of its windows).
    Recorded with a session: a refusal at that use teaches that the arm did not fit."""
    wanted = set(pools)
    out: dict[str, float] = {}
    for s in states:
        if s.scope_kind == "pool" and s.scope in wanted and s.utilization is not None:
            out[s.scope] = max(out.get(s.scope, 0.0), float(s.utilization))
    return out


def levels_of(
    states: Iterable[QuotaState],
) -> tuple[Level, ...]:
    """The probed levels to record with a session (Use.levels), from the states a decision saw."""
    return tuple(
        (s.scope_kind, s.scope, s.window, float(s.utilization), s.resets_at)
        for s in states
        if s.source != "learned" and s.utilization is not None
    )


GOOD_OUTCOMES = ("completed",)


def last_outcome_states(
    scope: str, last_outcome: str | None, last_at: float | None, now: float
) -> list[QuotaState]:
    """What a harness with no quota source of its own answers: "the last session on it
    succeeded" means usable; anything else is unknown (never exhausted: a limit hit already left a
    block with its reset). Nothing when it has no finished session."""
    if last_outcome is None:
        return []
    ok = last_outcome in GOOD_OUTCOMES
    when = ""
    if last_at:
        from rota.timefmt import utc  # a stored time out of range is said, never raised

        when = " at " + utc(last_at)
    return [
        QuotaState(
            scope_kind="harness",
            scope=scope,
            window="last_session",
            available=True if ok else None,
            source="heuristic",
            reason=f"last session {last_outcome}{when}",
            observed_at=now,
        )
    ]
