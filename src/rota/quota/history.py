"""Limits that no probe reports, learnt from rota's own history: window lengths and per-window
session counts from limit hits, and each arm's share of a probed window from the levels recorded
around its sessions. Pure, no I/O.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Container, Iterable, Mapping, Sequence
from operator import itemgetter

from rota.quota.state import FIT_MIN_UTILIZATION, ArmScopes, LevelKey, QuotaState
from rota.quota.uses import Use

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the select path
if TYPE_CHECKING:
    pass


HISTORY_LIMIT = 1000  # sessions selection reads at most (newest first), whatever the history
LEARN_LOOKBACK_S = 28 * 86400.0  # four weekly windows; older hits teach nothing: limits change
RESET_TOLERANCE_S = 120.0  # reset times parsed from messages are rounded
LEARN_FROM_HITS = 3  # the capacity is the smallest of the last few hits' counts
WINDOW_FROM_RESETS = 12  # a window length is learnt from the newest distinct reset times


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
    distinct = distinct[-WINDOW_FROM_RESETS:]  # the newest: limits change, and the cost is ~n^4
    if len(distinct) < 2:
        return None
    key = tuple(distinct)
    if key not in _WINDOWS:
        if len(_WINDOWS) >= 256:  # a long simulation sees many; a decision, a handful
            _WINDOWS.clear()
        _WINDOWS[key] = _window_of(distinct)
    return _WINDOWS[key]


_WINDOWS: dict[tuple[float, ...], float | None] = {}  # the same hits give the same window


def _window_of(distinct: list[float]) -> float | None:
    gaps = {round(b - a) for i, a in enumerate(distinct) for b in distinct[i + 1 :]}
    # Every reset's distance to every other (the anchor's own is 0), worked out once.
    apart = [[abs(r - anchor) for r in distinct] for anchor in distinct]
    tol = RESET_TOLERANCE_S
    scored: list[tuple[int, float]] = []
    for w in gaps:
        best = 0
        for row in apart:
            n = 0
            for d in row:
                k = round(d / w)
                if abs(d - k * w) <= tol * (k if k > 1 else 1):
                    n += 1
            if n > best:
                best = n
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
    prev: dict[LevelKey, tuple[int, str, bool, float, float | None]] = {}
    out: dict[tuple[str, LevelKey], float] = {}
    for i, u in enumerate(uses):
        for _, arm, key, d in level_differences(prev, i, u, scopes, keys):
            k = (arm, key)
            if k not in out or d < out[k]:
                out[k] = d
    return out


SizeStep = tuple[int, str, LevelKey, float]  # (earlier session's index, its arm, level, use)


def level_differences(
    prev: dict[LevelKey, tuple[int, str, bool, float, float | None]],
    i: int,
    u: Use,
    scopes: Mapping[str, ArmScopes],
    keys: Container[LevelKey] | None = None,
) -> list[SizeStep]:
    """What session u's levels say that the session before it on each level used (see arm_sizes).
    prev: each level's last session so far (its index i, arm, whether refused, level, reset), kept
    up to date here."""
    out: list[SizeStep] = []
    for kind, scope, window, used, resets in u.levels:
        key = (kind, scope, window)
        if keys is not None and key not in keys:
            continue
        before = prev.get(key)
        prev[key] = (i, u.arm, u.limited, used, resets)
        if before is None:
            continue
        j, arm, limited, level, level_resets = before
        d = used - level
        if limited or d <= 1e-6:
            continue  # refused (used nothing), or nothing measurable, or a new window
        if level_resets is not None and resets is not None:
            if abs(resets - level_resets) > RESET_TOLERANCE_S:
                continue  # another window: the difference says nothing
        sc = scopes.get(arm)
        if sc is None or not sc.covers(kind, scope):
            continue  # someone else's use
        out.append((j, arm, key, d))
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
    return kept_out_by_size(arm_sizes(scopes, uses[-SIZE_FROM_SESSIONS:], full), full, now)


def kept_out_by_size(
    sizes: Mapping[tuple[str, LevelKey], float], full: Mapping[LevelKey, QuotaState], now: float
) -> list[QuotaState]:
    """The arms whose least session (arm_sizes) does not fit what a well-used level has left."""
    out: list[QuotaState] = []
    for (arm, key), need in sizes.items():
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


# A Use is a tuple: its fields by position are what the attribute reads, at about half the cost
# (these run over up to HISTORY_LIMIT uses before every decision).
_AT = itemgetter(Use._fields.index("at"))
_LIMITED = itemgetter(Use._fields.index("limited"))


def _in_time_order(uses: Sequence[Use], start: float, end: float) -> list[Use]:
    """The uses from `start` to `end` (inclusive), oldest first. Runs before every decision: the
    common cases (already in time order, or newest first as the store reads them) cost a
    comparison of two lists and two bisections."""
    ats = list(map(_AT, uses))
    if ats != sorted(ats):
        recent = sorted((u for u in uses if start <= u.at <= end), key=_AT)
        return recent
    return list(uses[bisect_left(ats, start) : bisect_right(ats, end)])


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
    recent = _in_time_order(uses, now - lookback_s, now)
    out = too_big_for_levels(scopes, recent, states, now)
    limited = list(filter(_LIMITED, recent))  # in time order, like recent
    if not limited:
        return out
    probed = probed_scopes(states)
    hits_by_key: dict[tuple[str, str], list[Use]] = {}
    silent: dict[tuple[str, str], list[Use]] = {}  # hits that gave no reset time
    for u in limited:
        for key in _hit_keys(u, scopes):
            if key not in probed:
                into = hits_by_key if u.resets_at is not None else silent
                into.setdefault(key, []).append(u)
    for key, quiet in silent.items():
        if key in hits_by_key:
            continue
        members = members_of(scopes, key)
        inferred = silent_limit(key, quiet, [u for u in recent if u.arm in members], now)
        if inferred is not None:
            hits_by_key[key], state = inferred
            if state is not None:
                out.append(state)
    for key, hits in hits_by_key.items():
        w = window_length(h.resets_at for h in hits)  # type: ignore[misc]
        if w is None:
            continue
        members = members_of(scopes, key)
        # When its members ran (and were not refused), in time order like recent. Only for a
        # pool whose window is known: most decisions never need it.
        ran = [u.at for u in recent if not u.limited and u.arm in members]
        out.extend(window_states(key, hits, w, members, ran, 0, len(ran), now))
    current = current_pools(states, now)
    fit: dict[tuple[str, str], float] = {}
    for u in limited:
        entry = fit_entry(u, scopes)
        if entry is not None:
            add_fit(fit, entry, current)
    out.extend(kept_out_by_fit(fit, current, now))
    return out


def probed_scopes(states: Iterable[QuotaState]) -> set[tuple[str, str]]:
    """Scopes a probe reports on: what a hit on them ran out of needs no learning."""
    return {
        (s.scope_kind, s.scope)
        for s in states
        if s.source != "learned" and (s.utilization is not None or s.available is not None)
    }


def members_of(scopes: Mapping[str, ArmScopes], key: tuple[str, str]) -> set[str]:
    return {a for a, sc in scopes.items() if sc.covers(*key)}


def silent_limit(
    key: tuple[str, str], quiet: Sequence[Use], member_uses: Sequence[Use], now: float
) -> tuple[list[Use], QuotaState | None] | None:
    """A limit that never says when it resets: its schedule inferred from its recoveries (then it
    is learnt like one that does: the hits with the inferred resets), and until when it is out
    (its own backoff blocks are short). None when no schedule fits.
    quiet: its hits without a reset time; member_uses: its members' sessions, in time order."""
    found = infer_resets(recoveries(member_uses))
    if found is None:
        return None
    w, phase = found
    hits = [h._replace(resets_at=_next_reset(h.at, w, phase)) for h in quiet]
    last = max(h.at for h in quiet)
    served = any(u.at > last and not u.limited for u in member_uses)
    reset = _next_reset(last, w, phase)
    if served or reset <= now:
        return hits, None
    return hits, QuotaState(
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


def window_states(
    key: tuple[str, str],
    hits: Sequence[Use],
    w: float,
    members: Container[str],
    ran: Sequence[float],
    lo: int,
    hi: int,
    now: float,
) -> list[QuotaState]:
    """How used a learnt window is, and the arms it will refuse now.

    hits: the limit hits on it (with reset times); w: its length; ran: when its members ran and
    were not refused, in time order; only ran[lo:hi] counts."""
    kind, scope = key
    # Per arm that was refused: how many sessions its window had already run. Arms differ in
    # size (opus uses more of a Claude window than sonnet), so one count for the pool would
    # either waste the window's end or keep hitting it.
    counts: dict[str, list[int]] = {}
    for h in hits:
        start = h.resets_at - w  # type: ignore[operator]
        # Sessions in [start, h.at).
        c = bisect_left(ran, h.at, lo, hi) - bisect_left(ran, start, lo, hi)
        if c >= 1:  # a hit on the window's first session says nothing about its size
            counts.setdefault(h.arm, []).append(c)
    caps = {a: min(cs[-LEARN_FROM_HITS:]) for a, cs in counts.items() if a in members}
    if not caps:
        return []
    anchor = max(h.resets_at for h in hits)  # type: ignore[type-var]
    if now < anchor:
        return []  # still in the window that refused: its block covers it
    start = anchor + math.floor((now - anchor) / w) * w
    used = bisect_left(ran, now, lo, hi) - bisect_left(ran, start, lo, hi)
    biggest = max(caps.values())
    # How used the window is (so that pacing sees it as it sees a probed pool) ...
    out = [
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
    ]
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
    return out


def current_pools(states: Iterable[QuotaState], now: float) -> dict[str, QuotaState]:
    """Probed pools with a known use in a current window."""
    return {
        s.scope: s
        for s in states
        if s.scope_kind == "pool"
        and s.source != "learned"
        and s.utilization is not None
        and s.resets_at is not None
        and s.resets_at > now
    }


FitEntry = tuple[tuple[str, ...], str, str, float]  # (pools probes must report, arm, pool, used)


def fit_entry(u: Use, scopes: Mapping[str, ArmScopes]) -> FitEntry | None:
    """What a refusal with room left says about the arm's size, or None: the pool that refused
    (the most used one the hit names or covers), how used it was, and the pools that a probe must
    report for it to count (else the refusal may have been an unseen pool's)."""
    if not (u.resets_at is not None and u.utilization and u.arm in scopes):
        return None
    pools = scopes[u.arm].pools
    blocked = {b.split(":", 1)[1] for b in u.blocked if b.startswith("pool:")}
    if blocked:
        # What the hit blocked (narrowed by the probes): it must name no pool that no probe
        # reports, or the refusal may have been that one's.
        required = tuple(p for p in blocked if p in pools)
        pools = tuple(p for p in pools if p in blocked)
    else:
        required = pools
    cover = [(p, x) for p, x in u.utilization.items() if p in pools]
    if not cover:
        return None
    pool, x = max(cover, key=lambda px: px[1])
    if not FIT_MIN_UTILIZATION <= x < 1.0 - 1e-6:
        return None
    return required, u.arm, pool, x


def add_fit(
    fit: dict[tuple[str, str], float], entry: FitEntry, current: Container[str]
) -> None:
    """Keep (arm, pool) -> the least use at which the pool refused the arm, when every pool the
    refusal needs is probed now and the pool was well used (else the arm cannot be too big)."""
    required, arm, pool, x = entry
    for p in required:
        if p not in current:
            return
    k = (arm, pool)
    fit[k] = min(fit.get(k, 1.0), x)


def kept_out_by_fit(
    fit: Mapping[tuple[str, str], float], current: Mapping[str, QuotaState], now: float
) -> list[QuotaState]:
    """Arms too big for what a probed pool has left: it refused them at this use or less."""
    out = []
    for (arm, pool), x in fit.items():
        s = current.get(pool)
        if s is not None and s.utilization is not None and s.utilization >= x - 1e-6:
            out.append(_arm_kept_out(arm, s, f"{pool} refused {arm} at {x:.0%} used before", now))
    return out
