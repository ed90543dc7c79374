"""The graded reward: what a session achieved -> a number in [0, 1] with its reasons. Pure: no
I/O; the runner, `rota sessions`, the follow-up pass and the simulator all call `grade()`.

    reward = clip( Σ weight·gain / Σ weight  −  Σ penalties , 0, 1 )

Gains, each in [0, 1] (left out of both sums when it cannot be measured):
  finished  1 when the harness exited 0 in time and did not report an error itself
  commits   1 − ½ⁿ for n commits that were kept (1: 0.5, 2: 0.75, 3: 0.875, …)
  size      u / (u + size_half): u = lines changed + file_lines × files touched, counting
            committed work; work left uncommitted counts at uncommitted_share, with half the
            share for changing anything at all. Diminishing returns: one giant diff cannot
            outweigh everything else.
  tests     failing → passing 1.0; passing → passing 0.6 (+0.4·k/(k+3) for k tests added);
            passing after, not run before 0.6; failing → failing with fewer failures
            0.5 × the fraction fixed; otherwise 0
  pr        a pull request opened 0.8, merged 1.0 (a follow-up), pushed without one 0.4
  judge     the LLM judge's score, when [grading] judge is set and it answered
  grader    the score [run] grader_command printed
Penalties, subtracted:
  broke_tests  the tests passed before the session and fail after it
  error_storm  × min(1, (errors − storm_free)/(storm_full − storm_free)) × error rate
  turn_limit   the harness stopped on its turn limit
  reverted     × the share of the session's commits reverted later (a follow-up)
  unmerged     its commits did not reach the default branch within followup_days (a follow-up)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rota.reward.settings import DEFAULT, RewardSettings
from rota.trajectory.record import SuiteRun, Trajectory, WorkspaceSummary

KEPT_GREEN = 0.6
TESTS_ADDED_HALF = 3.0
PR_OPENED, PR_MERGED, PUSHED = 0.8, 1.0, 0.4


@dataclass(slots=True)
class FollowUp:
    """What became of the session's work later (rota.reward.followup)."""

    reverted: int = 0  # of its commits, reverted since
    on_default_branch: bool | None = None  # None: not known yet (inside followup_days)
    pr_merged: bool | None = None
    checked_at: float = 0.0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "reverted": self.reverted,
            "on_default_branch": self.on_default_branch,
            "pr_merged": self.pr_merged,
            "checked_at": self.checked_at,
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, d: Any) -> FollowUp | None:
        if not isinstance(d, Mapping):
            return None
        return cls(
            reverted=int(d.get("reverted") or 0),
            on_default_branch=d.get("on_default_branch"),
            pr_merged=d.get("pr_merged"),
            checked_at=float(d.get("checked_at") or 0.0),
            notes=[str(x) for x in d.get("notes") or []],
        )


@dataclass(slots=True)
class Facts:
    """Everything the grade is computed from."""

    exit_ok: bool  # exited 0, not timed out
    trajectory: Trajectory = field(default_factory=Trajectory)
    workspace: WorkspaceSummary = field(default_factory=WorkspaceSummary)
    judge: float | None = None
    grader: float | None = None
    followup: FollowUp | None = None


@dataclass(slots=True)
class Part:
    name: str
    value: float  # a gain in [0, 1], or the amount a penalty subtracts
    weight: float
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": round(self.value, 4),
            "weight": self.weight,
            "reason": self.reason,
        }


@dataclass(slots=True)
class Graded:
    reward: float | None
    gains: list[Part]
    penalties: list[Part]

    @property
    def reasons(self) -> list[str]:
        out = [f"{p.name} {p.value:.2f} (weight {p.weight:g}): {p.reason}" for p in self.gains]
        out += [f"−{p.value:.2f} {p.name}: {p.reason}" for p in self.penalties]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "reward": self.reward,
            "gains": {p.name: p.to_dict() for p in self.gains},
            "penalties": {p.name: p.to_dict() for p in self.penalties},
        }


def saturate(x: float, half: float) -> float:
    """x / (x + half): 0 at 0, ½ at `half`, approaching 1."""
    return 0.0 if x <= 0 else x / (x + half)


def commits_gain(n: int) -> float:
    return 0.0 if n <= 0 else 1.0 - 0.5**n


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _finished(f: Facts) -> Part:
    v = f.trajectory.verdict
    if not f.exit_ok:
        return Part("finished", 0.0, 0, "the harness failed, was killed or timed out")
    if v is False:
        return Part("finished", 0.0, 0, "exited 0, but the harness reported an error")
    return Part("finished", 1.0, 0, "exited 0" + (", the harness reported success" if v else ""))


def _work(f: Facts, s: RewardSettings) -> list[Part]:
    w = f.workspace
    if not w.git:  # no commits to count: the files changed are the work
        if w.files_touched is None:
            return []
        units = s.file_lines * w.files_touched
        reason = f"{_plural(w.files_touched, 'file')} changed (not a git repository)"
        return [Part("size", saturate(units, s.size_half), 0, reason)]
    if w.commits is None:
        return []
    fu = f.followup
    reverted = min(w.commits, (fu.reverted if fu else 0) + w.reverted)
    kept = max(0, w.commits - reverted)
    share_kept = kept / w.commits if w.commits else 0.0
    c_lines = (w.committed_lines or 0) * share_kept
    c_files = (w.committed_files or 0) * share_kept
    units = c_lines + s.file_lines * c_files
    note = f" ({_plural(reverted, 'commit')} reverted)" if reverted else ""
    commits = Part(
        "commits",
        commits_gain(kept),
        0,
        (f"{_plural(kept, 'commit')} kept" + note) if w.commits else "no commit",
    )
    if kept:
        size = Part(
            "size",
            saturate(units, s.size_half),
            0,
            f"{_plural(round(c_lines), 'line')} in {_plural(round(c_files), 'file')} committed "
            f"({units:.0f} units; {s.size_half:g} give half)",
        )
    elif w.uncommitted_files:
        u_units = (w.uncommitted_lines or 0) + s.file_lines * w.uncommitted_files
        value = s.uncommitted_share * (0.5 + 0.5 * saturate(u_units, s.size_half))
        size = Part(
            "size",
            value,
            0,
            f"{_plural(w.uncommitted_lines or 0, 'line')} in {_plural(w.uncommitted_files, 'file')} "
            f"changed but not committed (counted at {s.uncommitted_share:g})",
        )
    else:
        size = Part("size", 0.0, 0, "nothing changed" + note)
    return [commits, size]


