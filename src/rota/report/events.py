"""Which occurrences are worth a notification, and what makes each one the same occurrence: the
runner, the loop and `rota health` call these; rota.report.notify delivers and deduplicates.

Every function here never raises: a notification must not be the reason a session fails.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rota import journal
from rota.quota.state import Block
from rota.report.notify import Delivery, Notifier

EXHAUSTED = "all_exhausted"
UNHEALTHY = "unhealthy"


def _safe(fn):  # type: ignore[no-untyped-def]
    def wrapper(*args: Any, **kw: Any) -> Any:
        try:
            return fn(*args, **kw)
        except Exception as exc:  # pragma: no cover - a bug here must not cost a session
            journal.log_event("notify", level="warning", error=f"{fn.__name__}: {exc!r}")
            return None

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


@_safe
def session_started(
    n: Notifier, *, session_id: int, category: str, arm: str, background: bool = False
) -> Delivery | None:
    """A session started: announce it; every-arm-exhausted is over. background: return the
    delivery under way (Notifier.finish waits for it) instead of waiting here."""
    n.clear(EXHAUSTED)
    if background:
        return n.begin("session_started", session=session_id, category=category, arm=arm)
    return n.send("session_started", session=session_id, category=category, arm=arm)


@_safe
def session_ended(
    n: Notifier,
    rec: Any,
    *,
    blocks: Sequence[Block] = (),
    auth_problem: str | None = None,
) -> None:
    """A session ended (rec: its SessionRecord). Also: a limit that blocked scopes (once per
    block), a crash streak (once per streak), an authentication failure (once until the harness
    runs well again)."""
    arm = rec.arm_ran or rec.arm
    harness = arm.split(":", 1)[0]
    detail = rec.detail if isinstance(rec.detail, dict) else {}
    duration = None if rec.ended_at is None else round(rec.ended_at - rec.started_at, 1)
    n.send(
        "session_ended",
        session=rec.id,
        category=rec.category,
        arm=rec.arm,
        arm_ran=arm,
        outcome=rec.status,
        grade=rec.reward,
        exit_code=rec.exit_code,
        duration_s=duration,
    )
    limit = detail.get("limit") if isinstance(detail.get("limit"), dict) else None
    if limit is not None and blocks:
        limit_blocked(n, blocks, arm=arm, session_id=rec.id, message=str(limit.get("message", "")))
    streak = detail.get("crash_loop")
    if streak:
        n.raise_once(
            f"crash_streak:{arm}",
            "crash_streak",
            arm=arm,
            streak=streak,
            session=rec.id,
            blocked_until=max((b.until for b in blocks if b.scope == arm), default=None),
        )
    if auth_problem:
        n.raise_once(
            f"auth:{harness}", "auth_failed", harness=harness, arm=arm, session=rec.id,
            reason=auth_problem,
        )  # fmt: skip
    if rec.status == "completed":
        n.clear(f"crash_streak:{arm}")
        n.clear(f"auth:{harness}")


@_safe
def limit_blocked(
    n: Notifier, blocks: Iterable[Block], *, arm: str, session_id: int | None, message: str
) -> None:
    """Scopes blocked by a limit hit: one event for the scopes not blocked already."""
    blocks = list(blocks)
    if not blocks:
        return
    until = max(b.until for b in blocks)
    keys = {f"blocked:{b.scope_kind}:{b.scope}": b for b in blocks}
    new = n.mark(list(keys), "limit_blocked", until)
    if not new:
        return
    n.send(
        "limit_blocked",
        arm=arm,
        session=session_id,
        message=message,
        scopes=[f"{keys[k].scope_kind}:{keys[k].scope}" for k in new],
        until=until,
    )


@_safe
def all_exhausted(n: Notifier, *, category: str, earliest_reset: float | None, why: str) -> None:
    """No arm could run: once, until a session starts again."""
    n.raise_once(EXHAUSTED, EXHAUSTED, category=category, earliest_reset=earliest_reset, why=why)


@_safe
def health(n: Notifier, *, healthy: bool, problems: Sequence[str]) -> None:
    """`rota health` turned unhealthy (once), or healthy again (once, only after unhealthy)."""
    if healthy:
        n.clear(UNHEALTHY, "healthy")
    else:
        n.raise_once(UNHEALTHY, UNHEALTHY, problems=list(problems))
