"""From a limit hit to blocks: which scopes a hit covers, until when, and the backoff when no reset
time is given. Pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rota.quota.state import FIT_MIN_UTILIZATION, ArmScopes, Block, QuotaState

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the select path
if TYPE_CHECKING:
    pass


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
