"""What a session that ran amounts to: classify how it ended, credit the arm that actually ran,
turn a limit hit, a harness that cannot start or a crash loop into blocks, and grade it. The rules
are rota.session.outcome (pure); this step reads what they need from the store (earlier blocks,
the probe cache, recent sessions, blocks on the judge) and grades (rota.session.grading). Nothing
is written here: the result is the SessionOutcome that rota.session.record.finish stores."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rota import journal
from rota.config import Config
from rota.errors import StoreUnavailable
from rota.harnesses.base import InfraFailure, LimitHit
from rota.quota.state import Block
from rota.reward.judge import Verdict
from rota.session import grading, infra
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
)
from rota.session.plan import Plan
from rota.session.record import Started
from rota.session.stop import StopFlag
from rota.store.base import (
    COMPLETED,
    CRASHED,
    INTERRUPTED,
    RATE_LIMITED,
    TIMED_OUT,
    SessionOutcome,
    Store,
)
from rota.timefmt import iso
from rota.trajectory import reader_kind


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
    previous = [b for kind, scope in scopes if (b := _latest(store, kind, scope)) is not None]
    return blocks_on(scopes, hit, now, previous), scopes


def _latest(store: Store, kind: str, scope: str) -> Block | None:
    """The previous block on a scope (for a growing backoff). A store failing here must not cost
    the session its outcome: the backoff then starts again from its first step."""
    try:
        return store.latest_block(kind, scope)
    except StoreUnavailable:
        return None


def crash_loop(
    store: Store, config: Config, arm: str, status: str, now: float
) -> tuple[Block, int] | None:
    """(the block on `arm`, the streak) when this session makes [health] crash_streak crashed or
    timed-out sessions in a row."""
    if status not in CRASH_STATES:
        return None
    try:
        recent = store.recent_sessions(CRASH_LOOKBACK)
    except StoreUnavailable:
        recent = []  # the store failed: this crash counts alone
    streak = crash_streak(recent, arm, status)
    if streak < config.health.crash_streak:
        return None
    return crash_loop_block(arm, streak, now, _latest(store, "arm", arm)), streak


@dataclass(frozen=True, slots=True)
class JudgeUse:
    """The judge's own run, recorded as a session of the judge arm (category "judge", never
    graded) so that its quota use and its limits count like any session's."""

    arm: str
    started_at: float
    outcome: SessionOutcome


@dataclass(frozen=True, slots=True)
class Interpreted:
    outcome: SessionOutcome
    judge: JudgeUse | None = None


def infra_block_for(
    store: Store, plan: Plan, failure: InfraFailure, arm: str, now: float
) -> Block:
    """The block an infrastructure failure leaves (rota.session.infra), with the latest block on
    the same scope (for the backoff) and the harness config's fingerprint (for the holds)."""
    scope = infra.block_scope(failure, plan.harness, arm)
    previous = _latest(store, *scope)
    fingerprint = infra.config_fingerprint(plan.hc)
    return infra.infra_block(failure, plan.harness, arm, now, previous, fingerprint)


def interpret(
    store: Store, started: Started, ran: Ran, stop: StopFlag, log: LogFile
) -> Interpreted:
    """The SessionOutcome of a session whose harness has ended: its state, the arm it credits,
    the blocks it creates, its grade and signals; and the judge's run, when one was asked."""
    plan, res = started.plan, ran.result
    how = classify(res, plan.profile, ran.env)
    status, hit = how.status, how.hit
    if how.error:
        journal.log_event("warning", level="warning", reason=how.error)
    arm_ran, model_seen = arm_that_ran(plan.config, plan.harness, plan.profile, res, ran.env)
    credited = arm_ran or plan.arm
    ended = res.ended_at
    # What the process did, less what the record's columns say (exit_code) and what did not happen.
    process = {k: v for k, v in res.to_dict().items() if v is not None and v is not False}
    process.pop("exit_code", None)
    detail: dict[str, Any] = {"process": process}
    if model_seen:
        detail["model_seen"] = model_seen
    if arm_ran and arm_ran != plan.arm:
        detail["model_switch"] = f"selected {plan.arm}, ran {arm_ran}"
        log.note(f"model switch: selected {plan.arm}, the harness ran {model_seen} ({arm_ran})")
    blocks: list[Block] = []
    reward: float | None = None
    signals: dict[str, Any] = {}
    judged: JudgeUse | None = None
    if status == RATE_LIMITED and hit is not None:
        blocks, scopes = blocks_after_limit(store, plan.config, hit, credited, ended)
        detail["limit"] = {
            "message": hit.message,
            "resets_at": hit.resets_at,
            "window": hit.window,
            "scopes": [f"{k}:{s}" for k, s in scopes],
        }
        log.note(f"rate limited: {hit.message}")
    elif how.infra is not None:
        blocks.append(infra_block_for(store, plan, how.infra, credited, ended))
        detail["infra"] = {"kind": how.infra.kind, "message": how.infra.message}
        if not res.started:
            detail["error"] = res.error
        log.note(f"not the model's doing ({how.infra.kind}): {how.infra.message}")
    elif status in GRADED_STATES:
        g = grade_session(store, started, ran, status, credited, model_seen, stop, log)
        reward, signals = g.reward, g.signals
        detail.update(g.detail)
        if g.verdict is not None and g.verdict.ran:
            judged = judge_use(store, plan.config, g.verdict, started.id)
        loop = crash_loop(store, plan.config, credited, status, ended)
        if loop is not None:
            blocks.append(loop[0])
            detail["crash_loop"] = loop[1]
    outcome = SessionOutcome(
        status=status,
        ended_at=ended,
        exit_code=res.exit_code,
        arm_ran=arm_ran,
        reward=reward,
        signals=signals,
        detail=detail,
        blocks=blocks,
    )
    return Interpreted(outcome, judged)


