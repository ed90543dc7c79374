"""The session's record, at its two ends: started before the harness runs (the decision, the
session row with the probed levels the decision used, the lock holder, the journal), and finished
with its outcome in one transaction with the posterior update and the blocks. A session that
started is never left `running`, whatever fails in between."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from rota import journal
from rota.errors import StoreUnavailable
from rota.session import outbox
from rota.session.execute import LogFile, ProcessResult
from rota.session.lock import WorkspaceLock
from rota.session.outcome import probed_levels
from rota.session.paths import write_private
from rota.session.plan import Plan
from rota.store.base import CRASHED, RUNNING, SessionOutcome, SessionRecord, Store
from rota.timefmt import utc

TYPE_CHECKING = False
if TYPE_CHECKING:
    from rota.session.interpret import JudgeUse


@dataclass(frozen=True, slots=True)
class Started:
    """A session whose record exists: the plan it runs, its id, when it started, and the place
    on disk reserved for its outcome (rota.session.outbox; None when it could not be taken)."""

    plan: Plan
    id: int
    started_at: float
    slot: outbox.Slot | None = None


def open_log(plan: Plan) -> LogFile:
    """Write the prompt file and open the session log (owner-only), or raise StoreUnavailable."""
    try:
        write_private(plan.paths.prompt, plan.prompt.text)
        return LogFile(plan.paths.log, max_bytes=plan.config.retention.log_max_bytes)
    except OSError as exc:
        raise StoreUnavailable(
            f"cannot write the session log under {plan.paths.log.parent}: {exc.strerror or exc}; "
            "check that the state directory ($ROTA_STATE_DIR) is writable"
        ) from None


def start(store: Store, plan: Plan, clock: Callable[[], float]) -> Started:
    """Record the decision and a `running` session with what it is about to run."""
    site = plan.site
    decided = plan.decision.to_record()
    forced = {"forced": plan.choice.forced} if plan.choice.forced else {}
    decision_id = store.record_decision(
        {**decided, **forced}, workspace=site.workspace_id, machine=site.machine
    )
    started_at = clock()
    sid = store.start_session(
        category=plan.category,
        arm=plan.arm,
        started_at=started_at,
        decision_id=decision_id,
        pid=os.getpid(),
        machine=site.machine,
        workspace=site.workspace_id,
        log_path=str(plan.paths.log),
        detail={
            "harness": plan.harness,
            "model": plan.model,
            "executable": plan.argv[0] if plan.argv else "",
            "prompt_source": plan.prompt.source,
            "prompt_file": str(plan.paths.prompt),
            "prompt_chars": len(plan.prompt.text),
            "timeout_s": plan.timeout_s,
            "workspace_path": str(site.workspace),
            **probed_levels(plan.config, plan.choice.states, plan.arm),
            **forced,
        },
    )
    # The outcome's place on disk, taken while the disk still has room: if the store fails at
    # the end, the outcome is kept there and the next run records it.
    slot = outbox.reserve(
        site.state_dir,
        {
            "id": sid,
            "category": plan.category,
            "arm": plan.arm,
            "started_at": started_at,
            "pid": os.getpid(),
            "machine": site.machine,
            "workspace": site.workspace_id,
            "log_path": str(plan.paths.log),
            "decision_id": decision_id,
            "detail": {"harness": plan.harness, "model": plan.model},
        },
    )
    return Started(plan, sid, started_at, slot)


def announce_start(started: Started, lock: WorkspaceLock | None) -> None:
    """The lock file names the session; the journal says what starts and why."""
    plan = started.plan
    if lock is not None:
        lock.update(arm=plan.arm, session_id=started.id, session_started_at=started.started_at)
    journal.session_start(
        started.id, category=plan.category, workspace=str(plan.site.workspace), arm=plan.arm
    )
    journal.decision(started.id, arm=plan.arm, category=plan.category, reason=plan.decision.why)


def finish(store: Store, started: Started, outcome: SessionOutcome) -> SessionRecord:
    """The outcome, the posterior update and the blocks, in one transaction. The outcome is
    written to its reserved file first: if the store fails now (a full disk, damaged pages), it
    is kept there, this raises StoreUnavailable (exit 69) naming the file, and the next run
    records it (rota.session.recover.replay_outbox)."""
    slot = started.slot
    kept = slot is not None and slot.write(outcome)
    try:
        rec = store.finish_session(
            started.id, outcome, half_life_s=started.plan.config.bandit.half_life_s
        )
    except StoreUnavailable as exc:
        if not kept or slot is None:
            raise
        slot.close()
        raise StoreUnavailable(
            f"{exc}. Session {started.id} ran ({outcome.status}); its outcome is kept in "
            f"{slot.path} and the next `rota run` records it"
        ) from None
    if slot is not None:
        slot.discard()
    return rec


JUDGE_CATEGORY = "judge"  # the category of a judge's own run (never graded)


def finish_judge(store: Store, started: Started, use: JudgeUse) -> SessionRecord | None:
    """Record the judge's run as a session of the judge arm: its quota use and its limit hits
    count like any session's; it is never graded. A failure here never fails the session."""
    site = started.plan.site
    try:
        sid = store.start_session(
            category=JUDGE_CATEGORY,
            arm=use.arm,
            started_at=use.started_at,
            decision_id=None,
            pid=os.getpid(),
            machine=site.machine,
            workspace=site.workspace_id,
            log_path=str(started.plan.paths.log),
            detail={"judge_of": started.id},
        )
        rec = store.finish_session(
            sid, use.outcome, half_life_s=started.plan.config.bandit.half_life_s
        )
    except Exception as exc:
        journal.log_event("warning", level="warning", reason=f"judge run not recorded: {exc}")
        return None
    for b in use.outcome.blocks:
        journal.log_event(
            "block",
            level="notice",
            session=rec.id,
            scope=f"{b.scope_kind}:{b.scope}",
            until=utc(b.until, "%Y-%m-%dT%H:%M:%SZ"),
            source=b.source,
            reason=b.reason,
        )
    return rec


