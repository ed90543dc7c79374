"""Quota states, blocks, and the pure helpers that turn them into per-arm availability.

A *scope* says what a quota state or a block covers: a whole harness, a named pool (which may span
harnesses or name single arms), or one arm. Probes (rota.harnesses) produce QuotaState; the runner
and `rota block` produce Block. Nothing here does I/O.
"""

from __future__ import annotations

import math
from collections.abc import Container, Iterable, Mapping, Sequence

from rota.records import record

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the select path
if TYPE_CHECKING:
    from typing import Any

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


BACKOFF_BASE_S = 3600.0  # longer than a 30-minute timer's gap, so the first block skips a run
BACKOFF_CAP_S = 24 * 3600.0  # a multi-day outage costs about one session a day


def backoff_seconds(hits: int, base: float = BACKOFF_BASE_S, cap: float = BACKOFF_CAP_S) -> float:
    """Block length after `hits` consecutive limit hits that gave no reset time: 1 h, doubling."""
    return min(cap, base * (2 ** max(0, hits - 1)))


def block_after_limit(
    scope_kind: str,
    scope: str,
    *,
    resets_at: float | None,
    now: float,
    previous: Block | None,
    reason: str,
    base_s: float = BACKOFF_BASE_S,
    cap_s: float = BACKOFF_CAP_S,
) -> Block:
    """The block a limit hit (or an outage) creates on what it covers.

    With a known reset time the scope is blocked until then. Without one, the block grows with
    consecutive hits (1 h, 2 h, 4 h … capped at a day) so that an outage costs a bounded number of
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


RESET_MATCH_S = 900.0  # a reset time in an error "matches" a probed window's reset this closely


def narrow_limit_scopes(
    scopes: Sequence[tuple[str, str]],
    arm: ArmScopes,
    states: Iterable[QuotaState],
    now: float,
    *,
    resets_at: float | None = None,
    harness_pools: Iterable[str] = (),
) -> list[tuple[str, str]]:
    """A limit hit's guessed scopes, narrowed by what the probes said just before the session.

    A message that does not name its limit is taken to cover the harness and every pool of the
    arm. The probes often know better:
    - the reset time in the error is the reset of exactly one probed pool: that pool refused (the
      session itself may have used what the probe still saw); the other probed pools did not;
    - it is no probed pool's reset, and a pool no probe reports covers the arm: that one refused;
    - without a usable reset, a probed pool well under its limit did not refuse.
    The harness is dropped with the probed pools that cover all of it (an Opus weekly pool does
    not stop Sonnet). harness_pools: the arm's pools that cover its whole harness.
    """
    probed: dict[str, QuotaState] = {}
    for s in states:
        if (
            s.scope_kind == "pool"
            and s.scope in arm.pools
            and s.source != "learned"
            and s.utilization is not None
            and (s.resets_at is None or s.resets_at > now)
        ):
            probed[s.scope] = s
    if not probed:
        return list(scopes)
    wide = set(harness_pools)
    unprobed = [p for p in arm.pools if p not in probed]

    def without(drop: set[str]) -> list[tuple[str, str]]:
        kept_wide = wide - drop
        out = [
            (kind, scope)
            for kind, scope in scopes
            if not (kind == "pool" and scope in drop)
            and not (kind == "harness" and scope == arm.harness and drop & wide and not kept_wide)
        ]
        return out or list(scopes)

    if resets_at is not None:
        matches = [
            p
            for p, s in probed.items()
            if s.resets_at is not None and abs(s.resets_at - resets_at) <= RESET_MATCH_S
        ]
        if len(matches) == 1:
            # That pool refused; no other pool of the arm did (probed or not).
            return without(set(arm.pools) - {matches[0]})
        if not matches and unprobed:
            return without(set(probed))
    roomy = {
        p
        for p, s in probed.items()
        if s.available is not False and (s.utilization or 0.0) < FIT_MIN_UTILIZATION
    }
    if roomy and unprobed:
        return without(roomy)
    return list(scopes)


# ---------------------------------------------------------------------------------------------
# What rota learns from its own limit hits, where no probe can see.


LevelKey = tuple[str, str, str]  # (scope_kind, scope, window) of a probed quota level
# One probed level as recorded with a session: (scope_kind, scope, window, used fraction, reset).
Level = tuple[str, str, str, float, float | None]


@record
class Use:
    """One session on the record, as quota learning (and change detection) sees it."""

    arm: str  # the arm that ran (or was refused)
    at: float  # when it started, epoch seconds
    limited: bool = False  # it stopped on a limit
    resets_at: float | None = None  # the reset time the limit gave
    blocked: tuple[str, ...] = ()  # "kind:scope" pairs the hit blocked (detail["limit"]["scopes"])
    utilization: Mapping[str, float] | None = None  # probed pool -> used fraction before it ran
    category: str = ""
    reward: float | None = None  # the grade, when graded
    graded_at: float | None = None  # the observation time the posterior update used
    # Every probed quota level just before it ran: (scope_kind, scope, window, used fraction,
    # reset time or None). The next session's levels show what this one used (arm_sizes).
    levels: tuple[Level, ...] = ()


HISTORY_LIMIT = 1000  # sessions selection reads at most (newest first), whatever the history
LEARN_LOOKBACK_S = 28 * 86400.0  # four weekly windows; older hits teach nothing: limits change
RESET_TOLERANCE_S = 120.0  # reset times parsed from messages are rounded
LEARN_FROM_HITS = 3  # the capacity is the smallest of the last few hits' counts
FIT_MIN_UTILIZATION = 0.5  # less used than this, a refusal is not about an arm's size
_LIMITED = "rate_limited"
_NOT_RUN = ("running", "abandoned", "interrupted")


def uses_from_sessions(records: Iterable[object]) -> list[Use]:
    """Use records from store SessionRecords (duck-typed: no store import on the select path)."""
    out: list[Use] = []
    for r in records:
        status = getattr(r, "status", "")
        if status in _NOT_RUN:
            continue
        detail = getattr(r, "detail", None) or {}
        limit = detail.get("limit") if isinstance(detail, Mapping) else None
        limit = limit if isinstance(limit, Mapping) else {}
        resets = limit.get("resets_at")
        util = detail.get("utilization") if isinstance(detail, Mapping) else None
        arm = getattr(r, "arm_ran", None) or getattr(r, "arm", "")
        out.append(
            Use(
                arm=str(arm),
                at=float(getattr(r, "started_at", 0.0) or 0.0),
                limited=status == _LIMITED,
                resets_at=float(resets) if isinstance(resets, (int, float)) else None,
                blocked=tuple(str(x) for x in limit.get("scopes", ()) or ()),
                utilization=util if isinstance(util, Mapping) else None,
                category=str(getattr(r, "category", "") or ""),
                reward=getattr(r, "reward", None),
                graded_at=getattr(r, "graded_at", None),
                levels=levels_from(detail.get("levels") if isinstance(detail, Mapping) else None),
            )
        )
    return out


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


def levels_from(raw: object) -> tuple[Level, ...]:
    """detail["levels"] as recorded by the runner; anything malformed is left out, not fatal."""
    if type(raw) is not list:
        return ()
    out = []
    for item in raw:
        if type(item) is not list or len(item) != 5:
            continue
        kind, scope, window, used, resets = item
        if type(kind) is not str or type(scope) is not str or type(window) is not str:
            continue
        if type(used) not in (int, float) or (
            resets is not None and type(resets) not in (int, float)
        ):
            continue
        out.append((kind, scope, window, float(used), None if resets is None else float(resets)))
    return tuple(out)


def uses_from_rows(rows: Iterable[Sequence[Any]]) -> list[Use]:
    """Use records from lean session rows (arm that ran, status, started_at, category, reward,
    graded_at, detail JSON text or None), as Store.recent_uses reads them. Runs before every
    decision: the store sends a detail only for limit hits and the newest few sessions."""
    import json

    out: list[Use] = []
    append = out.append
    for arm, status, started_at, category, reward, graded_at, text in rows:
        if not text:  # the common case: a plain finished session
            append(
                Use(
                    arm,
                    started_at,
                    status == _LIMITED,
                    None,
                    (),
                    None,
                    category or "",
                    reward,
                    graded_at,
                )
            )
            continue
        limit: Any = None
        util: Any = None
        levels: Any = None
        if '"limit"' in text or '"utilization"' in text or '"levels"' in text:
            try:
                detail = json.loads(text)
            except ValueError:
                detail = None
            if type(detail) is dict:
                limit = detail.get("limit")
                util = detail.get("utilization")
                levels = detail.get("levels")
        if type(limit) is not dict:
            limit = {}
        resets = limit.get("resets_at")
        append(
            Use(
                arm,
                float(started_at),
                status == _LIMITED,
                float(resets) if type(resets) in (int, float) else None,
                tuple(str(x) for x in limit.get("scopes") or ()),
                util if type(util) is dict and util else None,
                category or "",
                None if reward is None else float(reward),
                None if graded_at is None else float(graded_at),
                levels_from(levels) if levels else (),
            )
        )
    return out


def window_length(resets: Iterable[float]) -> float | None:
    """The length of a fixed window implied by the reset times of hits on it, or None.

    Resets of one fixed-window pool are whole windows apart. Every gap between two resets is a
    candidate; the one that puts the most resets on one schedule wins (a stray reset from another
    window does not spoil it), provided at least two agree and no other length does as well.
    """
    distinct: list[float] = []
    for r in sorted(resets):
        if not distinct or r - distinct[-1] > RESET_TOLERANCE_S:
            distinct.append(r)
    if len(distinct) < 2:
        return None
    gaps = {round(b - a) for i, a in enumerate(distinct) for b in distinct[i + 1 :]}
    scored: list[tuple[int, float]] = []
    for w in gaps:
        best = 0
        for anchor in distinct:
            n = 0
            for r in distinct:
                k = round(abs(r - anchor) / w)
                if abs(abs(r - anchor) - k * w) <= RESET_TOLERANCE_S * max(1, k):
                    n += 1
            best = max(best, n)
        scored.append((best, w))
    top = max(n for n, _ in scored)
    winners = sorted(w for n, w in scored if n == top)
    if top < 2:
        return None
    # A schedule also fits every multiple of its window: the smallest winner is the window, as
    # long as the others are its multiples (else two unrelated schedules tie: no guess).
    w = winners[0]
    if any(abs(x / w - round(x / w)) * w > RESET_TOLERANCE_S * round(x / w) for x in winners):
        return None
    return float(w)


# Quota windows seen in the wild, for limits that never say when they reset (minutes).
CANDIDATE_WINDOWS_MIN = (60, 120, 180, 240, 300, 360, 480, 720, 1440, 10080)
MIN_RECOVERIES = 3  # recoveries that must agree before a reset time is inferred


def recoveries(uses: Sequence[Use]) -> list[tuple[float, float]]:
    """(last refusal, first success) around each run of limit hits that gave no reset time."""
    out: list[tuple[float, float]] = []
    last_fail: float | None = None
    for u in uses:
        if u.limited and u.resets_at is None:
            last_fail = u.at
        elif not u.limited and last_fail is not None:
            out.append((last_fail, u.at))
            last_fail = None
    return out


def infer_resets(episodes: Sequence[tuple[float, float]]) -> tuple[float, float] | None:
    """(window, one reset time) for a limit that never says when it resets, or None.

    Each recovery brackets a reset: after the last refusal, by the first success. The longest
    usual window length for which every bracket contains a reset of one fixed schedule wins (a
    daily quota also fits a 12-hour schedule; a 48-hour one would not fit consecutive days). The
    reset is put at the end of the common part: by then every bracket agrees it has happened.
    """
    if len(episodes) < MIN_RECOVERIES:
        return None
    for minutes in sorted(CANDIDATE_WINDOWS_MIN, reverse=True):
        w = minutes * 60.0
        arcs = [(lo % w, hi - lo) for lo, hi in episodes if hi - lo < w / 2]
        if len(arcs) < MIN_RECOVERIES:
            continue
        # The common part starts at one bracket's start, inside every bracket.
        for start, _ in arcs:
            if all((start - a) % w <= n for a, n in arcs):
                end = min((a + n - start) % w for a, n in arcs)
                return w, start + end
    return None


def _next_reset(at: float, w: float, phase: float) -> float:
    return phase + (math.floor((at - phase) / w) + 1) * w


def _hit_keys(u: Use, scopes: Mapping[str, ArmScopes]) -> list[tuple[str, str]]:
    """What a hit ran out of: the pools it blocked (the user declared them), else what it blocked."""
    blocked = [tuple(b.split(":", 1)) for b in u.blocked if ":" in b]
    pools = [(k, s) for k, s in blocked if k == "pool"]
    if pools or blocked:
        return pools or blocked  # type: ignore[return-value]
    sc = scopes.get(u.arm)
    if sc is None:
        return []
    return [("pool", p) for p in sc.pools] or [("harness", sc.harness)]


SIZE_FROM_SESSIONS = 100  # the latest sessions arm sizes are measured on (sizes change with models)


def arm_sizes(
    scopes: Mapping[str, ArmScopes],
    uses: Sequence[Use],
    keys: Container[LevelKey] | None = None,
) -> dict[tuple[str, LevelKey], float]:
    """(arm, level) -> the least share of a probed level that one session of the arm was seen to use.

    A session's use shows in the levels the next session recorded: the same window (the same reset
    time), and higher. The least of those differences is what the arm needs at the very least;
    sessions vary, and other use of the subscription meanwhile only makes a difference larger.
    uses: oldest first. keys: only these levels (all when None).
    """
    prev: dict[LevelKey, tuple[str, bool, float, float | None]] = {}
    out: dict[tuple[str, LevelKey], float] = {}
    for u in uses:
        for kind, scope, window, used, resets in u.levels:
            key = (kind, scope, window)
            if keys is not None and key not in keys:
                continue
            before = prev.get(key)
            prev[key] = (u.arm, u.limited, used, resets)
            if before is None:
                continue
            arm, limited, level, level_resets = before
            d = used - level
            if limited or d <= 1e-6:
                continue  # refused (used nothing), or nothing measurable, or a new window
            if level_resets is not None and resets is not None:
                if abs(resets - level_resets) > RESET_TOLERANCE_S:
                    continue  # another window: the difference says nothing
            sc = scopes.get(arm)
            if sc is None or not sc.covers(kind, scope):
                continue  # someone else's use
            k = (arm, key)
            if k not in out or d < out[k]:
                out[k] = d
    return out


def too_big_for_levels(
    scopes: Mapping[str, ArmScopes], uses: Sequence[Use], states: Sequence[QuotaState], now: float
) -> list[QuotaState]:
    """Arms that a probed level has no room for: used + what one of its sessions needs > 100%.

    Without this, the first session that does not fit is wasted before rota learns anything. Only
    levels at least FIT_MIN_UTILIZATION used are considered: below that, any arm seen so far fits.
    """
    full = well_used_levels(states, now)
    if not full:
        return []
    out: list[QuotaState] = []
    for (arm, key), need in arm_sizes(scopes, uses[-SIZE_FROM_SESSIONS:], full).items():
        s = full.get(key)
        if s is None or s.utilization is None or s.utilization + need <= 1.0 + 1e-6:
            continue
        label = f"{key[0]} {key[1]}" + (f" {key[2]}" if key[2] else "")
        reason = (
            f"{label} is {s.utilization:.0%} used; a session of {arm} has needed at least "
            f"{need:.0%} (learnt from the levels probed around its sessions)"
        )
        out.append(_arm_kept_out(arm, s, reason, now))
    return out


def well_used_levels(states: Iterable[QuotaState], now: float) -> dict[LevelKey, QuotaState]:
    """Probed levels (not learnt ones) at least FIT_MIN_UTILIZATION used, in a current window:
    the only ones an arm may be too big for, and the only reason to read recorded levels."""
    return {
        (s.scope_kind, s.scope, s.window): s
        for s in states
        if s.source != "learned"
        and s.utilization is not None
        and s.utilization >= FIT_MIN_UTILIZATION
        and (s.resets_at is None or s.resets_at > now)
    }


def _arm_kept_out(arm: str, level: QuotaState, reason: str, now: float) -> QuotaState:
    """An arm exhausted until `level`'s window resets: it does not fit what the window has left."""
    return QuotaState(
        scope_kind="arm",
        scope=arm,
        window=level.window,
        available=False,
        utilization=level.utilization,
        resets_at=level.resets_at,
        source="learned",
        reason=reason,
        window_minutes=level.window_minutes,
        observed_at=now,
    )


