"""The cost term of an arm's score, from a hand-set constant or from what its sessions measured.
Pure, no I/O.

An arm configured with `cost = 2.5` keeps that constant. An arm with `cost = "measured"` uses the
mean cost of its recent sessions, as the harness reported it: dollars where it says (claude-code,
gptme, opencode, aider, copilot with a price), else tokens. Tokens are turned into dollars at the
rate of the arms that report both (dollars per token, over their sessions); when no arm reports
dollars, every measured arm is compared in tokens. Then each group is normalised across arms:

    relative cost = cost / the largest cost in its group, in [0, 1]

(constants against the largest constant, measured costs against the largest measured cost), and
the policy subtracts cost_weight × relative cost from the arm's draw. A measured arm with no
measured session yet gets the mean relative cost of the measured arms that have one (0.5 when
none has), so that it is neither favoured nor punished before it is known.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rota.records import record

UNKNOWN_RELATIVE = 0.5


@record
class Measured:
    """An arm's mean cost per session, from the sessions that reported one."""

    sessions: int = 0
    usd: float | None = None  # mean dollars per session, over the sessions that gave dollars
    tokens: float | None = None  # mean tokens per session, over the sessions that gave tokens
    usd_sessions: int = 0
    token_sessions: int = 0
    usd_with_tokens: float = 0.0  # dollars of the sessions that gave both
    tokens_with_usd: float = 0.0  # tokens of the same sessions


def measure(rows: Iterable[tuple[str, float | None, float | None]]) -> dict[str, Measured]:
    """(arm, dollars or None, tokens or None) per session -> each arm's Measured."""
    acc: dict[str, list[float]] = {}
    for arm, usd, tokens in rows:
        a = acc.setdefault(arm, [0, 0.0, 0, 0.0, 0, 0.0, 0.0])
        a[0] += 1
        if usd is not None and usd >= 0:
            a[1] += usd
            a[2] += 1
        if tokens is not None and tokens >= 0:
            a[3] += tokens
            a[4] += 1
        if usd is not None and tokens is not None and usd >= 0 and tokens > 0:
            a[5] += usd
            a[6] += tokens
    return {
        arm: Measured(
            sessions=int(a[0]),
            usd=a[1] / a[2] if a[2] else None,
            tokens=a[3] / a[4] if a[4] else None,
            usd_sessions=int(a[2]),
            token_sessions=int(a[4]),
            usd_with_tokens=a[5],
            tokens_with_usd=a[6],
        )
        for arm, a in acc.items()
    }


def usd_per_token(measured: Mapping[str, Measured]) -> float | None:
    usd = sum(m.usd_with_tokens for m in measured.values())
    tokens = sum(m.tokens_with_usd for m in measured.values())
    return usd / tokens if tokens > 0 and usd > 0 else None


def per_session(m: Measured | None, rate: float | None) -> tuple[float, str] | None:
    """(cost per session, unit) of one arm: dollars, dollars estimated from tokens, or tokens."""
    if m is None:
        return None
    if m.usd is not None:
        return m.usd, "usd"
    if m.tokens is not None:
        if rate is not None:
            return m.tokens * rate, "usd"
        return m.tokens, "tokens"
    return None


def relative_costs(
    fixed: Mapping[str, float], measured_arms: Iterable[str], measured: Mapping[str, Measured]
) -> dict[str, tuple[float, str]]:
    """arm -> (relative cost in [0, 1], how it was found) for the fixed-cost arms and the
    measured ones."""
    out: dict[str, tuple[float, str]] = {}
    top = max(fixed.values(), default=0.0)
    for arm, c in fixed.items():
        out[arm] = (c / top if top > 0 else 0.0, f"cost {c:g} (set)")
    rate = usd_per_token(measured)
    found: dict[str, tuple[float, str]] = {}
    wanted = list(measured_arms)
    for arm in wanted:
        ps = per_session(measured.get(arm), rate)
        if ps is not None:
            found[arm] = ps
    units = {u for _, u in found.values()}
    # Without a dollar rate, a dollar arm and a token arm cannot be compared: tokens go.
    if units == {"usd", "tokens"}:
        found = {a: v for a, v in found.items() if v[1] == "usd"}
    top_m = max((v for v, _ in found.values()), default=0.0)
    rel = {a: (v / top_m if top_m > 0 else 0.0) for a, (v, _) in found.items()}
    mean = sum(rel.values()) / len(rel) if rel else UNKNOWN_RELATIVE
    for arm in wanted:
        if arm in found:
            v, unit = found[arm]
            n = measured[arm].sessions
            what = f"${v:.4f}" if unit == "usd" else f"{v:,.0f} tokens"
            out[arm] = (rel[arm], f"measured {what} per session over {n}")
        else:
            out[arm] = (mean, "measured, no session reported a cost yet")
    return out


__all__ = ["Measured", "measure", "per_session", "relative_costs", "usd_per_token"]
