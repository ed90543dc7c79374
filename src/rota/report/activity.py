"""What the sessions did, binned for charts: each arm's share of sessions, grades with a trend,
probed quota levels, limit hits and blocks. Pure, no I/O; sized for 1 or 100,000 sessions."""

from __future__ import annotations

import bisect
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from rota.quota.state import Block
from rota.quota.uses import levels_from

HOUR = 3600.0
DAY = 86400.0
LONG_BLOCK_S = 12 * HOUR  # a block at least this long is marked on the posterior charts
MAX_QUOTA_POINTS = 400  # per window: the peak of each bin is kept (quota is about peaks)
NOT_RUN = ("running", "abandoned")


@dataclass(frozen=True, slots=True)
class Bin:
    start: float
    end: float
    counts: Mapping[str, int]  # credited arm -> sessions started in the bin

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True, slots=True)
class Grade:
    t: float
    reward: float
    arm: str
    session_id: int


@dataclass(frozen=True, slots=True)
class LimitHit:
    t: float
    until: float | None
    arm: str
    scopes: tuple[str, ...]
    message: str


def credited(rec: object) -> str:
    return str(getattr(rec, "arm_ran", None) or getattr(rec, "arm", ""))


MIN_VIEW_S = 6 * HOUR


def view_start(since: float, until: float, sessions: Sequence[object], blocks: Sequence[Block]):
    """Where the charts start: `since`, or shortly before the first session or block when those
    began later (at least a day before `until`, never before `since`). Nothing: `since`."""
    firsts = [float(getattr(s, "started_at", until)) for s in sessions[:1]]
    firsts += [b.created_at for b in blocks if b.created_at >= since]
    if not firsts:
        return since
    first = min(firsts)
    start = first - 0.05 * (until - first)
    return max(since, min(start, until - MIN_VIEW_S))


def bin_width(since: float, until: float) -> tuple[float, str]:
    """Hourly for two days or less, daily up to nine weeks, weekly beyond."""
    span = until - since
    if span <= 2 * DAY:
        return HOUR, "hour"
    if span <= 63 * DAY:
        return DAY, "day"
    return 7 * DAY, "week"


def _floor_local(ts: float, width: float) -> float:
    """The start of the local hour, day or week (Monday) holding ts."""
    lt = time.localtime(ts)
    if width <= HOUR:
        return time.mktime((*lt[:4], 0, 0, 0, 0, -1))
    start = time.mktime((*lt[:3], 0, 0, 0, 0, 0, -1))
    if width >= 7 * DAY:
        start = time.mktime((lt[0], lt[1], lt[2] - lt[6], 0, 0, 0, 0, 0, -1))
    return start


def _next(start: float, width: float) -> float:
    if width <= HOUR:
        return start + HOUR
    lt = time.localtime(start)
    days = 7 if width >= 7 * DAY else 1
    return time.mktime((lt[0], lt[1], lt[2] + days, 0, 0, 0, 0, 0, -1))  # DST-safe


def shares(sessions: Iterable[object], since: float, until: float) -> list[Bin]:
    """Sessions per credited arm in each local hour, day or week from `since` to `until`."""
    width, _ = bin_width(since, until)
    edges = [_floor_local(since, width)]
    while edges[-1] <= until:
        edges.append(_next(edges[-1], width))
    counts: list[dict[str, int]] = [{} for _ in edges[:-1]]
    for rec in sessions:
        if getattr(rec, "status", "") in NOT_RUN:
            continue
        k = bisect.bisect_right(edges, float(getattr(rec, "started_at", 0.0))) - 1
        if 0 <= k < len(counts):
            arm = credited(rec)
            counts[k][arm] = counts[k].get(arm, 0) + 1
    return [Bin(edges[k], edges[k + 1], c) for k, c in enumerate(counts)]


def grades(sessions: Iterable[object]) -> dict[str, list[Grade]]:
    """category -> graded sessions, oldest first."""
    out: dict[str, list[Grade]] = {}
    for rec in sessions:
        reward = getattr(rec, "reward", None)
        if reward is None:
            continue
        at = getattr(rec, "graded_at", None) or getattr(rec, "ended_at", None)
        at = float(at if at is not None else getattr(rec, "started_at", 0.0))
        g = Grade(at, float(reward), credited(rec), int(getattr(rec, "id", 0)))
        out.setdefault(str(getattr(rec, "category", "")), []).append(g)
    for pts in out.values():
        pts.sort(key=lambda g: g.t)
    return out


