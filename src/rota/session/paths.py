"""Where a session's files live: the state directory (locks, logs, the default database), and each
session's log and prompt file, written owner-only."""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from rota.privatefs import private_dir


def state_dir() -> Path:
    """$ROTA_STATE_DIR, else $XDG_STATE_HOME/rota (~/.local/state/rota): locks, logs, the db."""
    d = os.environ.get("ROTA_STATE_DIR")
    if d:
        return Path(d).expanduser()
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "rota"


@dataclass(frozen=True, slots=True)
class SessionPaths:
    log: Path  # the harness's output, streamed
    prompt: Path  # the prompt, for harnesses that read it from {prompt_file}


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:60] or "x"


def session_paths(sdir: Path, arm: str, now: float) -> SessionPaths:
    """The files of a session about to start: unique per run, in an owner-only directory."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    stem = f"{stamp}-{os.getpid()}-{_slug(arm)}"
    logs = sdir / "logs"
    return SessionPaths(log=logs / f"{stem}.log", prompt=logs / f"{stem}.prompt.md")


def write_private(path: Path, text: str) -> None:
    """Write `text` to an owner-only file (0600, in a 0700 directory), never through a symlink."""
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


__all__ = ["SessionPaths", "session_paths", "state_dir", "write_private"]
