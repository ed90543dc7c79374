"""What a session that ran amounts to: classify how it ended, credit the arm that actually ran,
turn a limit hit, a harness that cannot start or a crash loop into blocks, and grade it. The rules
are rota.session.outcome (pure); this step reads what they need from the store (earlier blocks,
the probe cache, recent sessions) and runs the grader. Nothing is written here: the result is
the SessionOutcome that rota.session.record.finish stores."""

from __future__ import annotations

from typing import Any

from rota import journal
from rota.config import Config
from rota.harnesses.base import LimitHit
from rota.quota.state import Block
from rota.session import grading
from rota.session.execute import LogFile
from rota.session.launch import Ran
from rota.session.outcome import (
    CRASH_LOOKBACK,
    CRASH_STATES,
    GRADED_STATES,
    SEEN_MAX_AGE_S,
    Scope,
    arm_that_ran,
    blocks_on,
    classify,
    crash_loop_block,
    crash_streak,
    limit_scopes,
    start_failure_block,
)
from rota.session.record import Started
from rota.session.stop import StopFlag
from rota.store.base import RATE_LIMITED, SessionOutcome, Store


def blocks_after_limit(
    store: Store, config: Config, hit: LimitHit, arm: str, now: float
) -> tuple[list[Block], list[Scope]]:
    """The blocks a limit hit on `arm` creates, with what the store knows: the probe answers of
    the hour before (to narrow what the hit covers) and the latest block on each scope (for the
    backoff)."""
    try:
        seen = store.cached_quota_states(SEEN_MAX_AGE_S, now)
    except Exception:
        seen = []
    scopes = limit_scopes(config, hit, arm, now, seen)
    previous = [b for kind, scope in scopes if (b := store.latest_block(kind, scope)) is not None]
    return blocks_on(scopes, hit, now, previous), scopes


def crash_loop(
    store: Store, config: Config, arm: str, status: str, now: float
) -> tuple[Block, int] | None:
    """(the block on `arm`, the streak) when this session makes [health] crash_streak crashed or
    timed-out sessions in a row."""
    if status not in CRASH_STATES:
        return None
    streak = crash_streak(store.recent_sessions(CRASH_LOOKBACK), arm, status)
    if streak < config.health.crash_streak:
        return None
    return crash_loop_block(arm, streak, now, store.latest_block("arm", arm)), streak


def interpret(
    store: Store, started: Started, ran: Ran, stop: StopFlag, log: LogFile
) -> SessionOutcome:
    """The SessionOutcome of a session whose harness has ended: its state, the arm it credits,
    the blocks it creates, its grade and signals."""
    plan, res = started.plan, ran.result
    status, hit, error = classify(res, plan.profile)
    if error:
        journal.log_event("warning", level="warning", reason=error)
    arm_ran, model_seen = arm_that_ran(plan.config, plan.harness, plan.profile, res.stdout)
    credited = arm_ran or plan.arm
    ended = res.ended_at
    detail: dict[str, Any] = {"process": res.to_dict()}
    if model_seen:
        detail["model_seen"] = model_seen
    if arm_ran and arm_ran != plan.arm:
        detail["model_switch"] = f"selected {plan.arm}, ran {arm_ran}"
        log.note(f"model switch: selected {plan.arm}, the harness ran {model_seen} ({arm_ran})")
    blocks: list[Block] = []
    grade = grading.Grade(None, {})
    if status == RATE_LIMITED and hit is not None:
        blocks, scopes = blocks_after_limit(store, plan.config, hit, credited, ended)
        detail["limit"] = {
            "message": hit.message,
            "resets_at": hit.resets_at,
            "window": hit.window,
            "scopes": [f"{k}:{s}" for k, s in scopes],
        }
        log.note(f"rate limited: {hit.message}")
    elif not res.started:
        detail["error"] = res.error
        previous = store.latest_block("harness", plan.harness)
        blocks.append(start_failure_block(plan.harness, res.error, ended, previous))
    elif status in GRADED_STATES:
        grade = grade_session(started, ran, status, credited, model_seen, stop, log)
        loop = crash_loop(store, plan.config, credited, status, ended)
        if loop is not None:
            blocks.append(loop[0])
            detail["crash_loop"] = loop[1]
    return SessionOutcome(
        status=status,
        ended_at=ended,
        exit_code=res.exit_code,
        arm_ran=arm_ran,
        reward=grade.reward,
        signals=grade.signals,
        detail=detail,
        blocks=blocks,
    )


def grade_session(
    started: Started,
    ran: Ran,
    status: str,
    credited: str,
    model_seen: str | None,
    stop: StopFlag,
    log: LogFile,
) -> grading.Grade:
    """Grade what the session did (rota.session.grading); a grader's errors go to the journal."""
    plan, res = started.plan, ran.result
    try:
        harness_signals = plan.profile.result_signals(res.stdout)
    except Exception:
        harness_signals = {}
    g = grading.grade_session(
        workspace=plan.site.workspace,
        before=ran.before,
        result=res,
        harness_signals=harness_signals,
        weights=plan.config.grading.weights,
        meta={
            "session_id": started.id,
            "category": plan.category,
            "arm": plan.arm,
            "arm_ran": credited,
            "harness": plan.harness,
            "model": plan.model,
            "model_seen": model_seen,
            "status": status,
            "exit_code": res.exit_code,
            "started_at": res.started_at,
            "ended_at": res.ended_at,
            "duration_s": round(res.duration_s, 3),
            "workspace": str(plan.site.workspace),
            "log_path": str(plan.paths.log),
            "prompt_file": str(plan.paths.prompt),
        },
        test_command=plan.config.run.test_command,
        grader_command=plan.config.run.grader_command,
        timeout_s=plan.timeout_s,
        kill_grace_s=plan.config.run.kill_grace_seconds,
        stop=stop,
        log=log,
    )
    for name, err in (g.signals.get("errors") or {}).items():
        journal.log_event(
            "grader_error", level="warning", session=started.id, signal=name, reason=err
        )
    return g


__all__ = ["blocks_after_limit", "crash_loop", "grade_session", "interpret"]
