"""How each policy does against the oracle over time (optional extra: `pip install 'rota[plot]'`).

Per scenario, two panels that share the slot axis, each with a 95% band over replicates:
  - a rolling % of the oracle (the reward of the last `window` slots over the oracle's), so a dip
    after an event and the recovery from it are plain to see;
  - the regret: the oracle's cumulative reward less the policy's, so a policy that learns bends
    flat while one that does not keeps climbing.
Events and new arms are drawn as labelled vertical lines.

The figures (`curves`) are plain Python; matplotlib is imported only to draw them.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from rota.errors import RotaError
from rota.simulate.metrics import RunRecord, Stat
from rota.simulate.report import ScenarioResult
from rota.simulate.scenario import Scenario


class PlotUnavailable(RotaError):
    exit_code = 1


@dataclass(frozen=True, slots=True)
class Band:
    mean: list[float]
    lo: list[float]
    hi: list[float]


@dataclass(frozen=True, slots=True)
class Curves:
    """One policy in one scenario, per slot (NaN where undefined)."""

    rolling_pct: Band  # % of the oracle over the last `window` slots
    regret: Band  # oracle's cumulative reward minus the policy's


@dataclass(frozen=True, slots=True)
class ScenarioCurves:
    scenario: Scenario
    replicates: int
    window: int
    policies: Mapping[str, Curves]
    events: list[tuple[int, str]]


def check_available() -> None:
    """Fail before a long run, not after it."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise PlotUnavailable(
            "--plot needs matplotlib: pip install 'rota[plot]' (or run without --plot)"
        ) from None


def default_path(scenarios: Sequence[Scenario]) -> str:
    """`simulate-NAME.png` for one scenario, `simulate.png` for several, in the current folder."""
    if len(scenarios) == 1:
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in scenarios[0].name)
        return f"simulate-{safe or 'scenario'}.png"
    return "simulate.png"


def window_for(sessions: int) -> int:
    return max(10, min(200, sessions // 16))


def _prefix(xs: Sequence[float]) -> list[float]:
    out = [0.0]
    acc = 0.0
    for x in xs:
        acc += x
        out.append(acc)
    return out


def _band(per_rep: Sequence[Sequence[float]]) -> Band:
    mean, lo, hi = [], [], []
    for column in zip(*per_rep, strict=True):
        s = Stat.of(column)
        mean.append(s.mean)
        lo.append(s.lo)
        hi.append(s.hi)
    return Band(mean, lo, hi)


def curves(
    scenario: Scenario,
    runs: Sequence[Mapping[str, RunRecord]],
    policies: Sequence[str],
    *,
    window: int | None = None,
) -> ScenarioCurves:
    """The plotted figures: `runs[i][policy]` is replicate i (the oracle must be present)."""
    slots = scenario.sessions
    w = window or window_for(slots)
    oracle = [_prefix(r["oracle"].rewards) for r in runs]
    out: dict[str, Curves] = {}
    for name in policies:
        pct_reps, regret_reps = [], []
        for rep, best in zip(runs, oracle, strict=True):
            mine = _prefix(rep[name].rewards)
            pct = []
            for i in range(slots):
                a = max(0, i + 1 - w)
                got, ref = mine[i + 1] - mine[a], best[i + 1] - best[a]
                pct.append(100.0 * got / ref if ref > 0 else math.nan)
            pct_reps.append(pct)
            regret_reps.append([best[i + 1] - mine[i + 1] for i in range(slots)])
        out[name] = Curves(rolling_pct=_band(pct_reps), regret=_band(regret_reps))
    return ScenarioCurves(scenario, len(runs), w, out, scenario.milestones())


def plot(
    results: Sequence[ScenarioResult],
    figures: Sequence[ScenarioCurves],
    out: str | os.PathLike[str],
) -> Path:
    check_available()
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    n = len(figures)
    fig, axes = plt.subplots(n, 2, figsize=(14, 4.6 * n), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for row, (r, sc) in enumerate(zip(results, figures, strict=True)):
        pct_ax, regret_ax = axes[row]
        xs = list(range(1, sc.scenario.sessions + 1))
        for i, (name, c) in enumerate(sc.policies.items()):
            colour = "black" if name == "oracle" else colours[i % len(colours)]
            width = 2.4 if name == "rota" else 1.1
            overall = r.summaries[name].pct_of_oracle.mean if name in r.summaries else math.nan
            label = name if math.isnan(overall) else f"{name} ({overall:.1f}% of oracle)"
            if name != "oracle":
                _draw(pct_ax, xs, c.rolling_pct, colour, width, label)
            _draw(regret_ax, xs, c.regret, colour, width, name, dashed=name == "oracle")
        for ax in (pct_ax, regret_ax):
            _events(ax, sc.events)
            ax.set_xlabel("slot")
            ax.grid(alpha=0.3)
            ax.set_xlim(1, sc.scenario.sessions)
        pct_ax.axhline(100, color="black", lw=0.8, ls="--")
        # The first slots' windows are short and jumpy: scale to the bulk of the curves.
        lows = [
            x
            for name, c in sc.policies.items()
            if name != "oracle"
            for x in c.rolling_pct.mean[sc.window :]
            if not math.isnan(x)
        ]
        if lows:
            pct_ax.set_ylim(max(0.0, min(lows) - 8), 108)
        pct_ax.set_ylabel(f"% of oracle, last {sc.window} slots")
        pct_ax.set_title(
            f"{sc.scenario.name}: rolling % of the oracle "
            f"(mean and 95% band over {sc.replicates} replicates)",
            fontsize="medium",
        )
        pct_ax.legend(loc="lower right", fontsize="small")
        regret_ax.set_ylabel("regret (oracle's cumulative reward - policy's)")
        regret_ax.set_title(
            f"{sc.scenario.name}: regret against the oracle (lower is better)", fontsize="medium"
        )
        regret_ax.legend(loc="upper left", fontsize="small")
    fig.tight_layout()
    path = Path(out)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    try:
        os.chmod(path, 0o600)
    except OSError:
        pass
    return path


def _draw(ax, xs, band: Band, colour, width, label, dashed=False) -> None:  # type: ignore[no-untyped-def]
    ax.plot(xs, band.mean, "--" if dashed else "-", color=colour, lw=width, label=label)
    if any(lo != hi for lo, hi in zip(band.lo, band.hi, strict=True) if not math.isnan(lo)):
        ax.fill_between(xs, band.lo, band.hi, color=colour, alpha=0.15, lw=0)


def _events(ax, events: Sequence[tuple[int, str]]) -> None:  # type: ignore[no-untyped-def]
    for k, (slot, label) in enumerate(events):
        ax.axvline(slot, color="grey", lw=0.9, ls=":")
        ax.annotate(
            label,
            xy=(slot, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, -4 - 11 * (k % 3)),
            textcoords="offset points",
            fontsize="x-small",
            color="dimgrey",
            va="top",
        )
