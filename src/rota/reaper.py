"""What rota starts dies with rota, however rota dies (`kill -9` included).

Two guards, because each alone has a gap:

1. PR_SET_PDEATHSIG (Linux), set in the child between fork and exec (`die_with_parent_hook`): the
   kernel signals the child when the *thread* that forked it exits. rota forks each command from
   the thread that then waits for it, so that thread outlives the child. The hook runs safely
   with other threads alive (the fleet heartbeat): it makes two system calls through a function
   resolved before the fork, and takes no lock another thread could hold. Its gap: it reaches the
   direct child only, not what that child started in its process group.
2. A watcher process (`Reaper`, run as `python -m rota.reaper`), started once per rota process at
   its first command, in a session of its own. rota holds the write end of a pipe to it and tells
   it every process group it starts and ends. When the pipe closes (rota exited or was killed:
   the kernel closes it either way), the watcher stops each group still registered: SIGTERM to
   the whole group, SIGKILL after the grace. Its gap: the moment between fork and registration,
   which the first guard covers.

The watcher holds nothing of rota's (no lock, no database): it gets only the pipe.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import IO

PR_SET_PDEATHSIG = 1
IGNORED_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}  # by the watcher
POLL_S = 0.05
DEFAULT_GRACE_S = 5.0


def die_with_parent_hook(sig: int = signal.SIGTERM) -> Callable[[], None] | None:
    """A preexec hook asking Linux to send `sig` to the child when the forking thread dies, or
    None where that is not supported. If rota already died before the hook ran, the child exits.

    Safe with threads: prctl and getppid are resolved here, before the fork; the hook itself only
    makes those two calls (no import, no lock that another thread may hold at fork time).
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
        prctl.argtypes = [
            ctypes.c_int,
            ctypes.c_ulong,
            ctypes.c_ulong,
            ctypes.c_ulong,
            ctypes.c_ulong,
        ]
        prctl.restype = ctypes.c_int
    except (OSError, AttributeError):
        return None
    parent = os.getpid()
    getppid = os.getppid
    exit_now = os._exit
    signum = int(sig)

    def hook() -> None:
        prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0)
        if getppid() != parent:  # rota died between fork and prctl: nobody will signal us
            exit_now(1)

    return hook


# ---------------------------------------------------------------------------------------------
# Process groups (shared with the watcher, so kept free of rota imports)


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, pgrp, session) of a process, from /proc/PID/stat."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            rest = fh.read().decode("ascii", "replace").rpartition(")")[2].split()
        return rest[0], int(rest[2]), int(rest[3])
    except (OSError, IndexError, ValueError):
        return None


def group_alive(pgid: int) -> bool:
    """Does a live (non-zombie) process remain in the group that `pgid` leads as a session?"""
    if not os.path.isdir("/proc/self"):
        try:
            os.killpg(pgid, 0)
            return True
        except (ProcessLookupError, PermissionError):
            return False
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(int(name))
            if st is not None and st[0] not in ("Z", "X") and st[1] == pgid and st[2] == pgid:
                return True
    return False


def stop_groups(pgids: set[int], grace_s: float) -> int:
    """SIGTERM every group, SIGKILL what is left after the grace. Returns the groups found."""
    live = {g for g in pgids if g > 1 and group_alive(g)}
    for g in live:
        _killpg(g, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    left = set(live)
    while left and time.monotonic() < deadline:
        time.sleep(POLL_S)
        left = {g for g in left if group_alive(g)}
    for g in left:
        _killpg(g, signal.SIGKILL)
    return len(live)


def _killpg(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


# ---------------------------------------------------------------------------------------------
# rota's side


class Reaper:
    """The watcher of one rota process. `track(pgid)` when a command's group starts, `untrack`
    when it has been waited for. Never raises: a watcher that cannot start or has died leaves the
    first guard (PR_SET_PDEATHSIG) and the next run's recovery."""

    def __init__(self, grace_s: float = DEFAULT_GRACE_S) -> None:
        self.grace_s = grace_s
        self._mutex = threading.Lock()
        self._pipe: IO[bytes] | None = None
        self._pid: int | None = None

    @property
    def pid(self) -> int | None:
        return self._pid

    def _start(self) -> IO[bytes] | None:
        import subprocess

        # Born with these signals blocked (the mask survives fork and exec), so that none can
        # end it before it has set them to be ignored: only the pipe closing ends the watch.
        old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, IGNORED_SIGNALS)
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "rota.reaper", repr(float(self.grace_s))],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # a signal to rota's process group must not reach it
                close_fds=True,
                cwd="/",
            )
        except OSError:
            return None
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
        self._pid = proc.pid
        # Not waited for: it outlives us on purpose. Python would warn about the unwaited child
        # at exit; the kernel reparents it.
        proc.returncode = 0
        return proc.stdin

    def _send(self, line: str) -> bool:
        with self._mutex:
            if self._pipe is None:
                self._pipe = self._start()
                if self._pipe is None:
                    return False
            try:
                self._pipe.write(line.encode("ascii") + b"\n")
                self._pipe.flush()
                return True
            except (OSError, ValueError):  # it died: start another next time
                self._pipe = None
                return False

    def track(self, pgid: int) -> bool:
        return self._send(f"+{int(pgid)}")

    def untrack(self, pgid: int) -> bool:
        with self._mutex:
            if self._pipe is None:
                return True
        return self._send(f"-{int(pgid)}")

    def close(self) -> None:
        """Tell the watcher we are done (what is still registered is stopped)."""
        with self._mutex:
            pipe, self._pipe = self._pipe, None
        if pipe is not None:
            try:
                pipe.close()
            except OSError:
                pass


_reaper: Reaper | None = None
_reaper_mutex = threading.Lock()


def reaper(grace_s: float = DEFAULT_GRACE_S) -> Reaper:
    """This process's watcher (started at the first `track`)."""
    global _reaper
    with _reaper_mutex:
        if _reaper is None:
            _reaper = Reaper(grace_s)
        else:
            _reaper.grace_s = grace_s
        return _reaper


# ---------------------------------------------------------------------------------------------
# The watcher's side


def watch(stream: IO[bytes], grace_s: float) -> int:
    """Read "+PGID" / "-PGID" lines until the pipe closes, then stop what is still registered."""
    groups: set[int] = set()
    for raw in iter(stream.readline, b""):
        line = raw.strip()
        try:
            pgid = int(line[1:])
        except ValueError:
            continue
        if line.startswith(b"+"):
            groups.add(pgid)
        elif line.startswith(b"-"):
            groups.discard(pgid)
    stop_groups(groups, grace_s)
    return 0


def main(argv: list[str]) -> int:
    for s in IGNORED_SIGNALS:
        signal.signal(s, signal.SIG_IGN)  # only the pipe closing ends the watch
    signal.pthread_sigmask(signal.SIG_UNBLOCK, IGNORED_SIGNALS)  # blocked since birth
    try:
        grace = float(argv[0]) if argv else DEFAULT_GRACE_S
    except ValueError:
        grace = DEFAULT_GRACE_S
    return watch(sys.stdin.buffer, max(0.0, min(grace, 3600.0)))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
