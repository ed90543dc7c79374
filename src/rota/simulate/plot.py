"""Cumulative reward per policy (optional extra: `pip install 'rota[plot]'`).

matplotlib is imported only here, and only when a plot is asked for.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from rota.errors import RotaError
from rota.simulate.report import ScenarioResult


class PlotUnavailable(RotaError):
    exit_code = 1


def check_available() -> None:
    """Fail before a long run, not after it."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise PlotUnavailable(
            "--plot needs matplotlib: pip install 'rota[plot]' (or run without --plot)"
        ) from None


def plot(results: Sequence[ScenarioResult], out: str | os.PathLike[str]) -> Path:
    check_available()
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    n = len(results)
    fig, axes = plt.subplots(n, 1, figsize=(9, 4.2 * n), squeeze=False)
    for ax, r in zip((a[0] for a in axes), results, strict=True):
        for name, s in r.summaries.items():
            style = "--" if name == "oracle" else "-"
            width = 2.2 if name == "rota" else 1.2
            ax.plot(range(1, len(s.cumulative) + 1), s.cumulative, style, lw=width, label=name)
        first = next(iter(r.summaries.values()))
        for e in first.events:
            ax.axvline(int(e["slot"]), color="grey", lw=0.8, ls=":")  # type: ignore[call-overload]
        ax.set_title(f"{r.scenario.name}: cumulative reward ({r.replicates} replicates, mean)")
        ax.set_xlabel("slot")
        ax.set_ylabel("cumulative reward")
        ax.legend(loc="upper left", fontsize="small")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(out)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    try:
        os.chmod(path, 0o600)
    except OSError:
        pass
    return path
