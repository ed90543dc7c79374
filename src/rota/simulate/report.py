"""The report: a table for people, and the same figures as JSON (keyed by policy name)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rota.simulate.metrics import AFTER_EVENT_SLOTS, PolicySummary, Stat
from rota.simulate.scenario import Scenario


@dataclass(slots=True)
class ScenarioResult:
    scenario: Scenario
    replicates: int
    seed: int
    summaries: Mapping[str, PolicySummary]  # in the order policies were listed
    seconds: float = 0.0


def _num(x: float, digits: int = 4) -> float | None:
    return None if math.isnan(x) else round(x, digits)


def _flat(out: dict[str, object], key: str, s: Stat, digits: int = 4) -> None:
    out[key] = _num(s.mean, digits)
    out[f"{key}_ci95"] = [_num(s.lo, digits), _num(s.hi, digits)]


def policy_json(s: PolicySummary) -> dict[str, object]:
    out: dict[str, object] = {}
    _flat(out, "reward_per_slot", s.reward_per_slot)
    _flat(out, "pct_of_oracle", s.pct_of_oracle, 2)
    _flat(out, "wasted", s.wasted, 2)
    out["wasted_by_cause"] = {
        "visible_pool": _num(s.wasted_visible.mean, 2),
        "invisible_pool": _num(s.wasted_invisible.mean, 2),
        "outage": _num(s.wasted_outage.mean, 2),
    }
    out["waste_per_invisible_exhaustion"] = _num(s.waste_per_exhaustion.mean, 3)
    _flat(out, "cost_per_reward", s.cost_per_reward)
    out["idle_slots"] = _num(s.idle.mean, 2)
    events = []
    for e in s.events:
        ev: dict[str, object] = {"slot": e["slot"], "event": e["event"], "slots": e["slots"]}
        _flat(ev, "reward", e["reward"])  # type: ignore[arg-type]
        _flat(ev, "pct_of_oracle", e["pct_of_oracle"], 2)  # type: ignore[arg-type]
        events.append(ev)
    out["after_events"] = events
    out["new_arms"] = {}
    for arm, st in s.new_arms.items():
        d: dict[str, object] = {}
        _flat(d, "picked_when_best_pct", st, 2)
        _flat(d, "adopted_after_best_slots", s.adoption[arm], 1)
        out["new_arms"][arm] = d  # type: ignore[index]
    return out


def scenario_json(r: ScenarioResult) -> dict[str, object]:
    sc = r.scenario
    return {
        "scenario": sc.name,
        "path": sc.path,
        "sessions": sc.sessions,
        "replicates": r.replicates,
        "seed": r.seed,
        "after_event_slots": AFTER_EVENT_SLOTS,
        "seconds": round(r.seconds, 2),
        "policies": {name: policy_json(s) for name, s in r.summaries.items()},
    }


def to_json(results: Sequence[ScenarioResult]) -> dict[str, object]:
    """One scenario: its object. Several: {"scenarios": [...]}."""
    if len(results) == 1:
        return scenario_json(results[0])
    return {"scenarios": [scenario_json(r) for r in results]}


def _pm(s: Stat, digits: int, width: int) -> str:
    if math.isnan(s.mean):
        return "-".rjust(width)
    half = (s.hi - s.lo) / 2 if not math.isnan(s.hi) else float("nan")
    txt = f"{s.mean:.{digits}f}" + ("" if math.isnan(half) else f" ±{half:.{digits}f}")
    return txt.rjust(width)


def render_table(r: ScenarioResult) -> str:
    sc = r.scenario
    lines = [
        f"scenario {sc.name} ({sc.path}): {sc.sessions} slots × {r.replicates} replicates, "
        f"seed {r.seed}, mean ±95% CI",
    ]
    head = (
        f"{'policy':<16}{'reward/slot':>17}{'% of oracle':>16}{'wasted':>14}"
        f"{'vis/invis/out':>16}{'cost/reward':>16}{'idle':>8}"
    )
    lines += [head, "-" * len(head)]
    for name, s in r.summaries.items():
        split = (
            f"{s.wasted_visible.mean:.0f}/{s.wasted_invisible.mean:.1f}/{s.wasted_outage.mean:.1f}"
        )
        lines.append(
            f"{name:<16}{_pm(s.reward_per_slot, 4, 17)}{_pm(s.pct_of_oracle, 1, 16)}"
            f"{_pm(s.wasted, 1, 14)}{split:>16}{_pm(s.cost_per_reward, 2, 16)}"
            f"{s.idle.mean:>8.1f}"
        )
    first = next(iter(r.summaries.values()), None)
    if first is not None and first.events:
        lines.append("")
        lines.append(f"reward in the {AFTER_EVENT_SLOTS} slots after each event (% of oracle)")
        heads = [f"@{e['slot']}" for e in first.events]
        lines.append(f"{'policy':<16}" + "".join(f"{h:>22}" for h in heads))
        for name, s in r.summaries.items():
            cells = []
            for e in s.events:
                rew: Stat = e["reward"]  # type: ignore[assignment]
                pct: Stat = e["pct_of_oracle"]  # type: ignore[assignment]
                cells.append(f"{rew.mean:6.1f} ({pct.mean:5.1f}%)".rjust(22))
            lines.append(f"{name:<16}" + "".join(cells))
        for e in first.events:
            lines.append(f"  {e['event']}")
    if first is not None and first.new_arms:
        lines.append("")
        lines.append(
            "new arms: % of the slots where it was the best mean that picked it; "
            "its best slots until picked in 5 of 10"
        )
        for name, s in r.summaries.items():
            cells = ", ".join(
                f"{arm} never the best"
                if math.isnan(st.mean)
                else f"{arm} {st.mean:.0f}%, adopted after {s.adoption[arm].mean:.0f}"
                for arm, st in s.new_arms.items()
            )
            lines.append(f"{name:<16}{cells}")
    return "\n".join(lines)