def trend(
    points: Sequence[Grade], since: float, until: float, steps: int = 80
) -> list[tuple[float, float | None]]:
    """A centred moving mean of one arm's grades: (t, mean) where at least 3 grades fall within
    a window of an eighth of the period (at least a day), so a trend shows what persists; None
    where fewer do (a gap in the line)."""
    if len(points) < 3:
        return []
    half = max(DAY, (until - since) / 8) / 2
    ts = [p.t for p in points]
    prefix = [0.0]
    for p in points:
        prefix.append(prefix[-1] + p.reward)
    out = []
    lo_t, hi_t = max(since, ts[0]), min(until, ts[-1])
    n = max(2, steps)
    for i in range(n):
        t = lo_t + (hi_t - lo_t) * i / (n - 1) if hi_t > lo_t else lo_t
        a = bisect.bisect_left(ts, t - half)
        b = bisect.bisect_right(ts, t + half)
        # too few grades around t: a gap in the line, not a bridge across it
        out.append((t, (prefix[b] - prefix[a]) / (b - a) if b - a >= 3 else None))
        if hi_t <= lo_t:
            break
    return out


def thin(points: Sequence[Grade], limit: int) -> list[Grade]:
    """At most `limit` points, every k-th one, always keeping the newest (deterministic)."""
    if len(points) <= limit:
        return list(points)
    step = len(points) / limit
    picked = [points[int(i * step)] for i in range(limit)]
    if picked[-1] is not points[-1]:
        picked[-1] = points[-1]
    return picked


def quota_levels(sessions: Iterable[object]) -> dict[tuple[str, str, str], list[tuple]]:
    """(scope_kind, scope, window) -> [(t, used fraction, reset or None)] from the levels each
    session recorded when it started (detail.levels), oldest first."""
    out: dict[tuple[str, str, str], list[tuple]] = {}
    for rec in sessions:
        detail = getattr(rec, "detail", None)
        if not isinstance(detail, Mapping):
            continue
        t = float(getattr(rec, "started_at", 0.0))
        for kind, scope, window, used, reset in levels_from(detail.get("levels")):
            out.setdefault((kind, scope, window), []).append((t, min(1.0, max(0.0, used)), reset))
    for pts in out.values():
        pts.sort(key=lambda p: p[0])
    return out


def peaks(points: Sequence[tuple], since: float, until: float, limit: int = MAX_QUOTA_POINTS):
    """At most `limit` points: the highest level in each of `limit` equal time bins."""
    if len(points) <= limit or until <= since:
        return list(points)
    width = (until - since) / limit
    best: dict[int, tuple] = {}
    for p in points:
        k = int((p[0] - since) // width)
        if k not in best or p[1] > best[k][1]:
            best[k] = p
    return [best[k] for k in sorted(best)]


def limit_hits(sessions: Iterable[object], blocks: Sequence[Block]) -> list[LimitHit]:
    """Rate-limited sessions, each with the time its block ran to (from the limit's reset, else
    the block it created)."""
    out = []
    for rec in sessions:
        if getattr(rec, "status", "") != "rate_limited":
            continue
        detail = getattr(rec, "detail", None) or {}
        limit = detail.get("limit") if isinstance(detail, Mapping) else None
        limit = limit if isinstance(limit, Mapping) else {}
        t = float(getattr(rec, "ended_at", None) or getattr(rec, "started_at", 0.0))
        raw = limit.get("scopes")
        scopes = tuple(s for s in raw if isinstance(s, str)) if isinstance(raw, list) else ()
        until = limit.get("resets_at")
        until = float(until) if isinstance(until, (int, float)) else None
        if until is None:
            # the block this hit created: same scope, created when the session ended
            for b in blocks:
                if f"{b.scope_kind}:{b.scope}" in scopes and abs(b.created_at - t) < 5:
                    until = b.until
                    break
        msg = limit.get("message")
        out.append(LimitHit(t, until, credited(rec), scopes, str(msg) if msg else "limit"))
    return out


def related_blocks(
    scope_kind: str, scope: str, blocks: Iterable[Block], pools: Mapping[str, object]
) -> list[Block]:
    """The blocks that keep a probed window's arms out: on the scope itself, or (for a pool) on
    a harness or arm it covers, or (for a harness) on one of its arms."""
    harnesses: set[str] = set()
    arms: set[str] = set()
    if scope_kind == "pool" and scope in pools:
        harnesses = set(getattr(pools[scope], "harnesses", ()))
        arms = set(getattr(pools[scope], "arms", ()))
    elif scope_kind == "harness":
        harnesses = {scope}
    out = []
    for b in blocks:
        if (b.scope_kind, b.scope) == (scope_kind, scope):
            out.append(b)
        elif b.scope_kind == "harness" and b.scope in harnesses:
            out.append(b)
        elif b.scope_kind == "arm" and (b.scope in arms or b.scope.split(":", 1)[0] in harnesses):
            out.append(b)
    return out


def long_blocks(blocks: Iterable[Block], since: float, until: float) -> list[Block]:
    return [
        b
        for b in blocks
        if b.until - b.created_at >= LONG_BLOCK_S and b.created_at <= until and b.until >= since
    ]


def session_cost(rec: object, costs: Mapping[str, float]) -> float | None:
    """The configured cost of the arm that ran, for a session that ran (None if not configured)."""
    if getattr(rec, "status", "") in ("running", "abandoned", "rate_limited"):
        return 0.0 if getattr(rec, "status", "") == "rate_limited" else None
    return costs.get(credited(rec))