def _ran(t: SuiteRun | None) -> bool:
    return t is not None and not t.error


def suite_outcome(before: SuiteRun | None, after: SuiteRun | None) -> tuple[float, str, bool] | None:
    """(gain, reason, broke) from the test runs, or None when the tests were not run after."""
    if not _ran(after):
        return None
    assert after is not None
    if not _ran(before):
        if after.passed:
            return KEPT_GREEN, "tests pass after the session (not run before)", False
        return 0.0, "tests fail after the session (not run before)", False
    assert before is not None
    if not before.passed and after.passed:
        return 1.0, "tests went from failing to passing", False
    if before.passed and after.passed:
        added = 0
        if before.tests_passed is not None and after.tests_passed is not None:
            added = max(0, after.tests_passed - before.tests_passed)
        if added:
            value = KEPT_GREEN + (1 - KEPT_GREEN) * saturate(added, TESTS_ADDED_HALF)
            return value, f"tests still pass, {_plural(added, 'test')} more", False
        return KEPT_GREEN, "tests passed before and still pass", False
    if before.passed and not after.passed:
        return 0.0, "tests passed before the session and fail after it", True
    fb, fa = before.tests_failed, after.tests_failed
    if fb and fa is not None and fa < fb:
        fixed = (fb - fa) / fb
        return 0.5 * fixed, f"tests still fail: {fa} of {fb} failures left", False
    return 0.0, "tests failed before and still fail", False


def _pr(f: Facts) -> Part:
    t = f.trajectory
    merged = f.followup.pr_merged if f.followup else None
    if t.prs and merged:
        return Part("pr", PR_MERGED, 0, f"pull request merged: {t.prs[0]}")
    if t.prs:
        return Part("pr", PR_OPENED, 0, f"pull request opened: {t.prs[0]}")
    if f.workspace.pushed_refs or t.pushes:
        return Part("pr", PUSHED, 0, "pushed, no pull request")
    return Part("pr", 0.0, 0, "no pull request or push")


def _storm(t: Trajectory, s: RewardSettings) -> tuple[float, str] | None:
    errors, rate = t.tool_errors or 0, t.error_rate
    if rate is None or errors <= s.storm_free:
        return None
    level = min(1.0, (errors - s.storm_free) / (s.storm_full - s.storm_free)) * rate
    if level <= 0:
        return None
    return level, f"{errors} of {t.tool_calls} tool calls failed"


def grade(f: Facts, s: RewardSettings = DEFAULT) -> Graded:
    gains: list[Part] = [_finished(f), *_work(f, s)]
    tests = suite_outcome(f.workspace.tests_before, f.workspace.tests_after)
    if tests is not None:
        gains.append(Part("tests", tests[0], 0, tests[1]))
    if f.trajectory.source != "none" or f.workspace.git:
        gains.append(_pr(f))
    if f.judge is not None:
        gains.append(Part("judge", f.judge, 0, "the LLM judge's score"))
    if f.grader is not None:
        gains.append(Part("grader", f.grader, 0, "the grader command's score"))
    for p in gains:
        p.weight = float(s.weights.get(p.name, 0.0))
        p.value = min(1.0, max(0.0, p.value))
    used = [p for p in gains if p.weight > 0]

    penalties: list[Part] = []

    def penalize(name: str, level: float, reason: str) -> None:
        w = float(s.penalties.get(name, 0.0))
        if w > 0 and level > 0:
            penalties.append(Part(name, w * min(1.0, level), w, reason))

    if tests is not None and tests[2]:
        penalize("broke_tests", 1.0, tests[1])
    storm = _storm(f.trajectory, s)
    if storm is not None:
        penalize("error_storm", storm[0], storm[1])
    if f.trajectory.turn_limit:
        penalize("turn_limit", 1.0, "the harness stopped on its turn limit")
    fu = f.followup
    w = f.workspace
    if fu is not None and fu.reverted and w.commits:
        penalize(
            "reverted",
            min(1.0, fu.reverted / w.commits),
            f"{_plural(fu.reverted, 'commit')} of {w.commits} reverted since",
        )
    if fu is not None and fu.on_default_branch is False and w.commits:
        penalize("unmerged", 1.0, "its commits did not reach the default branch in time")

    den = sum(p.weight for p in used)
    if den <= 0:
        return Graded(None, gains, penalties)
    raw = sum(p.weight * p.value for p in used) / den - sum(p.value for p in penalties)
    if math.isnan(raw):
        return Graded(None, gains, penalties)
    return Graded(round(min(1.0, max(0.0, raw)), 6), gains, penalties)


__all__ = [
    "Facts",
    "FollowUp",
    "Graded",
    "Part",
    "commits_gain",
    "grade",
    "saturate",
    "suite_outcome",
]
