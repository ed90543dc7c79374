"""Running a child the way rota runs a harness: an argv list (never a shell; see argv), in its own process
group, with a timeout, its output streamed to an owner-only log file, and bounded tails kept in
memory for classification and grading.

Stopping: when rota is asked to stop (SIGTERM/SIGINT, see StopFlag) or the timeout passes, the
child's whole process group gets SIGTERM, then SIGKILL after the grace period. A second signal to
rota skips the grace. When the harness exits, whatever it left running in its group is stopped
too: the session is over, and a stray process holding our pipes would otherwise hang the run.
If rota itself dies, however it dies, the child's whole group goes too (rota.reaper: the kernel's
PR_SET_PDEATHSIG for the child, a watcher process for its group), so a SIGKILLed rota does not
leave a harness, a test or a grader working in a workspace whose lock is already free.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from rota import reaper
from rota.privatefs import private_dir
from rota.session.groups import signal_group, stop_group
from rota.session.stop import StopFlag, signame

STDOUT_HEAD_BYTES = 64 * 1024  # the start of stdout (claude's system/init line lives there)
STDOUT_TAIL_BYTES = 1024 * 1024  # the end of stdout (the result line, the last messages)
STDERR_TAIL_BYTES = 256 * 1024
READ_CHUNK = 64 * 1024
LEFTOVER_GRACE_S = 5.0  # for strays left in the group after the harness exited
POLL_S = 0.1


# ---------------------------------------------------------------------------------------------
# Output: log file and bounded tails


class LogFile:
    """An owner-only, append-only session log. stderr lines are prefixed "[stderr] ", rota's own
    notes "[rota] "; stdout is written as is (so JSON-line output stays parseable).

    max_bytes caps it ([retention] log_max_kib): once it grows half as much again, its middle is
    cut out (rota.store.retention.cap_file keeps the head and the tail), so a harness printing
    100 MB leaves a bounded log even if rota is killed before the end."""

    def __init__(self, path: Path, max_bytes: int = 0) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        private_dir(self.path.parent)
        fd = os.open(
            self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600
        )
        self._fh: IO[bytes] = os.fdopen(fd, "ab", buffering=0)
        self._lock = threading.Lock()
        self._size = os.fstat(fd).st_size

    def write(self, data: bytes) -> None:
        with self._lock, contextlib.suppress(OSError, ValueError):
            self._fh.write(data)
            self._size += len(data)
            if self.max_bytes and self._size > self.max_bytes * 3 // 2:
                self._cap()

    def _cap(self) -> None:
        from rota.store.retention import cap_file

        cap_file(self.path, self.max_bytes)
        self._size = os.fstat(self._fh.fileno()).st_size

    def note(self, text: str) -> None:
        lines = "".join(f"[rota] {line}\n" for line in text.splitlines() or [""])
        self.write(lines.encode("utf-8", "replace"))

    def close(self) -> None:
        with self._lock, contextlib.suppress(OSError, ValueError):
            if self.max_bytes and self._size > self.max_bytes and not self._fh.closed:
                self._cap()
            self._fh.close()

    def __enter__(self) -> LogFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Capture:
    """Keeps the first `head` bytes (whole chunks) and the last `tail` bytes of a stream."""

    def __init__(self, head: int, tail: int) -> None:
        self.head_limit = head
        self.tail_limit = tail
        self.head = bytearray()
        self.tail: deque[bytes] = deque()
        self.tail_size = 0
        self.truncated = False

    def add(self, chunk: bytes) -> None:
        if not self.tail and len(self.head) + len(chunk) <= self.head_limit:
            self.head += chunk
            return
        if len(chunk) > self.tail_limit:
            chunk = chunk[-self.tail_limit :]
            self.truncated = True
        self.tail.append(chunk)
        self.tail_size += len(chunk)
        while self.tail_size > self.tail_limit and len(self.tail) > 1:
            self.tail_size -= len(self.tail.popleft())
            self.truncated = True

    def text(self) -> str:
        return (bytes(self.head) + b"".join(self.tail)).decode("utf-8", "replace")


def _pump(pipe: IO[bytes], capture: Capture, log: LogFile | None, prefix: bytes) -> None:
    at_line_start = True
    try:
        while True:
            chunk = pipe.readline(READ_CHUNK)
            if not chunk:
                break
            capture.add(chunk)
            if log is not None:
                log.write((prefix if at_line_start and prefix else b"") + chunk)
            at_line_start = chunk.endswith(b"\n")
    except (OSError, ValueError):
        pass
    finally:
        with contextlib.suppress(OSError):
            pipe.close()


# ---------------------------------------------------------------------------------------------
# Running


@dataclass
class ProcessResult:
    argv: list[str]
    started_at: float
    ended_at: float
    exit_code: int | None = None  # None: killed by a signal, or never started
    signal: int | None = None  # the signal that ended the child
    timed_out: bool = False
    interrupted: bool = False  # rota was asked to stop
    stdout: str = ""  # head + tail of stdout
    stderr: str = ""  # tail of stderr
    stdout_truncated: bool = False
    error: str | None = None  # could not start (not found, not executable)
    pid: int | None = None

    @property
    def started(self) -> bool:
        return self.error is None

    @property
    def duration_s(self) -> float:
        return max(0.0, self.ended_at - self.started_at)

    def describe(self) -> str:
        if self.error:
            return self.error
        if self.interrupted:
            return "interrupted"
        if self.timed_out:
            return "timed out"
        if self.signal is not None:
            return f"killed by {signame(self.signal)}"
        return f"exit {self.exit_code}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "exit_code": self.exit_code,
            "signal": self.signal,
            "timed_out": self.timed_out,
            "interrupted": self.interrupted,
            "duration_s": round(self.duration_s, 3),
            "error": self.error,
            "pid": self.pid,
        }


def run_process(
    argv: Sequence[str],
    *,
    cwd: Path | str,
    env: Mapping[str, str] | None = None,
    timeout_s: float | None = None,
    kill_grace_s: float = 10.0,
    stop: StopFlag | None = None,
    log: LogFile | None = None,
    stdin_data: bytes | None = None,
    on_spawn: Callable[[int], None] | None = None,
    stdout_head: int = STDOUT_HEAD_BYTES,
    stdout_tail: int = STDOUT_TAIL_BYTES,
    stderr_tail: int = STDERR_TAIL_BYTES,
    stderr_prefix: bytes = b"[stderr] ",
) -> ProcessResult:
    """Run argv to its end (or until the timeout or a stop request) and report how it ended."""
    argv = [str(a) for a in argv]
    started = time.time()
    proc = _spawn(argv, cwd, env, stdin_data)
    if isinstance(proc, str):
        return ProcessResult(argv, started, time.time(), error=proc)
    pgid = proc.pid
    # The watcher stops the whole group if rota dies before it has (kill -9 included).
    watcher = reaper.reaper(kill_grace_s)
    watcher.track(pgid)
    if on_spawn is not None:
        with contextlib.suppress(Exception):
            on_spawn(pgid)
    out_cap = Capture(stdout_head, stdout_tail)
    err_cap = Capture(0, stderr_tail)
    assert proc.stdout is not None and proc.stderr is not None
    readers = [
        threading.Thread(target=_pump, args=(proc.stdout, out_cap, log, b""), daemon=True),
        threading.Thread(
            target=_pump, args=(proc.stderr, err_cap, log, stderr_prefix), daemon=True
        ),
    ]
    if stdin_data is not None:
        readers.append(threading.Thread(target=_feed, args=(proc.stdin, stdin_data), daemon=True))
    for t in readers:
        t.start()
    timed_out, interrupted = _wait(proc, timeout_s, kill_grace_s, stop, log)
    rc = proc.returncode

    # Strays left in the group keep our pipes open; the session is over, so they go too.
    stray = stop_group(pgid, min(kill_grace_s, LEFTOVER_GRACE_S), stop=stop)
    if stray and log is not None:
        log.note(f"stopped {stray} process(es) the command left running in its group")
    watcher.untrack(pgid)
    for t in readers:
        t.join(timeout=5.0)
    ended = time.time()
    return ProcessResult(
        argv=argv,
        started_at=started,
        ended_at=ended,
        exit_code=rc if rc is not None and rc >= 0 else None,
        signal=-rc if rc is not None and rc < 0 else None,
        timed_out=timed_out,
        interrupted=interrupted,
        stdout=out_cap.text(),
        stderr=err_cap.text(),
        stdout_truncated=out_cap.truncated,
        pid=pgid,
    )


def _spawn(
    argv: list[str], cwd: Path | str, env: Mapping[str, str] | None, stdin_data: bytes | None
) -> subprocess.Popen[bytes] | str:
    """The child, in its own process group, or why it could not start."""
    try:
        return subprocess.Popen(
            argv,
            cwd=str(cwd),
            env=dict(env) if env is not None else None,
            stdin=subprocess.PIPE if stdin_data is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group (and session: no terminal signals)
            # Dies with rota, threads or not (rota.reaper); this thread waits for it.
            preexec_fn=reaper.die_with_parent_hook(),
            close_fds=True,
        )
    except FileNotFoundError:
        where = f" in {cwd}" if not Path(cwd).is_dir() else ""
        return (
            f"working directory not found{where}"
            if where
            else f"executable not found: {argv[0]!r} (not on PATH?)"
        )
    except PermissionError:
        return f"not executable: {argv[0]!r}"
    except OSError as exc:
        return f"cannot start {argv[0]!r}: {exc}"


def _wait(
    proc: subprocess.Popen[bytes],
    timeout_s: float | None,
    kill_grace_s: float,
    stop: StopFlag | None,
    log: LogFile | None,
) -> tuple[bool, bool]:
    """Wait for the child; on the timeout or a stop request, TERM its group, then KILL it after
    the grace (at once on a second signal). Returns (timed_out, interrupted)."""
    pgid = proc.pid
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    timed_out = interrupted = False
    term_sent_at: float | None = None
    killed = False
    while True:
        try:
            proc.wait(timeout=POLL_S)
            return timed_out, interrupted
        except subprocess.TimeoutExpired:
            pass
        mono = time.monotonic()
        if term_sent_at is None:
            if stop is not None and stop.is_set():
                interrupted = True
            elif deadline is not None and mono >= deadline:
                timed_out = True
            if interrupted or timed_out:
                if log is not None:
                    log.note(
                        "rota was asked to stop: sending SIGTERM to the process group"
                        if interrupted
                        else f"timeout after {timeout_s:.0f}s: sending SIGTERM to the process group"
                    )
                signal_group(pgid, signal.SIGTERM)
                term_sent_at = mono
        elif not killed and (
            mono - term_sent_at >= kill_grace_s or (stop is not None and stop.urgent)
        ):
            if log is not None:
                log.note("the process group did not stop in time: sending SIGKILL")
            signal_group(pgid, signal.SIGKILL)
            killed = True


def _feed(pipe: IO[bytes] | None, data: bytes) -> None:
    if pipe is None:
        return
    try:
        pipe.write(data)
    except (BrokenPipeError, OSError, ValueError):
        pass
    finally:
        with contextlib.suppress(OSError, ValueError):
            pipe.close()


