"""What a session left in its git workspace: commits (count, messages), lines added and removed,
files touched, what was left uncommitted, and remote-tracking refs that moved (a push).

`baseline()` is taken before the harness starts, `summarize()` after it ends. Both only read the
repository (git with optional locks off); a workspace that is not a git repository gives a
summary with git=False and nothing else guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rota.trajectory.git import EMPTY_TREE, Snapshot, git_text, scan, snapshot
from rota.trajectory.record import SuiteRun, WorkspaceSummary, clip

MAX_MESSAGES = 50  # commit messages kept
MAX_UNTRACKED_BYTES = 1024 * 1024  # a new file larger than this counts as one line (binary-ish)
MAX_UNTRACKED_FILES = 2000


@dataclass(slots=True)
class Baseline:
    """The workspace before the session."""

    snapshot: Snapshot
    remote_refs: dict[str, str] = field(default_factory=dict)
    tests: SuiteRun | None = None


def baseline(workspace: Path) -> Baseline:
    snap = snapshot(Path(workspace))
    return Baseline(snap, _remote_refs(Path(workspace)) if snap.git else {})


_out = git_text


def _remote_refs(ws: Path) -> dict[str, str]:
    text = _out(ws, "for-each-ref", "--format=%(refname) %(objectname)", "refs/remotes")
    refs: dict[str, str] = {}
    for line in (text or "").splitlines():
        name, _, sha = line.partition(" ")
        if name and sha and not name.endswith("/HEAD"):
            refs[name] = sha
    return refs


def _numstat(text: str | None) -> dict[str, tuple[int, int]]:
    """path -> (lines added, lines removed) from `git diff --numstat -z --no-renames`."""
    out: dict[str, tuple[int, int]] = {}
    for line in (text or "").split("\0"):
        parts = line.split("\t", 2)
        if len(parts) < 3:
            continue
        a, r, path = parts
        # "-" is a binary file: it counts as one line added
        out[path.strip("\n")] = (int(a) if a.isdigit() else 1, int(r) if r.isdigit() else 0)
    return out


def _sum(stat: dict[str, tuple[int, int]]) -> tuple[int, int]:
    return sum(a for a, _ in stat.values()), sum(r for _, r in stat.values())


def _untracked(ws: Path, before: Snapshot) -> tuple[int, set[str]]:
    """Lines and paths of untracked files the session created or changed."""
    text = _out(ws, "ls-files", "-z", "--others", "--exclude-standard")
    lines = 0
    paths: set[str] = set()
    for rel in (text or "").split("\0")[:MAX_UNTRACKED_FILES]:
        if not rel:
            continue
        p = ws / rel
        try:
            st = p.lstat()
        except OSError:
            continue
        if before.dirty.get(rel) == (st.st_mtime_ns, st.st_size):
            continue  # there before the session, unchanged
        paths.add(rel)
        if st.st_size > MAX_UNTRACKED_BYTES or not p.is_file():
            lines += 1
            continue
        try:
            with open(p, "rb") as fh:
                data = fh.read()
        except OSError:
            continue
        lines += data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    return lines, paths


def summarize(
    workspace: Path, base: Baseline, tests_after: SuiteRun | None = None
) -> WorkspaceSummary:
    ws = Path(workspace)
    before = base.snapshot
    s = WorkspaceSummary(tests_before=base.tests, tests_after=tests_after)
    if not before.git:
        s.git = False
        after_files = scan(ws)
        if before.files is None or after_files is None:
            s.notes.append("not a git repository, and too many files to compare")
            return s
        changed = {p for p, st in after_files.items() if before.files.get(p) != st}
        changed |= set(before.files) - set(after_files)
        s.files_touched = s.uncommitted_files = len(changed)
        s.notes.append("not a git repository: files changed are counted, lines and commits not")
        return s
    after = snapshot(ws)
    if not after.git:
        s.git = False
        s.notes.append("the workspace is no longer a git repository")
        return s
    s.head_before, s.head_after = before.head, after.head
    branch = _out(ws, "rev-parse", "--abbrev-ref", "HEAD")
    s.branch = branch.strip() if branch and branch.strip() != "HEAD" else None
    start = before.head or EMPTY_TREE
    committed_files: set[str] = set()
    c_added = c_removed = 0
    if after.head and after.head != before.head:
        rng = [after.head] + ([f"^{before.head}"] if before.head else [])
        count = _out(ws, "rev-list", "--count", *rng)
        s.commits = int(count.strip()) if count and count.strip().isdigit() else None
        log = _out(ws, "log", "-z", f"--max-count={MAX_MESSAGES}", "--format=%H%x01%s", *rng)
        for entry in (log or "").split("\0"):
            sha, _, subject = entry.strip("\n").partition("\x01")
            if sha:
                s.commit_shas.append(sha)
                s.commit_messages.append(clip(subject, 200))
        s.reverted = sum(1 for m in s.commit_messages if m.startswith('Revert "'))
        stat = _numstat(_out(ws, "diff", "--numstat", "-z", "--no-renames", start, after.head))
        c_added, c_removed = _sum(stat)
        committed_files = set(stat)
    else:
        s.commits = 0
    # Uncommitted: tracked changes against the new HEAD, and new untracked files.
    # A file dirty before the session and not touched since is not the session's work.
    u_stat = _numstat(
        _out(ws, "diff", "--numstat", "-z", "--no-renames", after.head) if after.head else None
    )
    u_stat = {f: v for f, v in u_stat.items() if before.dirty.get(f, ()) != after.dirty.get(f)}
    u_added, u_removed = _sum(u_stat)
    u_files = set(u_stat)
    new_lines, new_files = _untracked(ws, before)
    s.uncommitted_files = len(u_files | new_files)
    s.uncommitted_lines = u_added + u_removed + new_lines
    s.lines_added = c_added + u_added + new_lines
    s.lines_removed = c_removed + u_removed
    s.files_touched = len(committed_files | u_files | new_files)
    s.committed_files = len(committed_files)
    moved = _remote_refs(ws)
    s.pushed_refs = sorted(r for r, sha in moved.items() if base.remote_refs.get(r) != sha)
    return s


def default_branch(workspace: Path) -> str | None:
    """The remote's default branch (refs/remotes/origin/HEAD), else main or master if present."""
    ws = Path(workspace)
    ref = _out(ws, "symbolic-ref", "-q", "refs/remotes/origin/HEAD")
    if ref and ref.strip():
        return ref.strip()
    for name in ("refs/heads/main", "refs/heads/master"):
        if _out(ws, "rev-parse", "--verify", "-q", name):
            return name
    return None




def diffstat(workspace: Path, head_before: str | None, limit: int = 40) -> str:
    """`git diff --stat` of the working tree against the commit the session started from
    (committed and uncommitted tracked changes), at most `limit` file lines."""
    ws = Path(workspace)
    text = _out(ws, "diff", "--stat=100", f"--stat-count={limit}", head_before or EMPTY_TREE)
    return (text or "").rstrip()


__all__ = ["Baseline", "baseline", "default_branch", "diffstat", "summarize"]
