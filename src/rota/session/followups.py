"""Delayed signals in `rota run`: before deciding, look again at recent graded sessions of this
workspace (rota.reward.followup: reverted commits, commits still missing from the default branch
after [grading] followup_days, merged pull requests from [grading] followup_command) and regrade
those whose work has since changed fate. A new grade goes through the store's set_grade, the
shared learning step (retract the old grade, observe the new one at the session's own time), so
the posteriors stay what a rebuild from the records gives.

Bounded: sessions that ended within followup_days (+1 day for the last look), that committed or
opened a pull request, looked at no more than once an hour, at most MAX_PER_RUN per run (those
looked at longest ago first). A grade set by hand (`rota grade`) is never overwritten. Nothing
here can fail the run: an error is a journal warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rota import journal
from rota.config import Config
from rota.reward.followup import changed, check_git, run_command
from rota.reward.score import Facts, FollowUp, grade
from rota.store.base import COMPLETED, CRASHED, TIMED_OUT, SessionRecord, Store
from rota.trajectory.record import Trajectory, WorkspaceSummary

DAY = 86400.0
RECHECK_S = 3600.0  # a session is looked at again at most this often
MAX_PER_RUN = 20
MAX_SCAN = 500  # recent sessions of the workspace read to find candidates
GRADED = (COMPLETED, CRASHED, TIMED_OUT)


def facts_of(rec: SessionRecord) -> Facts:
    """The facts a session was graded from, read back from its record (rota.reward.show)."""
    detail: Mapping[str, Any] = rec.detail if isinstance(rec.detail, Mapping) else {}
    signals: Mapping[str, Any] = rec.signals if isinstance(rec.signals, Mapping) else {}
    proc = detail.get("process") if isinstance(detail.get("process"), Mapping) else {}
    exit_ok = rec.exit_code == 0 and not proc.get("timed_out")
    traj = detail.get("trajectory")
    ws = detail.get("workspace")
    judge = signals.get("judge") if isinstance(signals.get("judge"), Mapping) else {}
    gains = (signals.get("grade") or {}).get("gains") if isinstance(signals.get("grade"), Mapping) else {}
    grader = (gains or {}).get("grader") if isinstance(gains, Mapping) else None
    return Facts(
        exit_ok=exit_ok,
        trajectory=Trajectory.from_dict(traj) if isinstance(traj, Mapping) else Trajectory(),
        workspace=WorkspaceSummary.from_dict(ws) if isinstance(ws, Mapping) else WorkspaceSummary(),
        judge=_num(judge.get("score")),
        grader=_num(grader.get("value")) if isinstance(grader, Mapping) else None,
        followup=FollowUp.from_dict(signals.get("followup")),
    )


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _set_by_hand(rec: SessionRecord) -> bool:
    history = rec.signals.get("grade_history") if isinstance(rec.signals, Mapping) else None
    return any(isinstance(h, Mapping) and h.get("source") == "manual" for h in history or [])


def candidates(recs: list[SessionRecord], now: float, days: float) -> list[SessionRecord]:
    out = []
    for rec in recs:
        if rec.status not in GRADED or rec.reward is None or rec.ended_at is None:
            continue
        if now - rec.ended_at > (days + 1) * DAY or _set_by_hand(rec):
            continue
        f = facts_of(rec)
        if not (f.workspace.commit_shas or f.trajectory.prs):
            continue
        fu = f.followup
        if fu is not None and now - fu.checked_at < RECHECK_S:
            continue
        out.append(rec)
    out.sort(key=lambda r: (facts_of(r).followup or FollowUp()).checked_at)
    return out[:MAX_PER_RUN]


def refresh(
    store: Store, config: Config, workspace: Path, workspace_id: str, now: float
) -> list[int]:
    """Look again at due sessions; returns the ids whose grade changed. Never raises."""
    g = config.grading
    if g.followup_days <= 0:
        return []
    try:
        recs = store.recent_sessions(MAX_SCAN, workspace=workspace_id)
    except Exception as exc:
        journal.log_event("warning", level="warning", reason=f"follow-ups skipped: {exc}")
        return []
    regraded: list[int] = []
    for rec in candidates(recs, now, g.followup_days):
        try:
            if look_again(store, config, workspace, rec, now):
                regraded.append(rec.id)
        except Exception as exc:  # one bad record must not stop the run
            journal.log_event(
                "warning", level="warning", session=rec.id, reason=f"follow-up failed: {exc}"
            )
    return regraded


def look_again(
    store: Store, config: Config, workspace: Path, rec: SessionRecord, now: float
) -> bool:
    g = config.grading
    facts = facts_of(rec)
    assert rec.ended_at is not None
    old = facts.followup
    fu = check_git(
        workspace, facts.workspace.commit_shas, ended_at=rec.ended_at, now=now, days=g.followup_days
    )
    if g.followup_command:
        fu = run_command(
            g.followup_command,
            workspace,
            {
                "session_id": rec.id,
                "arm": rec.credited_arm,
                "ended_at": rec.ended_at,
                "commits": facts.workspace.commit_shas,
                "prs": facts.trajectory.prs,
                "branch": facts.workspace.branch,
                "workspace": str(workspace),
            },
            fu,
        )
    facts.followup = fu
    new = grade(facts, g)
    signals = {"followup": fu.to_dict()}
    if new.reward is None or not changed(old, fu) or new.reward == rec.reward:
        store.update_signals(rec.id, signals)
        return False
    signals.update({"grade": new.to_dict(), "reasons": new.reasons})
    store.set_grade(
        rec.id,
        new.reward,
        now=now,
        half_life_s=config.bandit.half_life_s,
        source="followup",
        signals=signals,
    )
    journal.log_event(
        "regrade",
        session=rec.id,
        reward=round(new.reward, 3),
        previous=None if rec.reward is None else round(rec.reward, 3),
        reason="; ".join(p.reason for p in new.penalties if p.name in ("reverted", "unmerged"))
        or ("pull request merged" if fu.pr_merged else "follow-up"),
    )
    return True


__all__ = ["candidates", "facts_of", "look_again", "refresh"]
