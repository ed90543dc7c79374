"""Run every enabled harness's quota probe, cached through the store's quota cache.

`quota_states(config, store, now)` is what `rota select` and `rota run` call. It must stay cheap:
a harness whose cached answer is fresh (quota.cache_minutes, 5 by default; longer after the
endpoint said 429) is not probed again, and the probe modules import their heavy parts (urllib,
zstandard) only when they really probe.

States of a harness covered by a configured pool are repeated with the pool's scope, so one
subscription's limit reaches every arm that shares it (e.g. codex and gptme's openai models).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence

from rota.quota.state import QuotaState, last_outcome_states
from rota.store.base import RECENT_OUTCOMES

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the select path

if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from rota.config import Config, HarnessConfig
    from rota.harnesses.base import HarnessProfile
    from rota.store.base import Store

# Cached rows older than this are never reused, whatever a profile's TTL says.
MAX_CACHE_AGE_S = 6 * 3600.0
# Built-in profiles with a quota source of their own (their probe reads an endpoint or logs). The
# others answer with the last-outcome heuristic, worked out here without importing their profile
# (tests/test_probe_cache.py checks this list against the profiles).
OWN_PROBES = frozenset({"claude-code", "codex"})
DEFAULT_TIMEOUT_S = 5.0


def _with(state: QuotaState, **changes: Any) -> QuotaState:
    """A copy with some fields changed (QuotaState is a NamedTuple; a dataclass works too)."""
    if hasattr(state, "_replace"):
        return state._replace(**changes)
    import dataclasses

    return dataclasses.replace(state, **changes)  # type: ignore[type-var]


def harness_of(state: QuotaState) -> str | None:
    """Which harness's probe produced a state (None for pool rows, which are derived)."""
    if state.scope_kind == "harness":
        return state.scope
    if state.scope_kind == "arm":
        return state.scope.split(":", 1)[0]
    return None


def _cached_by_harness(states: Iterable[QuotaState]) -> dict[str, list[QuotaState]]:
    """The newest probe answer per harness (rows of one answer share observed_at)."""
    groups: dict[str, list[QuotaState]] = {}
    for s in states:
        h = harness_of(s)
        if h is not None:
            groups.setdefault(h, []).append(s)
    out: dict[str, list[QuotaState]] = {}
    for h, rows in groups.items():
        newest = max(r.observed_at for r in rows)
        out[h] = [r for r in rows if r.observed_at == newest]
    return out


def _last_outcomes(store: Store | None) -> dict[str, tuple[str, float | None]]:
    """harness -> (status, ended_at) of its newest finished session (among the newest 100)."""
    if store is None:
        return {}
    try:
        recent = store.recent_outcomes(RECENT_OUTCOMES)
    except Exception:  # a store problem must not stop selection; the probes just know less
        return {}
    out: dict[str, tuple[str, float | None]] = {}
    for arm, status, at in recent:  # newest first, running ones left out
        out.setdefault(arm.split(":", 1)[0], (status, at))
    return out


