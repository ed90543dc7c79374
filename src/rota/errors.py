"""Exceptions and the exit codes they map to (the contract with systemd and scripts)."""

from __future__ import annotations

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_STORE_UNAVAILABLE = 69  # EX_UNAVAILABLE: the state store cannot be reached
EXIT_SESSION_FAILED = 70  # the harness crashed or timed out; the session is recorded
EXIT_BUSY = 75  # the workspace lock is held by another session
EXIT_EXHAUSTED = 76  # every arm is exhausted or blocked
EXIT_CONFIG = 78  # configuration error


class RotaError(Exception):
    """Base class: an error with a message meant for the user and an exit code."""

    exit_code = 1


class ConfigError(RotaError):
    """A config problem, located by file and key, with what was expected."""

    exit_code = EXIT_CONFIG

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        key: str | None = None,
        line: int | None = None,
    ) -> None:
        self.message = message
        self.path = path
        self.key = key
        self.line = line  # 1-based line of the key in the file, when located
        where = ""
        if path:
            where = f"{path}:{line}: " if line else f"{path}: "
        if key:
            where += f"[{key}] "
        super().__init__(f"{where}{message}")


class UsageError(RotaError):
    exit_code = EXIT_USAGE


class StoreUnavailable(RotaError):
    """The store cannot be opened or reached; nothing was changed."""

    exit_code = EXIT_STORE_UNAVAILABLE


class WorkspaceBusy(RotaError):
    exit_code = EXIT_BUSY

