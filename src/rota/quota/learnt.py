"""Quota learning as state: what rota.quota.history.learned_states works out from the session
history, kept up to date one recorded session at a time instead of rescanning up to HISTORY_LIMIT
sessions before every decision. Pure, no I/O.

The simulator decides before every one of thousands of sessions and uses this; `rota select` reads
the history from the store once per process and keeps the from-scratch path (learned_states, the
rebuild). Both give the same states in the same order (tests/test_quota_learnt.py holds them to it).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence

from rota.quota.history import (
    HISTORY_LIMIT,
    LEARN_LOOKBACK_S,
    SIZE_FROM_SESSIONS,
    FitEntry,
    SizeStep,
    _hit_keys,
    add_fit,
    current_pools,
    fit_entry,
    kept_out_by_fit,
    kept_out_by_size,
    level_differences,
    members_of,
    probed_scopes,
    silent_limit,
    well_used_levels,
    window_length,
    window_states,
)
from rota.quota.state import ArmScopes, LevelKey, QuotaState
from rota.quota.uses import Use

Key = tuple[str, str]


class QuotaLearning:
    """The session history (`add`, oldest first) and what it teaches about limits no probe reports
    (`learned_states`), as learned_states(scopes, uses[-limit:], states, now, lookback_s=...)
    would find it. What each session adds is worked out once, when it is added: its level
    differences (arm sizes), the scopes a limit hit ran out of, what a refusal says about the
    arm's size, and when each learnt window's members ran."""

    def __init__(
        self,
        scopes: Mapping[str, ArmScopes],
        *,
        limit: int = HISTORY_LIMIT,
        lookback_s: float = LEARN_LOOKBACK_S,
    ) -> None:
        self.scopes = scopes
        self.limit = limit
        self.lookback_s = lookback_s
        self.uses: list[Use] = []
        self._ats: list[float] = []
        # Arm sizes: each measurable level difference, by the index of the later session.
        self._prev: dict[LevelKey, tuple[int, str, bool, float, float | None]] = {}
        self._size_at: list[int] = []
        self._sizes: list[SizeStep] = []
        # Limit hits: their indices, what each ran out of, what each says about the arm's size.
        self._limited: list[int] = []
        self._hit_keys: list[list[Key]] = []
        self._fits: list[FitEntry | None] = []
        # Per scope a window was learnt for (made on first need): its members, and when they ran
        # and were not refused (times and indices, in time order).
        self._members: dict[Key, set[str]] = {}
        self._ran: dict[Key, tuple[list[float], list[int]]] = {}

    def add(self, use: Use) -> None:
        """Record one session; sessions come in time order."""
        if self._ats and use.at < self._ats[-1]:
            raise ValueError(
                f"QuotaLearning.add: session at {use.at} is older than the last ({self._ats[-1]}); "
                "add sessions oldest first (or rebuild with learned_states)"
            )
        i = len(self.uses)
        self.uses.append(use)
        self._ats.append(use.at)
        if use.levels:
            for step in level_differences(self._prev, i, use, self.scopes):
                self._size_at.append(i)
                self._sizes.append(step)
        if use.limited:
            self._limited.append(i)
            self._hit_keys.append(_hit_keys(use, self.scopes))
            self._fits.append(fit_entry(use, self.scopes))
            return
        for key, (ats, idx) in self._ran.items():
            if use.arm in self._members[key]:
                ats.append(use.at)
                idx.append(i)

    def _ran_for(self, key: Key) -> tuple[set[str], list[float], list[int]]:
        members = self._members.get(key)
        if members is None:
            members = self._members[key] = members_of(self.scopes, key)
            idx = [i for i, u in enumerate(self.uses) if not u.limited and u.arm in members]
            self._ran[key] = ([self._ats[i] for i in idx], idx)
        ats, idx = self._ran[key]
        return members, ats, idx

    def _arm_sizes(
        self, first: int, hi: int, full: Mapping[LevelKey, QuotaState]
    ) -> dict[tuple[str, LevelKey], float]:
        """arm_sizes over sessions first..hi-1, for the levels in full."""
        sizes: dict[tuple[str, LevelKey], float] = {}
        a = bisect_left(self._size_at, first)
        b = bisect_left(self._size_at, hi, a)
        for j, arm, key, d in self._sizes[a:b]:
            if j < first or key not in full:
                continue  # the earlier session is out of the window, or the level is not full
            k = (arm, key)
            if k not in sizes or d < sizes[k]:
                sizes[k] = d
        return sizes

    def learned_states(self, states: Sequence[QuotaState], now: float) -> list[QuotaState]:
        """What rota.quota.history.learned_states finds in the newest `limit` sessions."""
        ats = self._ats
        hi = bisect_right(ats, now)
        lo = max(len(ats) - self.limit, bisect_left(ats, now - self.lookback_s), 0)
        if lo >= hi:
            return []
        out: list[QuotaState] = []
        full = well_used_levels(states, now)
        if full:
            first = max(lo, hi - SIZE_FROM_SESSIONS)  # too_big_for_levels: the newest sessions
            out = kept_out_by_size(self._arm_sizes(first, hi, full), full, now)
        la = bisect_left(self._limited, lo)
        lb = bisect_left(self._limited, hi, la)
        if la == lb:
            return out
        probed = probed_scopes(states)
        uses = self.uses
        hits_by_key: dict[Key, list[Use]] = {}
        silent: dict[Key, list[Use]] = {}
        hit_keys = self._hit_keys
        for n in range(la, lb):
            keys = hit_keys[n]
            if not keys:
                continue
            u = uses[self._limited[n]]
            into = hits_by_key if u.resets_at is not None else silent
            for key in keys:
                if key not in probed:
                    into.setdefault(key, []).append(u)
        for key, quiet in silent.items():
            if key in hits_by_key:
                continue
            members = self._members.get(key) or members_of(self.scopes, key)
            member_uses = [u for u in uses[lo:hi] if u.arm in members]
            inferred = silent_limit(key, quiet, member_uses, now)
            if inferred is not None:
                hits_by_key[key], state = inferred
                if state is not None:
                    out.append(state)
        for key, hits in hits_by_key.items():
            w = window_length(h.resets_at for h in hits)  # type: ignore[misc]
            if w is None:
                continue
            members, ran, idx = self._ran_for(key)
            r_lo = bisect_left(idx, lo)
            r_hi = bisect_left(idx, hi, r_lo)
            out.extend(window_states(key, hits, w, members, ran, r_lo, r_hi, now))
        current = current_pools(states, now)
        fit: dict[tuple[str, str], float] = {}
        fits = self._fits
        for n in range(la, lb):
            entry = fits[n]
            if entry is not None:
                add_fit(fit, entry, current)
        out.extend(kept_out_by_fit(fit, current, now))
        return out
