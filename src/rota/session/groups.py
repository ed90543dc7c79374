"""Process groups: who is in one, signalling it, stopping it (TERM, then KILL after a grace), and
making a child die with rota (PR_SET_PDEATHSIG)."""

from __future__ import annotations

import os
import signal
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from rota.session.stop import StopFlag

# ---------------------------------------------------------------------------------------------
# Process groups


def _proc_stat(pid: int) -> tuple[str, int, int, int] | None:
    """(state, ppid, pgrp, session) from /proc/PID/stat, or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            raw = fh.read().decode("ascii", "replace")
    except OSError:
        return None
    rest = raw[raw.rfind(")") + 2 :].split()
    try:
        return rest[0], int(rest[1]), int(rest[2]), int(rest[3])
    except (IndexError, ValueError):
        return None


def group_members(pgid: int, *, same_session: bool = False) -> list[int]:
    """Live (non-zombie) processes in a process group. Without /proc: [pgid] if signalable."""
    if not os.path.isdir("/proc/self"):
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return []
        return [pgid]
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        st = _proc_stat(int(name))
        if st is None or st[0] in ("Z", "X") or st[2] != pgid:
            continue
        if same_session and st[3] != pgid:
            continue
        out.append(int(name))
    return out


def signal_group(pgid: int, sig: int) -> bool:
    try:
        os.killpg(pgid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def stop_group(
    pgid: int, grace_s: float, *, stop: StopFlag | None = None, same_session: bool = False
) -> int:
    """TERM a process group, KILL what is left after the grace. Returns how many were found."""
    members = group_members(pgid, same_session=same_session)
    if not members:
        return 0
    signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and group_members(pgid, same_session=same_session):
        if stop is not None and stop.urgent:
            break
        time.sleep(0.05)
    if group_members(pgid, same_session=same_session):
        signal_group(pgid, signal.SIGKILL)
    return len(members)
