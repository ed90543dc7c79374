"""Many `rota run`s at once: each real-CLI scenario is a subprocess that mostly waits (for its
CLI's retries, for a hang to time out), so the scenarios of every CLI run side by side, a few at a
time, and the tests then read the results one by one."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mockapi.plan import SCENARIOS
from realcli.clis import CLI
from realcli.rota_run import RotaRun, rota_session

WORKERS = 6


def run_all(
    jobs: Iterable[tuple[CLI, str]], root: Path, per_scenario: dict[str, dict] | None = None
) -> dict[tuple[str, str], RotaRun | BaseException]:
    """(cli name, scenario name) -> what `rota run` recorded (or the exception the run raised).

    per_scenario: keyword arguments of rota_session for a scenario, e.g.
    {"hang": {"timeout_minutes": 0.3}}."""
    todo = list(jobs)
    extra = per_scenario or {}

    def one(job: tuple[CLI, str]) -> RotaRun | BaseException:
        cli, name = job
        folder = Path(tempfile.mkdtemp(prefix=f"{cli.name}-{name}-", dir=root))
        try:
            return rota_session(cli, SCENARIOS[name], folder, **extra.get(name, {}))
        except BaseException as exc:  # reported by the test that reads it
            return exc

    # The slowest first (a CLI's retries take minutes), so they overlap the many short ones.
    todo.sort(key=lambda j: j[1] not in SLOW_FIRST)
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        results = list(pool.map(one, todo))
    return {(cli.name, name): r for (cli, name), r in zip(todo, results, strict=True)}


SLOW_FIRST = ("rate-limit", "unavailable-503", "server-500", "insufficient-quota", "hang")
