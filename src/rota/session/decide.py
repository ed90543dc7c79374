"""Gathering what `select` needs from the world (store, quota sources, clock) and asking it.

policy.select is pure; this module is the thin I/O shell around it shared by `rota select` and
`rota run`.
"""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Mapping, Sequence

from rota.config import Config
from rota.learning.policy import Decision, SelectionInput, select
from rota.quota.history import HISTORY_LIMIT, LEARN_LOOKBACK_S, SIZE_FROM_SESSIONS, well_used_levels
from rota.quota.state import QuotaState
from rota.quota.uses import Use
from rota.store.base import Store


def machine_name() -> str:
    name = os.environ.get("ROTA_MACHINE")
    if name:
        return name
    import socket  # lazily: only needed when no machine name is given

    return socket.gethostname()


def workspace_id(config: Config) -> str:
    """A configured workspace.id, else machine:path (one workspace per machine by default)."""
    return config.workspace.id or f"{machine_name()}:{config.workspace.path}"


def quota_states(
    config: Config, store: Store, now: float, *, refresh: bool = False, warn: bool = True
) -> list[QuotaState]:
    """Quota states from every source: harness probes (cached in the store) and the quota file."""
    states: list[QuotaState] = []
    try:
        from rota import probes
    except ImportError:  # pragma: no cover - probes ship with rota
        probes = None  # type: ignore[assignment]
    if probes is not None and hasattr(probes, "quota_states"):
        states.extend(probes.quota_states(config, store, now, refresh=refresh))
    else:
        states.extend(store.cached_quota_states(config.quota.cache_minutes * 60, now))
    if config.quota.file:
        from rota.quota_file import QuotaFileError, read_quota_file

        try:
            import pathlib  # lazily: pathlib is kept off the `rota select` path

            states.extend(read_quota_file(pathlib.Path(config.quota.file).expanduser(), now))
        except QuotaFileError as exc:
            if warn:
                print(f"rota: warning: {exc} (ignored)", file=sys.stderr)
    return states


def recent_history(store: Store, states: Sequence[QuotaState], now: float) -> list[Use]:
    """The sessions selection learns from: what no probe reports (invisible pools' windows and
    sizes) and shifts in an arm's grades. Bounded by time and count, never the whole history. The
    levels recorded with sessions are read only when a probed level is well used (an arm may not
    fit what is left: rota.quota.history.too_big_for_levels)."""
    levels = SIZE_FROM_SESSIONS if well_used_levels(states, now) else 0
    return store.recent_uses(now - LEARN_LOOKBACK_S, HISTORY_LIMIT, levels)


COST_LOOKBACK_S = 14 * 86400.0  # sessions whose measured cost counts
COST_SESSIONS = 300  # at most this many (the newest)


def measured_costs(config: Config, store: Store, now: float) -> dict[str, tuple[float, str]] | None:
    """Every arm's relative cost when some arm has cost = "measured" (rota.learning.costs), else
    None (the plain constants, with no store read)."""
    measured = [a.arm for a in config.arms.values() if a.measured_cost]
    if not measured:
        return None
    from rota.learning.costs import measure, relative_costs

    rows = store.measured_costs(now - COST_LOOKBACK_S, COST_SESSIONS)
    fixed = {a.arm: a.cost for a in config.arms.values() if not a.measured_cost}
    return relative_costs(fixed, measured, measure(rows))


def decide(
    config: Config,
    store: Store,
    *,
    category: str,
    now: float,
    seed: int | None = None,
    states: Sequence[QuotaState] | None = None,
    pool_busy: Mapping[str, int] | None = None,
    arms: Sequence[str] | None = None,
) -> Decision:
    """The decision for the next session of `category`. `arms`: only these are candidates (a
    person's `rota run --arm/--harness`)."""
    if states is None:
        states = quota_states(config, store, now)
    if pool_busy is None and any(p.concurrency > 0 for p in config.pools.values()):
        # Fleet: sessions holding pool slots right now, on any machine (rota.session.fleet).
        pool_busy = store.pool_busy(now)
    history = recent_history(store, states, now)
    evidence, changed = store.evidence_and_changes()
    inputs = SelectionInput(
        costs=measured_costs(config, store, now),
        config=config,
        category=category,
        now=now,
        evidence=evidence,
        changed=changed,
        quota_states=states,
        blocks=store.active_blocks(now),
        pool_busy=pool_busy or {},
        arms=arms,
        history=history,
    )
    decision = select(inputs, random.Random(seed))
    decision.seed = seed
    return decision
