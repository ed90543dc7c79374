"""Grading a session (the grading step of `rota run`): before the harness starts, the workspace's
baseline (and its tests, with [grading] test_before = true); after it ends, its trajectory
(rota.trajectory), what it left in the workspace, the tests, the grader command and the LLM judge,
then the graded reward (rota.reward.score) with its reasons.

`prepare()` runs before the harness, `grade_run()` after it. Neither raises for anything a
harness, a test command, a grader or a judge does: what could not be measured is recorded under
signals.errors and the grade comes from the rest. What a graded session stores is described in
rota.reward.show.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rota.config import Config
from rota.harnesses.base import HarnessProfile
from rota.reward import judge as judging
from rota.reward.digest import digest
from rota.reward.grader import run_grader
from rota.reward.score import Facts, grade
from rota.reward.settings import RewardSettings
from rota.session.execute import LogFile, ProcessResult
from rota.session.stop import StopFlag
from rota.trajectory import HarnessOutput, read, reader_kind
from rota.trajectory.record import SuiteRun, Trajectory, WorkspaceSummary
from rota.trajectory.suite import run_suite
from rota.trajectory.workspace import Baseline, baseline, diffstat, summarize


@dataclass(frozen=True, slots=True)
class Commands:
    """How grading commands run: in the workspace, with the session's ROTA_* variables."""

    env: Mapping[str, str]
    timeout_s: float
    kill_grace_s: float = 10.0
    stop: StopFlag | None = None
    log: LogFile | None = None

    def tests(self, test_command: tuple[str, ...], workspace: Path, label: str) -> SuiteRun:
        """The workspace's test command, run as every grading command is."""
        return run_suite(
            test_command,
            workspace,
            env=self.env,
            timeout_s=self.timeout_s,
            kill_grace_s=self.kill_grace_s,
            stop=self.stop,
            log=self.log,
            label=label,
        )


@dataclass(frozen=True, slots=True)
class JudgeSetup:
    """The judge arm, resolved from [grading] judge: its reader kind, profile and environment."""

    arm: str
    kind: str
    profile: HarnessProfile
    env: Mapping[str, str]
    timeout_s: float = 120.0
    exclude_same_family: bool = True
    blocked: str = ""  # why the judge arm is blocked now: it is not asked


@dataclass(slots=True)
class Graded:
    reward: float | None
    signals: dict[str, Any]
    detail: dict[str, Any]
    trajectory: Trajectory
    workspace: WorkspaceSummary
    verdict: judging.Verdict | None = None
    interrupted: bool = False  # rota was asked to stop while grading: no grade
    errors: dict[str, str] = field(default_factory=dict)


def prepare(
    workspace: Path, test_command: tuple[str, ...], settings: RewardSettings, run: Commands
) -> Baseline:
    """The workspace before the session (and its tests, with test_before)."""
    base = baseline(workspace)
    if settings.test_before and test_command:
        base.tests = run.tests(test_command, workspace, "tests before the session")
    return base


