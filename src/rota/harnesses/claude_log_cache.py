"""What the Claude log reader (rota.harnesses.claude_logs) remembers between scans: each log's
inode and the offset after its last complete line, the usage entries of the lookback, the start
of the first remembered block and the newest limit line. One JSON file per set of log roots, under
rota's state dir (`$ROTA_STATE_DIR/cache/`), owner-only and replaced atomically. A cache that is
missing, damaged, from another version or for other roots reads as empty: the scan then reads the
logs in full, and answers the same."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from rota.harnesses.base import ProbeContext

CACHE_VERSION = 1

# (when, tokens, model, dedup key: a digest of message.id + requestId, "" without them)
Entry = tuple[float, int, str, str]


@dataclass(slots=True)
class LogState:
    """What the reader remembers between scans (the cache file)."""

    roots: list[str] = field(default_factory=list)
    files: dict[str, tuple[int, int]] = field(default_factory=dict)  # path -> (inode, offset)
    entries: list[Entry] = field(default_factory=list)
    anchor: float | None = None  # the start of the first remembered block
    limit: tuple[float, str] | None = None  # the newest limit line: (when, its text)


def expand_user(p: str, ctx: ProbeContext) -> Path:
    """A path from the environment, with ~ as the probe's home (not this process's)."""
    if p == "~" or p.startswith("~/"):
        return ctx.home / p[2:] if len(p) > 1 else ctx.home
    return Path(p)


def cache_file(ctx: ProbeContext, roots: list[Path]) -> Path:
    if ctx.cache_dir is not None:
        base = ctx.cache_dir
    else:
        d = ctx.env.get("ROTA_STATE_DIR")
        if d:
            base = expand_user(d, ctx) / "cache"
        else:
            xdg = ctx.env.get("XDG_STATE_HOME")
            state = expand_user(xdg, ctx) if xdg else ctx.home / ".local" / "state"
            base = state / "rota" / "cache"
    tag = hashlib.blake2b("\n".join(map(str, roots)).encode(), digest_size=6).hexdigest()
    return base / f"claude-logs-{tag}.json"


def load_state(path: Path, roots: list[str]) -> LogState:
    """The remembered state, or an empty one (no cache, another version, other roots, damaged)."""
    try:
        with open(path, "rb") as f:
            data = json.loads(f.read())
        if data.get("version") != CACHE_VERSION or data.get("roots") != roots:
            return LogState(roots=roots)
        models = [str(m) for m in data["models"]]
        entries = [(float(t), int(n), models[m], str(k)) for t, n, m, k in data["entries"]]
        files = {str(p): (int(i), int(o)) for p, (i, o) in data["files"].items()}
        anchor = data.get("anchor")
        limit = data.get("limit")
        return LogState(
            roots=roots,
            files=files,
            entries=entries,
            anchor=float(anchor) if anchor is not None else None,
            limit=(float(limit[0]), str(limit[1])) if limit else None,
        )
    except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError):
        return LogState(roots=roots)


def save_state(path: Path, state: LogState) -> None:
    """Write the cache atomically, owner-only. A cache that cannot be written costs a full read
    next time, nothing else."""
    import tempfile

    models: dict[str, int] = {}
    data = {
        "version": CACHE_VERSION,
        "roots": state.roots,
        "files": {p: list(v) for p, v in state.files.items()},
        "anchor": state.anchor,
        "limit": list(state.limit) if state.limit else None,
        "entries": [[t, n, models.setdefault(m, len(models)), k] for t, n, m, k in state.entries],
        "models": None,
    }
    data["models"] = list(models)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".claude-logs-", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f, separators=(",", ":"))
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError:
        pass
