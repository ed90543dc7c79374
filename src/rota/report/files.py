"""Writing a whole file at once (temp file in the same directory, fsync, rename), so a reader
(node_exporter, a browser, the next rota) sees the old file or the new one, never half of one;
and the small JSON state files the report and the notifier keep."""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any


def atomic_write(path: str | os.PathLike[str], data: str | bytes, *, mode: int = 0o600) -> None:
    """Replace `path` with `data`. Raises OSError (the old file is then left as it was)."""
    target = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(target))
    os.makedirs(directory, mode=0o700, exist_ok=True)
    blob = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def read_json(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A JSON object from `path`; {} when it is missing, unreadable or not an object (a state file
    that cannot be read is started afresh, never fatal)."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_json(path: str | os.PathLike[str], data: dict[str, Any]) -> None:
    atomic_write(path, json.dumps(data, sort_keys=True, indent=1) + "\n")


def state_dir() -> str:
    """$ROTA_STATE_DIR, else $XDG_STATE_HOME/rota (~/.local/state/rota), as the store uses."""
    d = os.environ.get("ROTA_STATE_DIR")
    if d:
        return os.path.expanduser(d)
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return os.path.join(base, "rota")
