"""Quota states, blocks, and the pure helpers that turn them into per-arm availability.

A *scope* says what a quota state or a block covers: a whole harness, a named pool (which may span
harnesses or name single arms), or one arm. Probes (rota.harnesses) produce QuotaState; the runner
and `rota block` produce Block. Nothing here does I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from rota.records import record

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


def backoff_seconds(hits: int, base: float = 600.0, cap: float = 6 * 3600.0) -> float:
    """Block length after `hits` consecutive limit hits that gave no reset time: 10 min, doubling."""
    return min(cap, base * (2 ** max(0, hits - 1)))


def block_after_limit(
    scope_kind: str,
    scope: str,
    *,
    resets_at: float | None,
    now: float,
    previous: Block | None,
    reason: str,
    base_s: float = 600.0,
    cap_s: float = 6 * 3600.0,
) -> Block:
    """The block a limit hit (or an outage) creates on what it covers.

    With a known reset time the scope is blocked until then. Without one, the block grows with
    consecutive hits (10 min, 20 min, 40 min … capped) so that an outage costs a bounded number of
    sessions, not one per slot. Hits count as consecutive while the previous backoff block on the
    same scope ended less than `cap_s` ago.
    """
    if resets_at is not None and resets_at > now:
        return Block(scope_kind, scope, resets_at, reason, "rate_limit", now, 1)
    hits = 1
    if previous is not None and previous.source == "backoff" and previous.until >= now - cap_s:
        hits = previous.hits + 1
    return Block(
        scope_kind, scope, now + backoff_seconds(hits, base_s, cap_s), reason, "backoff", now, hits
    )


# ---------------------------------------------------------------------------------------------
# What a limit hit blocks, and what rota learns from its own hits where no probe can see.


def limit_scopes(
    scopes: ArmScopes, hit_scope_kind: str, hit_scope: str, *, reset_known: bool
) -> list[tuple[str, str]]:
    """The (scope_kind, scope) pairs that a limit hit on `scopes.arm` blocks.

    A harness-wide hit that gives a reset time, on an arm that configured pools cover, blocks
    those pools: the pool is what ran out, and it may span harnesses (one plan behind codex and
    gptme) or leave out other models of the harness. Otherwise the hit blocks what it names (an arm
    for a per-model limit; the harness for an outage that gives no reset time).
    """
    if hit_scope_kind == "harness" and reset_known and scopes.pools:
        return [("pool", p) for p in scopes.pools]
    return [(hit_scope_kind, hit_scope or scopes.harness)]


@record
class Use:
    """One session on the record, as quota learning sees it."""

    arm: str  # the arm that ran (or was refused)
    at: float  # when it started, epoch seconds
    limited: bool = False  # it stopped on a limit
    resets_at: float | None = None  # the reset time the limit gave
    utilization: Mapping[str, float] | None = None  # probed pool -> used fraction before it ran


LEARN_LOOKBACK_S = 14 * 86400.0  # hits older than this teach nothing: limits change
RESET_TOLERANCE_S = 120.0  # reset times parsed from messages are rounded
LEARN_FROM_HITS = 3  # the capacity is the smallest of the last few hits' counts
FIT_MIN_UTILIZATION = (
    0.5  # below this, a refusal is not about the arm being too big for what is left
)


def window_length(resets: Iterable[float]) -> float | None:
    """The length of a fixed window implied by the reset times of hits on it, or None.

    Resets of one fixed-window pool are whole windows apart, so the smallest gap is the window once
    two consecutive windows were hit. Gaps that are not multiples of it (resets of two different
    windows mixed up) give None: no guess is better than a wrong one.
    """
    distinct: list[float] = []
    for r in sorted(resets):
        if not distinct or r - distinct[-1] > RESET_TOLERANCE_S:
            distinct.append(r)
    if len(distinct) < 2:
        return None
    gaps = [b - a for a, b in zip(distinct, distinct[1:], strict=False)]
    w = min(gaps)
    for g in gaps:
        k = round(g / w)
        if abs(g - k * w) > RESET_TOLERANCE_S * k:
            return None
    return w


def learned_states(
    scopes: Mapping[str, ArmScopes],
    uses: Sequence[Use],
    states: Sequence[QuotaState],
    now: float,
    *,
    lookback_s: float = LEARN_LOOKBACK_S,
) -> list[QuotaState]:
    """Exhaustion that rota predicts from its own limit hits (source "learned").

    - A pool no probe reports (or a harness with no pool configured): from earlier hits with a
      reset time, learn the window length and how many sessions the window allowed before it
      refused one; once this window has had as many, the pool is exhausted until its reset. One
      hit is wasted while learning, then none, instead of one per window.
    - A probed pool that refused an arm while it still had room (the arm needs more than was
      left): that arm is exhausted whenever the pool is at least as used again.
    scopes: every configured arm -> its ArmScopes. uses: recent sessions, any order.
    """
    recent = sorted(
        (u for u in uses if now - u.at <= lookback_s and u.at <= now), key=lambda u: u.at
    )
    if not recent:
        return []
    probed = {
        (s.scope_kind, s.scope)
        for s in states
        if s.source != "learned" and (s.utilization is not None or s.available is not None)
    }
    groups: dict[tuple[str, str], set[str]] = {}
    unprobed_arms: set[str] = set()  # arms a limit no probe reports may also stop
    for arm, sc in scopes.items():
        keys = [("pool", p) for p in sc.pools] or [("harness", sc.harness)]
        for key in keys:
            groups.setdefault(key, set()).add(arm)
            if key not in probed:
                unprobed_arms.add(arm)

    out: list[QuotaState] = []
    for (kind, scope), members in groups.items():
        if (kind, scope) in probed:
            continue
        mine = [u for u in recent if u.arm in members]
        hits = [u for u in mine if u.limited and u.resets_at is not None]
        w = window_length(u.resets_at for u in hits)  # type: ignore[misc]
        if w is None:
            continue
        ran = [u.at for u in mine if not u.limited]
        caps: list[int] = []
        for h in hits:
            start = h.resets_at - w  # type: ignore[operator]
            c = sum(1 for t in ran if start <= t < h.at)
            if c >= 1:  # a hit on the window's first session says nothing about its size
                caps.append(c)
        if not caps:
            continue
        cap = min(caps[-LEARN_FROM_HITS:])
        anchor = max(h.resets_at for h in hits)  # type: ignore[type-var]
        if now < anchor:
            continue  # still in the window that refused: its block covers it
        start = anchor + math.floor((now - anchor) / w) * w
        used = sum(1 for t in ran if start <= t < now)
        if used >= cap:
            out.append(
                QuotaState(
                    scope_kind=kind,
                    scope=scope,
                    window="learned",
                    available=False,
                    resets_at=start + w,
                    source="learned",
                    reason=f"{used} sessions this window; it refused one after {cap} before",
                    window_minutes=w / 60.0,
                    observed_at=now,
                )
            )

    # Arms too big for what a probed pool has left. Only when no unseen limit covers the arm (the
    # hit may have been that one's) and the pool was well used (else the arm cannot be too big).
    current = {
        s.scope: s
        for s in states
        if s.scope_kind == "pool"
        and s.source != "learned"
        and s.utilization is not None
        and s.resets_at is not None
        and s.resets_at > now
    }
    fit: dict[tuple[str, str], float] = {}
    for u in recent:
        if not (u.limited and u.resets_at is not None and u.utilization and u.arm in scopes):
            continue
        if u.arm in unprobed_arms:
            continue
        cover = [(p, x) for p, x in u.utilization.items() if p in scopes[u.arm].pools]
        if not cover:
            continue
        pool, x = max(cover, key=lambda px: px[1])
        if FIT_MIN_UTILIZATION <= x < 1.0 - 1e-6:
            fit[(u.arm, pool)] = min(fit.get((u.arm, pool), 1.0), x)
    for (arm, pool), x in fit.items():
        s = current.get(pool)
        if s is not None and s.utilization is not None and s.utilization >= x - 1e-6:
            out.append(
                QuotaState(
                    scope_kind="arm",
                    scope=arm,
                    window=s.window,
                    available=False,
                    utilization=s.utilization,
                    resets_at=s.resets_at,
                    source="learned",
                    reason=f"{pool} refused {arm} at {x:.0%} used before",
                    window_minutes=s.window_minutes,
                    observed_at=now,
                )
            )
    return out
