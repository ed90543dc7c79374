"""Is a recorded process still there? (Linux /proc, with a portable fallback.)

Used to spot sessions, workspace locks and pool leases whose holder died. A pid alone is not
enough: pids are reused, and a zombie still answers kill(0).
"""

from __future__ import annotations

import os


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/PID/stat from field 3 on. Field 2 (comm) may hold spaces and parentheses."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            raw = fh.read().decode("ascii", "replace")
    except OSError:
        return None
    return raw.rpartition(")")[2].split()


def start_ticks(pid: int) -> int | None:
    """When `pid` started, in clock ticks since boot (field 22), or None."""
    fields = _stat_fields(pid)
    try:
        return int(fields[19]) if fields else None
    except (IndexError, ValueError):
        return None


def _boot_time() -> float | None:
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("btime "):
                    return float(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def start_time(pid: int) -> float | None:
    """When `pid` started, in epoch seconds, or None."""
    ticks, btime = start_ticks(pid), _boot_time()
    if ticks is None or btime is None:
        return None
    return btime + ticks / os.sysconf("SC_CLK_TCK")


def alive(pid: int | None, *, ticks: int | None = None, not_after: float | None = None) -> bool:
    """Is this process (on this host) still running?

    Zombies count as gone. A reused pid counts as gone: pass the start `ticks` recorded with the
    pid, or `not_after`, an epoch time the recorded process had already started by.
    """
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process: it exists
    fields = _stat_fields(pid)
    if fields is None:
        return True  # no /proc: trust kill(0)
    if fields and fields[0] in ("Z", "X"):
        return False
    if ticks is not None:
        now_ticks = start_ticks(pid)
        if now_ticks is not None and now_ticks != ticks:
            return False
    if not_after is not None:
        st = start_time(pid)
        if st is not None and st > not_after + 2.0:  # /proc times are rounded to ticks
            return False
    return True
