"""Reading the workspace: git (HEAD, the dirty files, refs), or, outside a git repository, a
bounded scan of file sizes and times. Read-only: git runs with optional locks off, no prompt,
and a timeout; a failure is "unknown", never an exception."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
SCAN_MAX_FILES = 20000  # above this, the non-git scan gives up (changes left unmeasured)
SCAN_SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".tox"}
GIT_TIMEOUT_S = 60.0

Stat = tuple[int, int]  # (mtime_ns, size)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the workspace looked like: git HEAD and dirty files, or a plain file scan."""

    git: bool
    head: str | None = None  # None: no commit yet (or not a git repo)
    dirty: Mapping[str, Stat | None] = field(default_factory=dict)  # path -> stat
    files: Mapping[str, Stat] | None = None  # non-git scan; None: too big / failed


def git(ws: Path, *args: str) -> subprocess.CompletedProcess[bytes] | None:
    env = dict(os.environ)
    env.update({"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"})
    try:
        return subprocess.run(
            ["git", "-c", "core.quotepath=off", *args],
            cwd=str(ws),
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None


def git_text(ws: Path, *args: str) -> str | None:
    """git's stdout when it succeeded, else None."""
    r = git(ws, *args)
    if r is None or r.returncode != 0:
        return None
    return r.stdout.decode("utf-8", "surrogateescape")


def git_dirs(ws: Path) -> tuple[Path, Path] | None:
    """(git dir, common dir) of the workspace: for a linked worktree, whose `.git` is a file, its
    own git dir (index, HEAD) under the main repository's .git (objects, refs); for a repository,
    its .git twice. None outside git."""
    out = git_text(ws, "rev-parse", "--git-dir", "--git-common-dir")
    lines = out.splitlines() if out else []
    if len(lines) != 2 or not all(lines):
        return None
    own, common = ((Path(ws) / x).resolve() for x in lines)
    return own, common


def stat(path: Path) -> Stat | None:
    try:
        st = path.lstat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def snapshot(workspace: Path) -> Snapshot:
    ws = Path(workspace)
    r = git(ws, "rev-parse", "--is-inside-work-tree")
    if r is not None and r.returncode == 0 and r.stdout.strip() == b"true":
        head = (git_text(ws, "rev-parse", "--verify", "-q", "HEAD") or "").strip()
        return Snapshot(git=True, head=head or None, dirty=dirty(ws))
    return Snapshot(git=False, files=scan(ws))


def dirty(ws: Path) -> dict[str, Stat | None]:
    """Paths git reports as changed or untracked, with their stat."""
    r = git(ws, "status", "--porcelain=v1", "-z", "--untracked-files=all")
    if r is None or r.returncode != 0:
        return {}
    top_text = git_text(ws, "rev-parse", "--show-toplevel")
    top = Path(top_text.strip()) if top_text and top_text.strip() else ws
    out: dict[str, Stat | None] = {}
    entries = r.stdout.decode("utf-8", "surrogateescape").split("\0")
    i = 0
    while i < len(entries):
        e = entries[i]
        i += 1
        if len(e) < 4:
            continue
        status, path = e[:2], e[3:]
        if "R" in status or "C" in status:
            i += 1  # the rename's source path follows
        out[path] = stat(top / path)
    return out


def scan(ws: Path) -> dict[str, Stat] | None:
    """Every file's stat, outside SCAN_SKIP_DIRS; None when there are too many or it failed."""
    out: dict[str, Stat] = {}
    try:
        for root, dirs, files in os.walk(ws):
            dirs[:] = [d for d in dirs if d not in SCAN_SKIP_DIRS]
            for name in files:
                p = Path(root) / name
                st = stat(p)
                if st is not None:
                    out[str(p.relative_to(ws))] = st
                if len(out) > SCAN_MAX_FILES:
                    return None
    except OSError:
        return None
    return out


__all__ = ["EMPTY_TREE", "Snapshot", "git", "git_text", "scan", "snapshot", "stat"]