def grade_run(
    *,
    workspace: Path,
    base: Baseline,
    result: ProcessResult,
    reader: str,
    harness_env: Mapping[str, str],
    log_path: Path | None,
    task: str,
    arm: str,
    meta: Mapping[str, Any],
    settings: RewardSettings,
    test_command: tuple[str, ...],
    grader_command: tuple[str, ...],
    run: Commands,
    judge: JudgeSetup | None = None,
) -> Graded:
    errors: dict[str, str] = {}
    out = HarnessOutput(
        stdout=result.stdout,
        stderr=result.stderr,
        exit_code=result.exit_code,
        log_path=log_path,
        env=harness_env,
        workspace=workspace,
        started_at=result.started_at,
        ended_at=result.ended_at,
    )
    traj = read(reader, out)
    interrupted = False
    after: SuiteRun | None = None
    if test_command:
        after = run.tests(test_command, workspace, "tests after the session")
        if after.error == "interrupted":
            interrupted = True
        elif after.error:
            errors["tests"] = f"test command {after.error}"
        elif after.timed_out:
            errors["tests"] = f"test command timed out after {run.timeout_s:.0f}s"
    if base.tests is not None and base.tests.error:
        errors["tests_before"] = f"test command before the session {base.tests.error}"
    ws = summarize(workspace, base, after)
    for note in ws.notes:
        errors.setdefault("workspace", note)
    exit_ok = result.exit_code == 0 and not result.timed_out
    facts = Facts(exit_ok=exit_ok, trajectory=traj, workspace=ws)

    if grader_command and not interrupted:
        payload = dict(meta)
        payload["trajectory"] = traj.to_dict()
        payload["workspace"] = ws.to_dict()
        payload["grade"] = grade(facts, settings).to_dict()
        score, error, stopped = run_grader(
            grader_command,
            workspace,
            payload,
            env=run.env,
            timeout_s=run.timeout_s,
            kill_grace_s=run.kill_grace_s,
            stop=run.stop,
            log=run.log,
        )
        interrupted = interrupted or stopped
        if error:
            errors["grader"] = error
        facts.grader = score

    verdict: judging.Verdict | None = None
    if judge is not None and not interrupted:
        verdict = _judge(judge, arm, task, traj, ws, base, workspace, run)
        if verdict.status == "interrupted":
            interrupted = True
        elif verdict.score is not None:
            facts.judge = verdict.score
        elif verdict.error:
            errors["judge"] = verdict.error

    g = grade(facts, settings)
    reward = None if interrupted else g.reward
    if reward is None and not interrupted:
        errors["reward"] = "no gain with a weight > 0 could be measured"
    signals: dict[str, Any] = {"grade": g.to_dict(), "reasons": g.reasons}
    if verdict is not None:
        signals["judge"] = verdict.to_dict()
    if errors:
        signals["errors"] = errors
    detail: dict[str, Any] = {"trajectory": traj.to_dict(), "workspace": ws.to_dict()}
    cost = traj.cost_summary()
    if cost is not None:
        detail["cost"] = cost
    return Graded(reward, signals, detail, traj, ws, verdict, interrupted, errors)


def _judge(
    judge: JudgeSetup,
    arm: str,
    task: str,
    traj: Trajectory,
    ws: WorkspaceSummary,
    base: Baseline,
    workspace: Path,
    run: Commands,
) -> judging.Verdict:
    if judge.blocked:
        return judging.Verdict(judge.arm, "skipped", error=f"{judge.arm} is blocked: {judge.blocked}")
    if judge.exclude_same_family and judging.same_family(judge.arm, arm):
        return judging.Verdict(
            judge.arm,
            "skipped",
            error=f"{judge.arm} and {arm} are of the same family "
            "([grading] judge_exclude_same_family = true)",
        )
    text = digest(task, traj, ws, diffstat(workspace, base.snapshot.head) if ws.git else "")
    return judging.run_judge(
        judge.arm,
        judge.kind,
        judge.profile,
        text,
        env=judge.env,
        timeout_s=judge.timeout_s,
        stop=run.stop,
        log=run.log,
    )


def judge_setup(config: Config, blocked: Mapping[str, str] | None = None) -> JudgeSetup | None:
    """The judge of [grading] judge, resolved to its profile and environment (None without one).
    `blocked`: arm -> why, for a judge arm that is blocked now (it is not asked, and says so)."""
    from rota.harnesses import get_profile

    g = config.grading
    if not g.judge or g.judge not in config.arms:
        return None
    from rota.harnesses.environment import for_harness

    harness = config.arms[g.judge].harness
    hc = config.harnesses[harness]
    profile = get_profile(harness, hc)
    # The judge is a harness too: its own credentials, not every other harness's.
    env, _ = for_harness(
        os.environ,
        profile=profile.name,
        name=hc.name,
        auth_env=profile.auth_env,
        config_env=hc.env,
        pass_env=hc.pass_env,
    )
    return JudgeSetup(
        arm=g.judge,
        kind=reader_kind(harness, dict(hc.quota)),
        profile=profile,
        env=env,
        timeout_s=g.judge_timeout_seconds,
        exclude_same_family=g.judge_exclude_same_family,
        blocked=(blocked or {}).get(g.judge, ""),
    )


def grading_env(meta: Mapping[str, Any], workspace: Path) -> dict[str, str]:
    """os.environ and the session's ROTA_* variables, for the test and grader commands."""
    env = dict(os.environ)
    env.update(
        {
            "ROTA_SESSION_ID": str(meta.get("session_id", "")),
            "ROTA_LOG_PATH": str(meta.get("log_path", "")),
            "ROTA_CATEGORY": str(meta.get("category", "")),
            "ROTA_ARM": str(meta.get("arm_ran") or meta.get("arm") or ""),
            "ROTA_WORKSPACE": str(workspace),
        }
    )
    return env


__all__ = [
    "Commands",
    "Graded",
    "JudgeSetup",
    "grade_run",
    "grading_env",
    "judge_setup",
    "prepare",
]
