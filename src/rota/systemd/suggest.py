"""The rota config that reproduces old per-backend units: their harnesses and models, with the
tiers and costs `rota init` writes, and their schedules as `[schedule] on_calendar`.

The old `OnCalendar=` lines are copied as they are, one list entry each: systemd already runs
them, and several expressions on one timer fire whenever any of them does.
"""

from __future__ import annotations

import os
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rota.systemd.unitfile import parse_timespan

if TYPE_CHECKING:
    from rota.systemd.adopt import FoundUnit


# Timer triggers that count from an event, not the calendar: [schedule] has no equivalent.
MONOTONIC_KEYS = (
    "OnBootSec",
    "OnStartupSec",
    "OnActiveSec",
    "OnUnitActiveSec",
    "OnUnitInactiveSec",
)


def init_table() -> dict[str, dict[str, tuple[str, float]]]:
    """harness -> model -> (tier, cost): the models `rota init` writes for each known harness."""
    from rota.harnesses import KNOWN_HARNESSES, get_profile

    table: dict[str, dict[str, tuple[str, float]]] = {}
    for name in KNOWN_HARNESSES:
        models = get_profile(name).default_models
        table[name] = {
            m: (str(spec.get("tier", "medium")), float(spec.get("cost", 1.0)))  # type: ignore[arg-type]
            for m, spec in models.items()
        }
    return table


def guess_tier(model: str) -> str:
    """A starting tier from the model's name; the user should check it."""
    m = model.lower()
    if re.search(r"haiku|mini|nano|flash|lite|small|fast", m):
        return "low"
    if re.search(r"opus|\bpro\b|-pro|gpt-5(?!\.\d+-?mini)|o3\b|max|ultra", m):
        return "high"
    return "medium"


@dataclass(frozen=True, slots=True)
class ArmSuggestion:
    harness: str
    model: str
    tier: str
    cost: float
    basis: str  # why this tier and cost, for the comment next to the line
    sources: tuple[str, ...]  # the old units that ran it

    def to_dict(self) -> dict[str, Any]:
        return {
            "arm": f"{self.harness}:{self.model}",
            "tier": self.tier,
            "cost": self.cost,
            "basis": self.basis,
            "sources": list(self.sources),
        }


def suggest_arm(
    harness: str,
    model: str,
    sources: Sequence[str] = (),
    table: Mapping[str, Mapping[str, tuple[str, float]]] | None = None,
) -> ArmSuggestion:
    """Tier and cost for `harness:model`, as `rota init` would write them.

    The model itself, or the init model it is a version of (claude-opus-4-1 is opus), gives both.
    Otherwise the tier is guessed from the name, and the cost is what init gives that tier on this
    harness, else across harnesses (the median).
    """
    from rota.harnesses import canonical_model

    table = init_table() if table is None else table
    own = table.get(harness, {})
    known = canonical_model(harness, model, own)
    if known in own:
        tier, cost = own[known]  # type: ignore[index]
        basis = "as in `rota init`" if known == model else f"as {known} in `rota init`"
        return ArmSuggestion(harness, model, tier, cost, basis, tuple(sources))
    tier = guess_tier(model)
    same = [c for t, c in own.values() if t == tier]
    where = f"{harness}'s"
    if not same:
        same = [c for models in table.values() for t, c in models.values() if t == tier]
        where = "the usual"
    cost = float(statistics.median(same)) if same else 1.0
    basis = f"tier guessed from the name; cost {where} for {tier} in `rota init`"
    return ArmSuggestion(harness, model, tier, cost, basis, tuple(sources))


def suggest_arms(units: Sequence[FoundUnit]) -> list[ArmSuggestion]:
    table = init_table()
    found: dict[tuple[str, str], list[str]] = {}
    for u in units:
        if u.call.model and "$" not in u.call.model:
            found.setdefault((u.call.harness, u.call.model), []).append(u.name)
    return [suggest_arm(h, m, srcs, table) for (h, m), srcs in sorted(found.items())]


def suggest_on_calendar(units: Sequence[FoundUnit]) -> list[str]:
    """Every OnCalendar= of the old timers, verbatim, in order, without repeats."""
    out: list[str] = []
    for u in units:
        for t in u.timers:
            for expr in t.on_calendar:
                if expr not in out:
                    out.append(expr)
    return out


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_str(key)


def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _schedule_lines(units: Sequence[FoundUnit]) -> list[str]:
    calendars = suggest_on_calendar(units)
    if not calendars:
        return []
    lines = ["[schedule]"]
    if len(calendars) == 1:
        lines.append(f"on_calendar = {_toml_str(calendars[0])}  # the old timer's schedule")
    else:
        lines.append("on_calendar = [  # fires whenever one of the old timers did")
        lines += [f"    {_toml_str(c)}," for c in calendars]
        lines.append("]")
    for u in units:
        for t in u.timers:
            for k, v in t.settings:
                if k in MONOTONIC_KEYS:
                    lines.append(
                        f"# not reproduced: {t.name} {k}={v} (rota's timer is calendar-only)"
                    )
    return [*lines, ""]


def config_snippet(units: Sequence[FoundUnit]) -> str:
    """TOML to paste into rota's config: the schedule, harnesses and models those units ran."""
    names = ", ".join(u.name for u in units)
    lines = [f"# Reproduces {len(units)} per-backend unit{'s' if len(units) != 1 else ''}: {names}"]
    lines += _schedule_lines(units)
    arms = suggest_arms(units)
    by_harness: dict[str, list[FoundUnit]] = {}
    for u in units:
        by_harness.setdefault(u.call.harness, []).append(u)
    for harness in sorted(by_harness):
        group = by_harness[harness]
        lines.append(f"[harnesses.{_toml_key(harness)}]")
        lines.append("enabled = true")
        exes = {u.call.executable for u in group}
        if len(exes) == 1:
            exe = exes.pop()
            if os.sep in exe:
                lines.append(f"executable = {_toml_str(exe)}")
        timeouts = [t for u in group if (t := u.call.timeout_s or parse_timespan(u.timeout_start))]
        if timeouts:
            lines.append(f"timeout_minutes = {max(timeouts) / 60:g}")
        mine = [a for a in arms if a.harness == harness]
        if mine:
            lines.append(f"[harnesses.{_toml_key(harness)}.models]")
        for a in mine:
            lines.append(
                f"{_toml_key(a.model)} = {{ tier = {_toml_str(a.tier)}, cost = {a.cost:g} }}"
                f"  # from {', '.join(a.sources)}; {a.basis}"
            )
        for u in group:
            if not u.call.model or "$" in u.call.model:
                lines.append(
                    f"# {u.name} gives no --model: add the model(s) it used under "
                    f"[harnesses.{harness}.models]"
                )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