def probe_context(
    hc: HarnessConfig,
    now: float,
    *,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
    last: tuple[str, float | None] | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> Any:

    from rota.harnesses.base import ProbeContext

    base_env = dict(os.environ if env is None else env)
    base_env.update(hc.env)  # the harness's own env (e.g. CLAUDE_CONFIG_DIR) steers its probe
    if home is None:
        import pathlib  # lazily: pathlib is kept off the `rota select` path

        home = pathlib.Path(base_env.get("HOME") or pathlib.Path.home())
    return ProbeContext(
        home=home,
        env=base_env,
        now=now,
        timeout=timeout,
        harness=hc.name,
        options=dict(hc.quota),
        models=tuple(hc.models),
        last_outcome=last[0] if last else None,
        last_outcome_at=last[1] if last else None,
    )


def run_probe(profile: HarnessProfile, ctx: Any) -> list[QuotaState]:
    """A probe's states, stamped with the probe time. A failing probe is "unknown", not a crash."""
    try:
        states = list(profile.probe(ctx))
    except Exception as exc:  # a broken probe must never stop selection
        states = [
            QuotaState(
                "harness",
                ctx.harness or profile.name,
                "probe",
                None,
                source="heuristic",
                reason=f"quota probe failed: {exc.__class__.__name__}",
            )
        ]
    return [_with(s, observed_at=ctx.now) for s in states]


def _probing_disabled(hc: HarnessConfig) -> bool:
    src = hc.quota.get("source") if hasattr(hc.quota, "get") else None
    return src == "none" or hc.quota.get("enabled") is False


def _save(store: Store, states: Sequence[QuotaState]) -> None:
    # One cache row per (scope, window, source): the api and logs rows of one window coexist.
    by_source: dict[str, list[QuotaState]] = {}
    for s in states:
        by_source.setdefault(s.source, []).append(s)
    for source, rows in by_source.items():
        store.put_quota_states(rows, source_key=source)


def pool_states(config: Config, states: Sequence[QuotaState]) -> list[QuotaState]:
    """Copies of harness- and arm-level states under the pools that cover them.

    A pool covers a harness's window when it lists the harness, and an arm's (per-model) window
    only when it names that arm: Claude's weekly opus pool is not a whole claude-max pool.
    Heuristic rows are not repeated: they say nothing about a shared subscription.
    """
    out: list[QuotaState] = []
    for pool in config.pools.values():
        for s in states:
            if s.source == "heuristic":
                continue
            if (s.scope_kind == "harness" and s.scope in pool.harnesses) or (
                s.scope_kind == "arm" and s.scope in pool.arms
            ):
                out.append(
                    _with(
                        s,
                        scope_kind="pool",
                        scope=pool.name,
                        reason=f"via {s.scope}" + (f": {s.reason}" if s.reason else ""),
                    )
                )
    return out


def quota_states(
    config: Config,
    store: Store | None,
    now: float,
    *,
    refresh: bool = False,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
    harnesses: Iterable[str] | None = None,
) -> list[QuotaState]:
    """Quota states for every enabled harness (and the pools over them), from cache or probes."""
    wanted = set(harnesses) if harnesses is not None else None
    enabled = [
        hc
        for hc in config.harnesses.values()
        if hc.enabled and (wanted is None or hc.name in wanted) and not _probing_disabled(hc)
    ]
    if not enabled:
        return []
    default_ttl = 60.0 * float(getattr(getattr(config, "quota", None), "cache_minutes", 5.0))
    cached: dict[str, list[QuotaState]] = {}
    if store is not None and not refresh:
        try:
            cached = _cached_by_harness(store.cached_quota_states(MAX_CACHE_AGE_S, now))
        except Exception:  # no cache is only slower
            cached = {}

    out: list[QuotaState] = []
    last: dict[str, tuple[str, float | None]] | None = None
    for hc in enabled:
        rows = cached.get(hc.name)
        # Fast path: a cached answer carries its own TTL, so a hit needs no profile import.
        if (
            rows
            and rows[0].ttl is not None
            and rows[0].observed_at <= now < rows[0].observed_at + rows[0].ttl
        ):
            out.extend(rows)
            continue
        if not has_own_probe(hc):
            if last is None:
                last = _last_outcomes(store)
            outcome, at = last.get(hc.name) or (None, None)
            fresh = last_outcome_states(hc.name, outcome, at, now) or [_no_source(hc.name, now)]
            minutes = hc.quota.get("cache_minutes", default_ttl / 60.0)
            if isinstance(minutes, bool) or not isinstance(minutes, (int, float)):
                minutes = default_ttl / 60.0
            out.extend(_keep(store, fresh, 60.0 * float(minutes)))
            continue
        from rota.harnesses.registry import profile_for

        profile = profile_for(hc.name, hc)
        if rows and rows[0].ttl is None:  # cached by an older rota, without a TTL
            ttl = _ttl(profile, rows, hc, default_ttl)
            if now - rows[0].observed_at < ttl and rows[0].observed_at <= now:
                out.extend(rows)
                continue
        if last is None:
            last = _last_outcomes(store)
        ctx = probe_context(hc, now, env=env, home=home, last=last.get(hc.name))
        fresh = run_probe(profile, ctx) or [_no_source(hc.name, now)]
        out.extend(_keep(store, fresh, _ttl(profile, fresh, hc, default_ttl)))
    out.extend(pool_states(config, out))
    return out


def has_own_probe(hc: HarnessConfig) -> bool:
    """Whether the harness's profile (its own, or the built-in one `quota.profile` names) has a
    quota source of its own."""
    base = hc.quota.get("profile") if hasattr(hc.quota, "get") else None
    return (base if isinstance(base, str) else hc.name) in OWN_PROBES


def _no_source(name: str, now: float) -> QuotaState:
    # Cached like any answer, so that the next decision does not probe again.
    return QuotaState(
        "harness",
        name,
        "probe",
        None,
        source="heuristic",
        reason="no quota source for this harness",
        observed_at=now,
    )


def _keep(store: Store | None, fresh: list[QuotaState], ttl: float) -> list[QuotaState]:
    """A fresh answer with its TTL, saved to the cache (a read-only store still gets it)."""
    fresh = [_with(s, ttl=ttl) for s in fresh]
    if store is not None and fresh:
        try:
            _save(store, fresh)
        except Exception:
            pass
    return fresh


def _ttl(profile: Any, rows: list[QuotaState], hc: HarnessConfig, default: float) -> float:
    options = dict(hc.quota)
    options.setdefault("cache_minutes", default / 60.0)
    fn = getattr(profile, "cache_seconds", None)
    if fn is None:
        return default
    try:
        return float(fn(rows, options))
    except Exception:
        return default
