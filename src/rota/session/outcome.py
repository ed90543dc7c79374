"""What a finished session means, as pure rules (no I/O): its outcome state (with the limit hit or
infrastructure failure behind it), the arm to credit, the probed levels to record with it, and the
blocks a limit hit or a crash loop creates (an infrastructure failure's: rota.session.infra).

The runner (rota.session.interpret) gathers the inputs from the store; the simulator
(rota.simulate.rota_policy) passes its own. Both get the same blocks from the same hit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rota.harnesses.base import InfraFailure, LimitHit
from rota.quota.limits import block_after_limit, narrow_limit_scopes
from rota.quota.state import Block, QuotaState, levels_of, pool_use
from rota.store.base import (
    ABANDONED,
    COMPLETED,
    CRASHED,
    INTERRUPTED,
    RATE_LIMITED,
    RUNNING,
    TIMED_OUT,
    UNAVAILABLE,
    SessionRecord,
)

if TYPE_CHECKING:
    from rota.config import Config
    from rota.harnesses.base import HarnessProfile, SessionOutput
    from rota.session.execute import ProcessResult

Scope = tuple[str, str]  # (scope_kind, scope)

CRASH_STATES = (CRASHED, TIMED_OUT)  # what counts toward [health] crash_streak
# neither break nor extend a crash streak
NEUTRAL_STATES = (ABANDONED, INTERRUPTED, RUNNING, UNAVAILABLE)
GRADED_STATES = (COMPLETED, CRASHED, TIMED_OUT)
SEEN_MAX_AGE_S = 3600.0  # probe answers older than this before a hit say nothing about it
CRASH_LOOKBACK = 200  # recent sessions read to count a crash streak


@dataclass(frozen=True, slots=True)
class Classified:
    """How a session ended: its state, and the limit hit or infrastructure failure behind it."""

    status: str
    hit: LimitHit | None = None
    infra: InfraFailure | None = None
    error: str = ""  # a profile that raised (the session is still recorded)


def session_output(res: ProcessResult, env: Mapping[str, str] | None = None) -> SessionOutput:
    """What a profile reads of a finished process."""
    from rota.harnesses.base import SessionOutput

    return SessionOutput(
        exit_code=res.exit_code,
        stdout=res.stdout,
        stderr=res.stderr,
        ended_at=res.ended_at,
        started_at=res.started_at,
        timed_out=res.timed_out,
        env=dict(env or {}),
    )


def classify(
    res: ProcessResult, profile: HarnessProfile, env: Mapping[str, str] | None = None
) -> Classified:
    """The outcome of a session. A limit is read from the harness's exit code and error output,
    never from what the agent wrote; so is an infrastructure failure (checked after a limit). A
    session stopped at its timeout is a limit when the CLI said it was waiting for one (gemini
    sleeps until its quota resets); a harness that could not start is an infrastructure failure."""
    from rota.harnesses.base import INFRA_CLI

    if res.interrupted:
        return Classified(INTERRUPTED)
    if not res.started:
        return Classified(UNAVAILABLE, infra=InfraFailure(INFRA_CLI, res.error or "cannot start"))
    out = session_output(res, env)
    error = ""
    try:
        hit = profile.detect_limit(out)
    except Exception as exc:  # a profile bug must not lose the session
        hit, error = None, f"limit detection failed: {exc}"
    if hit is not None:
        return Classified(RATE_LIMITED, hit=hit, error=error)
    if res.timed_out:
        return Classified(TIMED_OUT, error=error)
    try:
        infra = profile.detect_infra(out)
    except Exception as exc:
        infra, error = None, error or f"failure detection failed: {exc}"
    if infra is not None:
        return Classified(UNAVAILABLE, infra=infra, error=error)
    return Classified(COMPLETED if res.exit_code == 0 else CRASHED, error=error)


def arm_that_ran(
    config: Config,
    harness: str,
    profile: HarnessProfile,
    res: ProcessResult,
    env: Mapping[str, str] | None = None,
) -> tuple[str | None, str | None]:
    """(arm to credit, model name the harness reported). The arm is harness:<configured model>
    when the reported model maps to one, else harness:<reported model> (a model outside the
    config still must not be credited to the one selected), else None (nothing reported)."""
    from rota.harnesses import canonical_model

    try:
        seen = profile.model_ran(session_output(res, env))
    except Exception:
        seen = None
    if not seen:
        return None, None
    hc = config.harnesses.get(harness)
    name = canonical_model(harness, seen, list(hc.models) if hc else [])
    if not name:
        return None, seen
    return f"{harness}:{name}", seen


def probed_levels(config: Config, states: Iterable[QuotaState], arm: str) -> dict[str, object]:
    """What the probes said when `arm` was chosen (the states the decision used), for the
    session's detail.

    - "utilization": each pool covering the arm -> its used fraction. A later refusal at a high use
      teaches rota that the arm is too big for what was left.
    - "levels": every probed level as [scope_kind, scope, window, used fraction, reset]. The next
      session's levels show how much this one used (rota.quota.history.arm_sizes), so that an arm
      is not started where it cannot fit.
    """
    if arm not in config.arms:
        return {}
    states = list(states)
    out: dict[str, object] = {}
    use = pool_use(states, config.arm_scopes(arm).pools)
    if use:
        out["utilization"] = use
    # Used fractions to 1e-4 and resets to the second: what sizes and windows are learnt to.
    levels = [
        [kind, scope, window, round(used, 4), None if resets is None else round(resets)]
        for kind, scope, window, used, resets in levels_of(states)
    ]
    if levels:
        out["levels"] = levels
    return out


def latest_on(blocks: Sequence[Block], scope: Scope) -> Block | None:
    """The last of `blocks` (oldest first) on `scope`."""
    for b in reversed(blocks):
        if (b.scope_kind, b.scope) == scope:
            return b
    return None


def bounded(hit: LimitHit, now: float) -> LimitHit:
    """The hit with a reset time rota believes (rota.clock): none if it is further away than a
    year or not a number, and never past the end of the window the hit names."""
    from dataclasses import replace

    from rota.clock import cap_until, reset_within_reach

    resets_at = reset_within_reach(hit.resets_at, now)
    if resets_at is not None:
        resets_at = cap_until(resets_at, now, hit.window)
    return hit if resets_at == hit.resets_at else replace(hit, resets_at=resets_at)


def limit_scopes(
    config: Config, hit: LimitHit, arm: str, now: float, seen: Iterable[QuotaState]
) -> list[Scope]:
    """What a limit hit on `arm` covers: the harness profile's guess (the harness by default),
    narrowed by the quota states `seen` in the hour before (a pool the probe saw with plenty of
    room just before did not run out: rota.quota.limits.narrow_limit_scopes)."""
    from rota.harnesses import limit_scopes as profile_scopes

    hit = bounded(hit, now)
    try:
        scopes = profile_scopes(hit, arm, config)
    except Exception:
        scopes = []
    if not scopes:
        scopes = [("harness", arm.split(":", 1)[0])]
    if hit.resets_at is not None and arm in config.arms:
        recent = [s for s in seen if s.observed_at >= now - SEEN_MAX_AGE_S]
        a = config.arm_scopes(arm)
        wide = [p for p in a.pools if a.harness in config.pools[p].harnesses]
        scopes = narrow_limit_scopes(
            scopes, a, recent, now, resets_at=hit.resets_at, harness_pools=wide
        )
    return scopes


def blocks_on(
    scopes: Iterable[Scope], hit: LimitHit, now: float, previous: Sequence[Block]
) -> list[Block]:
    """The blocks a limit hit puts on `scopes`: until its reset, else a backoff growing with the
    repeats that `previous` (earlier blocks, oldest first) shows."""
    hit = bounded(hit, now)
    reason = f"rate limit: {hit.message}".strip()[:300]
    return [
        block_after_limit(
            kind,
            scope,
            resets_at=hit.resets_at,
            now=now,
            previous=latest_on(previous, (kind, scope)),
            reason=reason,
        )
        for kind, scope in scopes
    ]


def limit_blocks(
    config: Config,
    hit: LimitHit,
    arm: str,
    now: float,
    *,
    seen: Iterable[QuotaState],
    previous: Sequence[Block],
) -> tuple[list[Block], list[Scope]]:
    """(new blocks, the scopes they cover) for a limit hit on `arm` at `now`, given the quota
    states seen before it and the blocks recorded before (oldest first)."""
    scopes = limit_scopes(config, hit, arm, now, seen)
    return blocks_on(scopes, hit, now, previous), scopes


def crash_streak(recent: Iterable[SessionRecord], arm: str, status: str) -> int:
    """Consecutive crashed/timed-out sessions of `arm`, counting the one just finished with
    `status` (`recent`: the sessions recorded before it, newest first)."""
    if status not in CRASH_STATES:
        return 0
    streak = 1
    for rec in recent:
        if rec.credited_arm != arm or rec.status in NEUTRAL_STATES:
            continue
        if rec.status not in CRASH_STATES:
            break
        streak += 1
    return streak


def crash_loop_block(arm: str, streak: int, now: float, previous: Block | None) -> Block:
    """An arm that crashed `streak` times in a row is blocked with a backoff."""
    return block_after_limit(
        "arm",
        arm,
        resets_at=None,
        now=now,
        previous=previous,
        reason=f"crash loop: {streak} crashed or timed-out sessions in a row",
    )


__all__ = [
    "CRASH_STATES",
    "Classified",
    "GRADED_STATES",
    "NEUTRAL_STATES",
    "arm_that_ran",
    "blocks_on",
    "classify",
    "crash_loop_block",
    "crash_streak",
    "limit_blocks",
    "limit_scopes",
    "probed_levels",
    "session_output",
]
