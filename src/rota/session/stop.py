"""Stopping on request: the signals that ask rota to stop (SIGTERM/SIGINT, see StopFlag), and the
exit code a stop maps to (Interrupted: 128 + the signal)."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator, Sequence

from rota.errors import RotaError


class Interrupted(RotaError):
    """rota was asked to stop (SIGTERM/SIGINT). Exit 128 + the signal number (130, 143)."""

    def __init__(self, signum: int | None, message: str = "") -> None:
        self.signum = signum or signal.SIGINT
        self.exit_code = 128 + int(self.signum)
        name = signame(self.signum)
        super().__init__(message or f"stopped by {name}")


def signame(signum: int | None) -> str:
    try:
        return signal.Signals(signum or 0).name
    except ValueError:
        return f"signal {signum}"


# ---------------------------------------------------------------------------------------------
# Stopping


class StopFlag:
    """Set by SIGTERM/SIGINT (or by a caller); everything that waits checks it."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.signum: int | None = None
        self.count = 0

    def request(self, signum: int = signal.SIGTERM) -> None:
        self.count += 1
        if self.signum is None:
            self.signum = signum
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    @property
    def urgent(self) -> bool:
        """A second signal: stop without the grace period."""
        return self.count > 1

    def wait(self, timeout: float) -> bool:
        return self._event.wait(max(0.0, timeout))

    def check(self) -> None:
        if self.is_set():
            raise Interrupted(self.signum)

    def _handler(self, signum: int, frame: object) -> None:
        self.request(signum)

    @contextlib.contextmanager
    def handling(self, signals: Sequence[int] = (signal.SIGTERM, signal.SIGINT)) -> Iterator[None]:
        """Route the signals to this flag for the duration (main thread only; no-op elsewhere)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        old = {s: signal.signal(s, self._handler) for s in signals}
        try:
            yield
        finally:
            for s, h in old.items():
                signal.signal(s, h)
