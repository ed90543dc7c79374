"""Watching a session from a terminal: the live line and `--follow`.

The session log already receives every line the harness prints (`[stderr] ` before its stderr
lines, `[rota] ` before rota's own notes). `WatchedLog` hands the same bytes to watchers:
  - `LiveLine` (a terminal, not under systemd): one line on stderr, redrawn every second, with the
    arm, the time since the start and the last thing the harness did (rota.session.activity);
  - `Follow` (`rota run --follow`): the harness's stdout and stderr as they come, on ours.
Under systemd (no terminal, or $JOURNAL_STREAM set) neither runs: the journal lines stay as they
are.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import IO, Any, Protocol

from rota.session.activity import describe

ROTA_PREFIX = b"[rota] "
STDERR_PREFIX = b"[stderr] "


class Watcher(Protocol):
    def line(self, origin: str, text: bytes) -> None:
        """One line (without its newline) from `origin`: stdout, stderr or rota."""

    def close(self) -> None:
        """The session's harness is done: leave the terminal as it was."""


def watching_allowed(stream: Any = None, environ: dict[str, str] | None = None) -> bool:
    """A person at a terminal: `stream` is a TTY and this is not a systemd unit's output."""
    stream = sys.stderr if stream is None else stream
    env = os.environ if environ is None else environ
    try:
        tty = bool(stream.isatty())
    except (AttributeError, ValueError):
        tty = False
    return tty and not env.get("JOURNAL_STREAM") and env.get("TERM") != "dumb"


class WatchedLog:
    """A session log (rota.session.execute.LogFile) that also shows each line to watchers."""

    def __init__(self, log: Any, watchers: Sequence[Watcher] = ()) -> None:
        self._log = log
        self._watchers = list(watchers)
        self._lock = threading.Lock()
        self._partial: dict[int, bytes] = {}  # per writing thread: a line not yet ended

    @property
    def path(self) -> Any:
        return self._log.path

    def write(self, data: bytes) -> None:
        self._log.write(data)
        if not self._watchers:
            return
        key = threading.get_ident()  # each pipe has its own reader thread
        with self._lock:
            buf = self._partial.pop(key, b"") + data
            *lines, rest = buf.split(b"\n")
            if rest:
                self._partial[key] = rest
            for raw in lines:
                origin, text = _origin(raw)
                for w in self._watchers:
                    try:
                        w.line(origin, text)
                    except Exception:  # a display problem never touches the session
                        pass

    def note(self, text: str) -> None:
        lines = "".join(f"[rota] {line}\n" for line in text.splitlines() or [""])
        self.write(lines.encode("utf-8", "replace"))

    def watch(self, *watchers: Watcher) -> None:
        with self._lock:
            self._watchers.extend(watchers)

    def close(self) -> None:
        self._log.close()
        with self._lock:
            watchers, self._watchers = self._watchers, []
        for w in watchers:
            try:
                w.close()
            except Exception:
                pass

    def __enter__(self) -> WatchedLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._log, name)


def _origin(raw: bytes) -> tuple[str, bytes]:
    if raw.startswith(ROTA_PREFIX):
        return "rota", raw[len(ROTA_PREFIX) :]
    if raw.startswith(STDERR_PREFIX):
        return "stderr", raw[len(STDERR_PREFIX) :]
    return "stdout", raw


def clock_text(seconds: float) -> str:
    """Elapsed time for a live display: '42s', '4m 07s', '1h 02m'."""
    s = int(max(0.0, seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s // 3600}h {s % 3600 // 60:02d}m"


class LiveLine:
    """`arm · 4m 07s · Bash: pytest -q`, redrawn in place on a terminal every `interval`."""

    def __init__(
        self,
        stream: IO[str],
        *,
        arm: str,
        log_path: str,
        width: Callable[[], int] | None = None,
        clock: Callable[[], float] = time.monotonic,
        interval: float = 1.0,
    ) -> None:
        self.stream = stream
        self.arm = arm
        self.log_path = log_path
        self.width = width or _width
        self.clock = clock
        self.interval = interval
        self.last = "starting"
        self._started = clock()
        self._done = threading.Event()
        self._draw_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> LiveLine:
        self.stream.write(f"rota: running {self.arm}; log {self.log_path}\n")
        self.stream.flush()
        self._thread = threading.Thread(target=self._loop, name="rota-live-line", daemon=True)
        self._thread.start()
        return self

    def line(self, origin: str, text: bytes) -> None:
        if origin == "rota":
            return
        said = describe(text.decode("utf-8", "replace"))
        if said:
            self.last = said

    def render(self) -> str:
        text = f"{self.arm} \u00b7 {clock_text(self.clock() - self._started)} \u00b7 {self.last}"
        limit = max(20, self.width() - 1)
        return text if len(text) <= limit else text[: limit - 1] + "\u2026"

    def _loop(self) -> None:
        while not self._done.is_set():
            self._draw()
            self._done.wait(self.interval)

    def _draw(self) -> None:
        with self._draw_lock:
            if self._done.is_set():
                return
            self.stream.write("\r\033[K" + self.render())
            self.stream.flush()

    def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self._done.is_set():
            return
        self._done.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        with self._draw_lock:
            self.stream.write("\r\033[K")
            self.stream.flush()


class Follow:
    """`--follow`: the harness's stdout on our stdout and its stderr on our stderr, line by line."""

    def __init__(self, out: IO[str], err: IO[str]) -> None:
        self.out = out
        self.err = err

    def close(self) -> None:
        pass

    def line(self, origin: str, text: bytes) -> None:
        if origin == "rota":
            return
        stream = self.err if origin == "stderr" else self.out
        stream.write(text.decode("utf-8", "replace") + "\n")
        stream.flush()


def _width() -> int:
    from rota.render import terminal_width

    return terminal_width()
