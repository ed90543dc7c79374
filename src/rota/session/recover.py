"""What a dead run left behind, cleared before the next session: `running` records of processes
that are gone become `abandoned` (no grade, no punishment), and a harness process group the dead
holder of the workspace lock left running is stopped."""

from __future__ import annotations

import os

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


def recover(
    store: Store,
    *,
    machine: str,
    workspace: str,
    now: float,
    lock: WorkspaceLock | None = None,
    grace_s: float = 10.0,
) -> list[int]:
    """Clear what dead runs left; returns the ids of the sessions marked abandoned."""
    done = abandon_dead_sessions(store, machine=machine, now=now)
    if lock is not None:
        stop_stray_group(lock, workspace=workspace, grace_s=grace_s)
    return done


__all__ = ["abandon_dead_sessions", "pid_alive", "recover", "stop_stray_group"]
