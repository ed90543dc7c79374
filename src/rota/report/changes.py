"""What changed since the last report, in sentences: shares that moved and why, grades that
shifted, new arms, blocks, crashes. Pure, no I/O (the last report's time is passed in)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from rota.quota.state import Block
from rota.report.activity import credited
from rota.report.posteriors import Event
from rota.timefmt import human_duration

DAY = 86400.0
FIRST_PERIOD_S = 7 * DAY  # without an earlier report: the last week against the one before
MIN_PERIOD_S = DAY
MAX_PERIOD_S = 28 * DAY
MIN_SESSIONS = 5  # per period, before shares are compared
SHARE_POINTS = 10.0  # a share move smaller than this (percentage points) is not news
GRADE_DELTA = 0.08
MIN_GRADES = 5
CRASHES = ("crashed", "timed_out")
NOT_RUN = ("running", "abandoned")


@dataclass(frozen=True, slots=True)
class Periods:
    prev_start: float
    start: float  # the current period: start .. now
    now: float
    first: bool  # no earlier report

    @property
    def label(self) -> str:
        if self.first:
            return (
                f"in the last {human_duration(self.now - self.start)}, against the "
                f"{human_duration(self.start - self.prev_start)} before (no earlier report)"
            )
        return (
            f"since the last report ({day(self.start)}), against the "
            f"{human_duration(self.start - self.prev_start)} before it"
        )


@dataclass(frozen=True, slots=True)
class Change:
    kind: str  # share, new_arm, grade, blocks, crashes, quiet
    arm: str
    text: str
    t: float | None = None


def periods(last_report: float | None, now: float) -> Periods:
    if last_report is None or last_report >= now:
        length = FIRST_PERIOD_S
        return Periods(now - 2 * length, now - length, now, True)
    length = min(MAX_PERIOD_S, max(MIN_PERIOD_S, now - last_report))
    return Periods(now - 2 * length, now - length, now, False)


def day(ts: float) -> str:
    return time.strftime("%b %-d", time.localtime(ts))


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _pct(x: float) -> str:
    return f"{x:.0f}%"


def changes(
    sessions: Iterable[object],
    events: Sequence[Event],
    blocks: Sequence[Block],
    p: Periods,
) -> list[Change]:
    runs: dict[str, list[object]] = {"prev": [], "cur": []}
    for rec in sessions:
        t = float(getattr(rec, "started_at", 0.0))
        if getattr(rec, "status", "") in NOT_RUN or not p.prev_start <= t <= p.now:
            continue
        runs["cur" if t >= p.start else "prev"].append(rec)
    share = {k: _shares(v) for k, v in runs.items()}
    grade = {k: _mean_grades(v) for k, v in runs.items()}
    n_prev, n_cur = len(runs["prev"]), len(runs["cur"])
    out: list[Change] = []

    new_arms = {e.arm: e.t for e in events if e.kind == "new_arm" and e.t >= p.prev_start}
    if n_prev >= MIN_SESSIONS and n_cur >= MIN_SESSIONS:
        arms = sorted(set(share["prev"]) | set(share["cur"]))
        moves = []
        for arm in arms:
            before, after = share["prev"].get(arm, 0.0), share["cur"].get(arm, 0.0)
            if abs(after - before) >= SHARE_POINTS:
                moves.append((after - before, arm, before, after))
        for delta, arm, before, after in sorted(moves, key=lambda m: m[0]):
            verb = "lost" if delta < 0 else "gained"
            why = _why(arm, delta < 0, events, blocks, grade, new_arms, p)
            text = (
                f"{arm} {verb} {abs(delta):.0f} points of share ({_pct(before)} → {_pct(after)} "
                f"of sessions){why}."
            )
            out.append(Change("share", arm, text))
    moved = {c.arm for c in out if c.kind == "share"}
    for arm, t in sorted(new_arms.items(), key=lambda kv: kv[1]):
        if arm in moved:
            continue  # its share sentence says it is new
        count = sum(1 for r in runs["cur"] if credited(r) == arm)
        out.append(
            Change(
                "new_arm",
                arm,
                f"{arm} ran for the first time on {day(t)} ({plural(count, 'session')} in this "
                "period).",
                t,
            )
        )
    for arm in sorted(set(grade["prev"]) & set(grade["cur"])):
        (g0, k0), (g1, k1) = grade["prev"][arm], grade["cur"][arm]
        if arm in moved or k0 < MIN_GRADES or k1 < MIN_GRADES or abs(g1 - g0) < GRADE_DELTA:
            continue
        verb = "fell" if g1 < g0 else "rose"
        out.append(
            Change(
                "grade",
                arm,
                f"{arm}'s mean grade {verb} from {g0:.2f} to {g1:.2f} ({k1} graded sessions).",
            )
        )

    in_period = [b for b in blocks if p.start <= b.created_at <= p.now]
    by_scope: dict[str, list[Block]] = {}
    for b in in_period:
        by_scope.setdefault(f"{b.scope_kind} {b.scope}", []).append(b)
    # Scopes blocked by the same hits (a harness and its pool) make one sentence.
    groups: dict[tuple, list[str]] = {}
    for scope, bs in by_scope.items():
        key = tuple(sorted((round(b.created_at), round(b.until)) for b in bs))
        groups.setdefault(key, []).append(scope)
    for _key, scopes in sorted(groups.items(), key=lambda kv: -len(kv[0])):
        bs = by_scope[scopes[0]]
        longest = max(bs, key=lambda b: b.until - b.created_at)
        times = "once" if len(bs) == 1 else f"{len(bs)} times"
        reason = f": {longest.reason}" if longest.reason else ""
        names = " and ".join(sorted(scopes))
        verb = "was" if len(scopes) == 1 else "were"
        out.append(
            Change(
                "blocks",
                names,
                f"{names} {verb} blocked {times} (longest "
                f"{human_duration(longest.until - longest.created_at)} from "
                f"{day(longest.created_at)}{reason}).",
                longest.created_at,
            )
        )

    crashes = {k: _count(v, CRASHES) for k, v in runs.items()}
    rising = [
        (n, arm, crashes["prev"].get(arm, 0))
        for arm, n in crashes["cur"].items()
        if n >= 3 and n >= 2 * crashes["prev"].get(arm, 0)
    ]
    if rising:
        parts = [f"{arm} {n} times (before: {b})" for n, arm, b in sorted(rising, reverse=True)]
        out.append(
            Change(
                "crashes",
                ", ".join(a for _, a, _ in rising),
                "More sessions crashed or timed out: " + "; ".join(parts) + ".",
            )
        )
    if not out:
        if n_cur == 0:
            text = "No sessions ran in this period."
        else:
            text = (
                f"Nothing notable: {plural(n_cur, 'session')}; no share moved by "
                f"{SHARE_POINTS:.0f} points or more, no new arm, no block."
            )
        out.append(Change("quiet", "", text))
    return out


def _shares(recs: Sequence[object]) -> dict[str, float]:
    counts: dict[str, int] = {}
    for r in recs:
        counts[credited(r)] = counts.get(credited(r), 0) + 1
    total = sum(counts.values()) or 1
    return {a: 100.0 * c / total for a, c in counts.items()}


def _mean_grades(recs: Sequence[object]) -> dict[str, tuple[float, int]]:
    acc: dict[str, list[float]] = {}
    for r in recs:
        g = getattr(r, "reward", None)
        if g is not None:
            acc.setdefault(credited(r), []).append(float(g))
    return {a: (sum(v) / len(v), len(v)) for a, v in acc.items()}


def _count(recs: Sequence[object], states: tuple[str, ...]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in recs:
        if getattr(r, "status", "") in states:
            out[credited(r)] = out.get(credited(r), 0) + 1
    return out


def _why(
    arm: str,
    lost: bool,
    events: Sequence[Event],
    blocks: Sequence[Block],
    grade: Mapping[str, Mapping[str, tuple[float, int]]],
    new_arms: Mapping[str, float],
    p: Periods,
) -> str:
    """The likeliest reason a share moved, from what the report knows."""
    if not lost and arm in new_arms:
        return f" as a new arm (its first session on {day(new_arms[arm])})"
    shift = [e for e in events if e.kind == "change" and e.arm == arm and e.t >= p.prev_start]
    g0, g1 = grade["prev"].get(arm), grade["cur"].get(arm)
    dropped = g0 is not None and g1 is not None and g1[0] < g0[0]
    if shift and dropped == lost:
        return f" after its grades {'dropped' if lost else 'rose'} on {day(shift[0].t)}"
    if g0 and g1 and abs(g1[0] - g0[0]) >= GRADE_DELTA / 2 and dropped == lost:
        return f" as its mean grade {'fell' if lost else 'rose'} from {g0[0]:.2f} to {g1[0]:.2f}"
    harness = arm.split(":", 1)[0]
    mine = [
        b
        for b in blocks
        if b.created_at >= p.start
        and (
            (b.scope_kind == "arm" and b.scope == arm)
            or (b.scope_kind == "harness" and b.scope == harness)
        )
    ]
    if lost and mine:
        total = sum(min(b.until, p.now) - b.created_at for b in mine)
        return f" while it was blocked for {human_duration(total)} in all"
    if lost:
        newcomers = [a for a, t in new_arms.items() if a != arm]
        if newcomers:
            return f" as {newcomers[0]} (new on {day(new_arms[newcomers[0]])}) took sessions"
    return ""