def finish_after_error(store: Store, started: Started, exc: BaseException, now: float) -> None:
    """Never leave a `running` record behind for a bug or an unexpected error: it becomes
    `crashed`, ungraded, with the error in its detail; unless its real outcome is kept on disk
    (the store failed at the end), which the next run records. Never raises."""
    slot = started.slot
    if slot is not None:
        slot.close()
        if slot.written:
            return
    try:
        cur = store.get_session(started.id)
        if cur is not None and cur.status == RUNNING:
            store.finish_session(
                started.id,
                SessionOutcome(
                    status=CRASHED,
                    ended_at=now,
                    detail={"error": f"rota failed during the session: {exc!r}"[:500]},
                ),
                half_life_s=started.plan.config.bandit.half_life_s,
            )
    except Exception:
        pass


def announce_end(rec: SessionRecord, outcome: SessionOutcome, res: ProcessResult) -> None:
    """The journal lines for a finished session: its outcome, the blocks it made, its grade."""
    journal.outcome(
        rec.id,
        status=rec.status,
        arm_ran=rec.credited_arm,
        duration_s=res.duration_s,
        exit_code=res.exit_code,
    )
    for b in outcome.blocks:
        journal.log_event(
            "block",
            level="notice",
            session=rec.id,
            scope=f"{b.scope_kind}:{b.scope}",
            until=utc(b.until, "%Y-%m-%dT%H:%M:%SZ"),
            source=b.source,
            reason=b.reason,
        )
    gains = (outcome.signals.get("grade") or {}).get("gains") or {}
    journal.grade(
        rec.id,
        reward=rec.reward,
        **{k: round(float(p["value"]), 3) for k, p in gains.items() if isinstance(p, dict)},
    )


__all__ = [
    "JUDGE_CATEGORY",
    "Started",
    "finish_judge",
    "announce_end",
    "announce_start",
    "finish",
    "finish_after_error",
    "open_log",
    "start",
]
