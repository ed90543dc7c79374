"""What a simulated session does, and the grade rota's own grading code gives it.

A scenario arm may describe, per category, the distribution of what its sessions achieve instead
of a mean reward: how often it commits and how much, whether the tests turn green or break, pull
requests, tool-error storms, the turn limit, crashes, and how noisy an LLM judge is about it. Each
simulated session is drawn from that description as the trajectory and workspace facts a real
session would leave (rota.reward.score.Facts), and graded by `rota.reward.score.grade`, the same
function `rota run` uses. So the simulator learns from grades with the product's magnitude and
shape, not from a Beta draw around a number.

    [arms.outcomes.default]     # or [arms.outcomes.code], per category
    commit = 0.6                # P(the session commits)
    commits = 2.0               # mean commits when it does (1 + Poisson(commits − 1))
    lines = 60                  # median lines changed per commit (log-normal, sigma 1)
    files = 2.0                 # mean files per commit (at least 1)
    uncommitted = 0.3           # P(work left uncommitted) when it does not commit
    fix = 0.3                   # P(failing tests turn green), when they fail before
    breaks = 0.05               # P(passing tests break)
    red = 0.3                   # P(the tests fail before the session)
    pr = 0.2                    # P(a pull request) when it commits
    storm = 0.05                # P(a tool-error storm: 20 to 60 failing calls)
    turn_limit = 0.02           # P(it stops on the turn limit)
    crash = 0.03                # P(it crashes or times out)
    judge_noise = 0.0           # sd of an LLM judge's score around the grade; > 0 adds a judge
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from rota.errors import ConfigError
from rota.reward.score import Facts, grade
from rota.reward.settings import DEFAULT, RewardSettings
from rota.trajectory.record import SuiteRun, Trajectory, WorkspaceSummary

MEAN_SAMPLES = 4000  # draws behind an arm's true mean (the oracle's knowledge)
GREEN = SuiteRun(passed=True, exit_code=0)
RED = SuiteRun(passed=False, exit_code=1)


@dataclass(frozen=True, slots=True)
class OutcomeSpec:
    commit: float = 0.6
    commits: float = 2.0
    lines: float = 60.0
    files: float = 2.0
    uncommitted: float = 0.3
    fix: float = 0.3
    breaks: float = 0.05
    red: float = 0.3
    pr: float = 0.2
    storm: float = 0.05
    turn_limit: float = 0.02
    crash: float = 0.03
    judge_noise: float = 0.0


_PROBABILITIES = ("commit", "uncommitted", "fix", "breaks", "red", "pr", "storm", "turn_limit", "crash")


def parse(table: Mapping[str, Any], key: str, path: str | None) -> OutcomeSpec:
    """One [arms.outcomes.CATEGORY] table -> OutcomeSpec; ConfigError names the key."""
    names = {f.name for f in fields(OutcomeSpec)}
    values: dict[str, float] = {}
    for k, v in table.items():
        if k not in names:
            raise ConfigError(
                f"unknown key {k!r}; expected one of: {', '.join(sorted(names))}",
                path=path,
                key=f"{key}.{k}",
            )
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
            raise ConfigError(f"expected a number >= 0, got {v!r}", path=path, key=f"{key}.{k}")
        if k in _PROBABILITIES and v > 1:
            raise ConfigError(
                f"expected a probability from 0 to 1, got {v!r}", path=path, key=f"{key}.{k}"
            )
        values[k] = float(v)
    if values.get("commits", 1.0) < 1:
        raise ConfigError("expected at least 1 (commits when it commits)", path=path, key=f"{key}.commits")
    return OutcomeSpec(**values)


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    # Knuth's method: fine for the small means used here
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def draw_facts(spec: OutcomeSpec, rng: random.Random) -> Facts:
    """One simulated session's trajectory and workspace, as rota would measure them."""
    crashed = rng.random() < spec.crash
    red_before = rng.random() < spec.red
    before = RED if red_before else GREEN
    t = Trajectory(source="simulated", tool_calls=0, tool_errors=0)
    w = WorkspaceSummary(commits=0, lines_added=0, lines_removed=0, committed_files=0,
                         files_touched=0, uncommitted_files=0, uncommitted_lines=0,
                         tests_before=before)
    calls = 5 + _poisson(rng, 20)
    errors = _poisson(rng, 1)
    if rng.random() < spec.storm:
        errors = rng.randint(20, 60)
        calls = max(calls, errors + rng.randint(0, 5))
    t.tool_calls, t.tool_errors = calls, min(errors, calls)
    t.turn_limit = rng.random() < spec.turn_limit
    if rng.random() < spec.commit:
        n = 1 + _poisson(rng, spec.commits - 1)
        lines = sum(max(1, int(rng.lognormvariate(math.log(max(1.0, spec.lines)), 1.0))) for _ in range(n))
        files = sum(max(1, 1 + _poisson(rng, spec.files - 1)) for _ in range(n))
        w.commits, w.lines_added, w.committed_files, w.files_touched = n, lines, files, files
        if rng.random() < spec.pr:
            t.prs = ["https://forge.invalid/sim/pull/1"]
    elif rng.random() < spec.uncommitted:
        lines = max(1, int(rng.lognormvariate(math.log(max(1.0, spec.lines)), 1.0)))
        files = max(1, 1 + _poisson(rng, spec.files - 1))
        w.uncommitted_files, w.uncommitted_lines = files, lines
        w.lines_added, w.files_touched = lines, files
    worked = bool(w.commits or w.uncommitted_files)
    if red_before:
        green = worked and rng.random() < spec.fix
    else:
        green = not (worked and rng.random() < spec.breaks)
    w.tests_after = GREEN if green else RED
    return Facts(exit_ok=not crashed, trajectory=t, workspace=w)


def draw_reward(spec: OutcomeSpec, rng: random.Random, settings: RewardSettings = DEFAULT) -> float:
    """One simulated session's grade, by the product's grading code (a judge's noisy score is
    added when judge_noise > 0). A session with no grade counts as 0."""
    facts = draw_facts(spec, rng)
    if spec.judge_noise > 0:
        truth = grade(facts, settings).reward or 0.0
        facts.judge = min(1.0, max(0.0, rng.gauss(truth, spec.judge_noise)))
    g = grade(facts, settings).reward
    return 0.0 if g is None else g


def mean_reward(
    spec: OutcomeSpec, settings: RewardSettings = DEFAULT, samples: int = MEAN_SAMPLES, seed: int = 0
) -> float:
    """The arm's true mean grade (what the oracle knows), by Monte Carlo with a fixed seed."""
    rng = random.Random(seed)
    return sum(draw_reward(spec, rng, settings) for _ in range(samples)) / samples


__all__ = ["OutcomeSpec", "draw_facts", "draw_reward", "mean_reward", "parse"]
