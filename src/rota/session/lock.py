"""The workspace lock: one session per workspace at a time, never waited for.

An exclusive, non-blocking flock(2) on a file under $state_dir/locks/, one file per workspace id.
The kernel drops a flock when its holder dies, however it dies (SIGKILL included), so the lock
can never outlive its process. The file holds JSON about the holder ({pid, arm, session_id,
started_at, ...}) so a run that finds the workspace busy can say who holds it. The file is
never unlinked: unlinking a lock file lets two processes lock two different inodes.

`acquire` is the only place a lock is taken. Fleet mode (a store-level workspace lock, pool
leases) extends it there and hangs its own release on `WorkspaceLock.on_release`.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rota.errors import WorkspaceBusy
from rota.privatefs import private_dir

if TYPE_CHECKING:
    from rota.store.base import Store

LOCK_DIR = "locks"


class LockBusy(WorkspaceBusy):
    """The workspace is held by another session (exit 75). `holder` is its lock-file JSON."""

    def __init__(self, message: str, *, workspace: str, holder: dict[str, Any] | None) -> None:
        super().__init__(message)
        self.workspace = workspace
        self.holder = holder or {}


@dataclass
class WorkspaceLock:
    """A held workspace lock. `previous` is what the last holder left in the file (non-empty only
    when that holder died without releasing: a clean release empties the file)."""

    path: Path
    workspace: str
    fd: int
    info: dict[str, Any]
    previous: dict[str, Any] = field(default_factory=dict)
    on_release: list[Callable[[], None]] = field(default_factory=list)

    def update(self, **fields: Any) -> None:
        """Merge fields into the holder JSON (arm and session id become known after the lock)."""
        self.info.update({k: v for k, v in fields.items() if v is not None})
        with contextlib.suppress(OSError):  # a full disk: the lock holds, the note is lost
            _write_info(self.fd, self.info)

    def release(self) -> None:
        if self.fd < 0:
            return
        for fn in reversed(self.on_release):
            with contextlib.suppress(Exception):
                fn()
        with contextlib.suppress(OSError):
            os.ftruncate(self.fd, 0)
        with contextlib.suppress(OSError):
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        with contextlib.suppress(OSError):
            os.close(self.fd)
        self.fd = -1

    def __enter__(self) -> WorkspaceLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def lock_path(state_dir: Path, workspace_id: str) -> Path:
    """$state_dir/locks/<readable slug>-<hash>.lock; the hash keeps distinct ids distinct."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", workspace_id).strip("_")[-60:] or "workspace"
    digest = hashlib.sha256(workspace_id.encode("utf-8")).hexdigest()[:12]
    return Path(state_dir) / LOCK_DIR / f"{slug}-{digest}.lock"


def _write_info(fd: int, info: dict[str, Any]) -> None:
    data = json.dumps(info, sort_keys=True, default=str).encode("utf-8") + b"\n"
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)


def _read_json(fd_or_path: int | Path) -> dict[str, Any]:
    try:
        if isinstance(fd_or_path, int):
            raw = os.pread(fd_or_path, 65536, 0)
        else:
            raw = Path(fd_or_path).read_bytes()[:65536]
    except OSError:
        return {}
    try:
        obj = json.loads(raw.decode("utf-8", "replace") or "{}")
    except ValueError:
        return {}
    return obj if isinstance(obj, dict) else {}


def read_holder(path: Path, *, attempts: int = 5) -> dict[str, Any]:
    """The holder JSON, {} when unreadable. Retried briefly: a new holder may be mid-write."""
    for i in range(attempts):
        info = _read_json(path)
        if info:
            return info
        if i + 1 < attempts:
            time.sleep(0.02)
    return {}


def describe_holder(holder: dict[str, Any], now: float | None = None) -> str:
    """'session 12 (claude-code:opus), pid 4242, started 2026-11-28 09:30 (4 min ago)'."""
    from rota.timefmt import local, relative

    parts = []
    sid = holder.get("session_id")
    arm = holder.get("arm")
    if sid is not None:
        parts.append(f"session {sid}" + (f" ({arm})" if arm else ""))
    elif arm:
        parts.append(f"arm {arm}")
    else:
        parts.append("a run that has not chosen an arm yet")
    if holder.get("pid") is not None:
        parts.append(f"pid {holder['pid']}")
    started = holder.get("started_at")
    if isinstance(started, (int, float)):
        parts.append(f"started {local(started)} ({relative(started, now)})")
    return ", ".join(parts)


def acquire(
    state_dir: Path,
    workspace_id: str,
    *,
    store: Store | None = None,
    info: dict[str, Any] | None = None,
    now: float | None = None,
) -> WorkspaceLock:
    """Take the workspace lock without waiting, or raise LockBusy (exit 75) naming the holder.

    `store` is unused by the single-machine lock; fleet mode takes its store-level lock here.
    """
    path = lock_path(state_dir, workspace_id)
    private_dir(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise
        holder = read_holder(path)
        raise LockBusy(
            f"workspace {workspace_id} is busy: held by {describe_holder(holder, now)}",
            workspace=workspace_id,
            holder=holder,
        ) from None
    previous = _read_json(fd)
    t = time.time() if now is None else now
    body: dict[str, Any] = {"pid": os.getpid(), "started_at": t, "workspace": workspace_id}
    body.update(info or {})
    lock = WorkspaceLock(path=path, workspace=workspace_id, fd=fd, info=body, previous=previous)
    try:
        _write_info(fd, body)
    except OSError:
        lock.release()
        raise
    return lock


__all__ = [
    "LockBusy",
    "WorkspaceLock",
    "acquire",
    "describe_holder",
    "lock_path",
    "read_holder",
]