JUDGE_STATES = {  # a Verdict's status -> the state of the judge's own session record
    "ok": COMPLETED,
    "garbage": COMPLETED,
    "failed": CRASHED,
    "timed_out": TIMED_OUT,
    "rate_limited": RATE_LIMITED,
    "interrupted": INTERRUPTED,
}


def judge_use(store: Store, config: Config, v: Verdict, session_id: int) -> JudgeUse:
    """The judge's run as a session record: its state, its cost, and the blocks its limit made."""
    assert v.started_at is not None and v.ended_at is not None
    ended = v.ended_at
    detail: dict[str, Any] = {"judge_of": session_id, "verdict": v.status}
    if v.error:
        detail["error"] = v.error
    cost = v.trajectory.cost_summary() if v.trajectory is not None else None
    if cost is not None:
        detail["cost"] = cost
    blocks: list[Block] = []
    if v.limit is not None:
        blocks, scopes = blocks_after_limit(store, config, v.limit, v.arm, ended)
        detail["limit"] = {
            "message": v.limit.message,
            "resets_at": v.limit.resets_at,
            "window": v.limit.window,
            "scopes": [f"{k}:{s}" for k, s in scopes],
        }
    outcome = SessionOutcome(
        status=JUDGE_STATES.get(v.status, COMPLETED),
        ended_at=ended,
        exit_code=v.exit_code,
        detail=detail,
        blocks=blocks,
    )
    return JudgeUse(v.arm, v.started_at, outcome)


def grade_session(
    store: Store,
    started: Started,
    ran: Ran,
    status: str,
    credited: str,
    model_seen: str | None,
    stop: StopFlag,
    log: LogFile,
) -> grading.Graded:
    """Grade what the session did (rota.session.grading); what could not be measured goes to the
    journal."""
    plan, res = started.plan, ran.result
    ws = plan.site.workspace
    meta = {
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
        "workspace": str(ws),
        "log_path": str(plan.paths.log),
        "prompt_file": str(plan.paths.prompt),
    }
    cfg = plan.config
    g = grading.grade_run(
        workspace=ws,
        base=ran.before,
        result=res,
        reader=reader_kind(plan.harness, dict(plan.hc.quota)),
        harness_env=ran.env,
        log_path=plan.paths.log,
        task=plan.prompt.text,
        arm=credited,
        meta=meta,
        settings=cfg.grading,
        test_command=cfg.run.test_command,
        grader_command=cfg.run.grader_command,
        run=grading.Commands(
            env=grading.grading_env(meta, ws),
            timeout_s=plan.timeout_s,
            kill_grace_s=cfg.run.kill_grace_seconds,
            stop=stop,
            log=log,
        ),
        judge=grading.judge_setup(cfg, judge_blocks(store, cfg, res.ended_at)),
    )
    for name, err in g.errors.items():
        journal.log_event(
            "grader_error", level="warning", session=started.id, signal=name, reason=err
        )
    return g


def judge_blocks(store: Store, config: Config, now: float) -> dict[str, str]:
    """The judge arm -> why, when a block covers it now (it is then not asked)."""
    from rota.quota.state import blocking

    arm = config.grading.judge
    if not arm or arm not in config.arms:
        return {}
    try:
        b = blocking(config.arm_scopes(arm), store.active_blocks(now), now)
    except Exception:
        return {}
    return {arm: f"{b.scope_kind} {b.scope} until {iso(b.until)}"} if b is not None else {}


__all__ = [
    "Interpreted",
    "JudgeUse",
    "blocks_after_limit",
    "crash_loop",
    "grade_session",
    "interpret",
    "judge_blocks",
    "judge_use",
]
