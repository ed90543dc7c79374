"""What a dead or failed run left behind, cleared before the next session: outcomes kept on disk
because the store failed are recorded (rota.session.outbox), `running` records of processes that
are gone become `abandoned` (no grade, no punishment), a harness process group the dead holder of
the workspace lock left running is stopped, and what a wrong clock stamped is written back as
rota.clock believes it."""

from __future__ import annotations

import os
from pathlib import Path

from rota import journal, procs
from rota.session.groups import stop_group
from rota.session.lock import WorkspaceLock
from rota.store.base import Store


def pid_alive(pid: int | None, started_at: float | None = None) -> bool:
    """Is the process that recorded a session still there? A reused pid (a process that started
    after the session did) is not."""
    return procs.alive(pid, not_after=started_at)


def abandon_dead_sessions(store: Store, *, machine: str, now: float) -> list[int]:
    """Running records left by dead processes on this machine become `abandoned`."""
    me = os.getpid()
    done: list[int] = []
    for rec in store.running_sessions():
        if rec.machine != machine:
            continue  # another machine's session: only it can tell whether it is alive
        dead = rec.pid == me or not pid_alive(rec.pid, rec.started_at)
        if not dead:
            continue
        reason = f"process {rec.pid} on {machine} is gone"
        if store.mark_abandoned(rec.id, now, reason):
            done.append(rec.id)
            journal.log_event(
                "abandoned",
                level="warning",
                session=rec.id,
                arm=rec.arm,
                workspace=rec.workspace,
                reason=reason,
            )
    return done


def stop_stray_group(lock: WorkspaceLock, *, workspace: str, grace_s: float) -> None:
    """Stop the harness group recorded in the lock file by a holder that died without releasing."""
    prev = lock.previous
    pgid = prev.get("child_pgid")
    if isinstance(pgid, int) and pgid > 1 and not pid_alive(prev.get("pid")):
        stray = stop_group(pgid, grace_s, same_session=True)
        if stray:
            journal.log_event(
                "stray",
                level="warning",
                workspace=workspace,
                reason=f"stopped {stray} process(es) left by the dead run (pid {prev.get('pid')})",
            )


def replay_outbox(store: Store, state_dir: Path, *, machine: str, half_life_s: float) -> list[int]:
    """Record the outcomes earlier runs kept on disk because the store failed (they exited 69).
    Before dead sessions are marked abandoned: those are the sessions these outcomes finish."""
    from rota.session import outbox

    report = outbox.replay(
        store, state_dir, half_life_s=half_life_s, machine=machine, alive=pid_alive
    )
    for sid in report.recorded:
        journal.log_event(
            "replayed", level="notice", session=sid, reason="outcome kept on disk, now recorded"
        )
    for name in report.errors:
        journal.log_event(
            "outbox", level="warning", file=name, reason="unreadable outcome file (renamed .bad)"
        )
    return report.recorded


def repair_clock(store: Store, now: float) -> None:
    """Evidence and blocks a clock that was ahead stamped in the future are taken as made now."""
    for warning in store.repair_clock(now):
        journal.log_event("clock", level="warning", reason=warning)


def recover(
    store: Store,
    *,
    machine: str,
    workspace: str,
    now: float,
    lock: WorkspaceLock | None = None,
    grace_s: float = 10.0,
    state_dir: Path | None = None,
    half_life_s: float | None = None,
) -> list[int]:
    """Clear what dead runs left; returns the ids of the sessions marked abandoned."""
    if state_dir is not None and half_life_s is not None:
        replay_outbox(store, state_dir, machine=machine, half_life_s=half_life_s)
    done = abandon_dead_sessions(store, machine=machine, now=now)
    if lock is not None:
        stop_stray_group(lock, workspace=workspace, grace_s=grace_s)
    repair_clock(store, now)
    return done


__all__ = [
    "abandon_dead_sessions",
    "pid_alive",
    "recover",
    "repair_clock",
    "replay_outbox",
    "stop_stray_group",
]