def learned_states(
    scopes: Mapping[str, ArmScopes],
    uses: Sequence[Use],
    states: Sequence[QuotaState],
    now: float,
    *,
    lookback_s: float = LEARN_LOOKBACK_S,
) -> list[QuotaState]:
    """Exhaustion that rota predicts from its own limit hits (source "learned").

    - What a hit ran out of, when no probe reports it: from earlier hits with a reset time, learn
      the window length and how many sessions a window allowed before it refused one; once the
      current window has had as many, it is exhausted until its reset. One session is wasted while
      learning, then none, instead of one per window.
    - A probed pool that refused an arm while it still had room (the arm needs more than was
      left): that arm is exhausted whenever the pool is at least as used again.
    scopes: every configured arm -> its ArmScopes. uses: recent sessions, any order.
    """
    recent = [u for u in uses if now - u.at <= lookback_s and u.at <= now]
    if any(a.at > b.at for a, b in zip(recent, recent[1:], strict=False)):
        recent.sort(key=lambda u: u.at)
    out = too_big_for_levels(scopes, recent, states, now)
    if not any(u.limited for u in recent):
        return out
    probed = {
        (s.scope_kind, s.scope)
        for s in states
        if s.source != "learned" and (s.utilization is not None or s.available is not None)
    }
    hits_by_key: dict[tuple[str, str], list[Use]] = {}
    silent: dict[tuple[str, str], list[Use]] = {}  # hits that gave no reset time
    for u in recent:
        if u.limited:
            for key in _hit_keys(u, scopes):
                if key not in probed:
                    into = hits_by_key if u.resets_at is not None else silent
                    into.setdefault(key, []).append(u)

    # A limit that never says when it resets: infer its schedule from its recoveries, then learn
    # it like one that does. Its own backoff blocks are short, so say until when it is out.
    for key, quiet in silent.items():
        if key in hits_by_key:
            continue
        members = {a for a, sc in scopes.items() if sc.covers(*key)}
        found = infer_resets(recoveries([u for u in recent if u.arm in members]))
        if found is None:
            continue
        w, phase = found
        hits_by_key[key] = [h._replace(resets_at=_next_reset(h.at, w, phase)) for h in quiet]
        last = max(h.at for h in quiet)
        served = any(u.at > last and not u.limited and u.arm in members for u in recent)
        reset = _next_reset(last, w, phase)
        if not served and reset > now:
            out.append(
                QuotaState(
                    scope_kind=key[0],
                    scope=key[1],
                    window="learned",
                    available=False,
                    utilization=1.0,
                    resets_at=reset,
                    source="learned",
                    reason="refused; it has reset on this schedule before (learnt, no reset given)",
                    window_minutes=w / 60.0,
                    observed_at=now,
                )
            )

    for (kind, scope), hits in hits_by_key.items():
        w = window_length(h.resets_at for h in hits)  # type: ignore[misc]
        if w is None:
            continue
        members = {a for a, sc in scopes.items() if sc.covers(kind, scope)}
        ran = [u.at for u in recent if not u.limited and u.arm in members]
        # Per arm that was refused: how many sessions its window had already run. Arms differ in
        # size (opus uses more of a Claude window than sonnet), so one count for the pool would
        # either waste the window's end or keep hitting it.
        counts: dict[str, list[int]] = {}
        for h in hits:
            start = h.resets_at - w  # type: ignore[operator]
            c = sum(1 for t in ran if start <= t < h.at)
            if c >= 1:  # a hit on the window's first session says nothing about its size
                counts.setdefault(h.arm, []).append(c)
        caps = {a: min(cs[-LEARN_FROM_HITS:]) for a, cs in counts.items() if a in members}
        if not caps:
            continue
        anchor = max(h.resets_at for h in hits)  # type: ignore[type-var]
        if now < anchor:
            continue  # still in the window that refused: its block covers it
        start = anchor + math.floor((now - anchor) / w) * w
        used = sum(1 for t in ran if start <= t < now)
        biggest = max(caps.values())
        # How used the window is (so that pacing sees it as it sees a probed pool) ...
        out.append(
            QuotaState(
                scope_kind=kind,
                scope=scope,
                window="learned",
                available=True if used < biggest else None,
                utilization=min(1.0, used / biggest),
                resets_at=start + w,
                source="learned",
                reason=f"{used} of about {biggest} sessions this window (learnt from its limit hits)",
                window_minutes=w / 60.0,
                observed_at=now,
            )
        )
        # ... and the arms it will refuse now.
        for arm, cap in caps.items():
            if used >= cap:
                out.append(
                    QuotaState(
                        scope_kind="arm",
                        scope=arm,
                        window="learned",
                        available=False,
                        utilization=min(1.0, used / biggest),
                        resets_at=start + w,
                        source="learned",
                        reason=f"{kind} {scope}: {used} sessions this window; it refused "
                        f"{arm} after {cap} before",
                        window_minutes=w / 60.0,
                        observed_at=now,
                    )
                )

    # Arms too big for what a probed pool has left. Only when every pool covering the arm is probed
    # (else the hit may have been an unseen one's) and the pool was well used (else the arm
    # cannot be too big for what was left).
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
        pools = scopes[u.arm].pools
        blocked = {b.split(":", 1)[1] for b in u.blocked if b.startswith("pool:")}
        if blocked:
            # What the hit blocked (narrowed by the probes): it must name no pool that no probe
            # reports, or the refusal may have been that one's.
            if any(p not in current for p in blocked if p in pools):
                continue
            pools = tuple(p for p in pools if p in blocked)
        elif any(p not in current for p in pools):
            continue
        cover = [(p, x) for p, x in u.utilization.items() if p in pools]
        if not cover:
            continue
        pool, x = max(cover, key=lambda px: px[1])
        if FIT_MIN_UTILIZATION <= x < 1.0 - 1e-6:
            fit[(u.arm, pool)] = min(fit.get((u.arm, pool), 1.0), x)
    for (arm, pool), x in fit.items():
        s = current.get(pool)
        if s is not None and s.utilization is not None and s.utilization >= x - 1e-6:
            out.append(_arm_kept_out(arm, s, f"{pool} refused {arm} at {x:.0%} used before", now))
    return out
