"""Quota pacing (use it or lose it; hold back when ahead of pace). Pure.

Placeholder contract until the full version lands: returns (delta to the arm's score, note).
"""

from __future__ import annotations

from collections.abc import Sequence

from rota.quota import QuotaState


def pacing_adjustment(states: Sequence[QuotaState], settings: object, now: float) -> tuple[float, str]:
    return 0.0, ""
