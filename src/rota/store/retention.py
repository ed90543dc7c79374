"""Bounded growth: what `[retention]` prunes, after each run and by `rota store prune`.

What selection needs survives every prune, so no posterior and no learnt quota fact changes:
- posteriors live in the evidence rows (decayed sums), which are never pruned; sessions are
  only the record of how they came to be;
- learnt quota windows, arm sizes and regressions come from the sessions of the last
  LEARN_LOOKBACK_S (28 days), so `sessions_days` may not be shorter than that;
- blocks are pruned only well after they ended (a backoff looks one day back for the previous
  one), cached quota answers only long after any cache would use them.

Logs: by age, then the oldest first until the folder is under its total size; a running session's
log is never touched. A single log is capped while it is written (`cap_file`): its head and its
tail are kept, with a line saying how much was left out between them.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rota.config import MIN_SESSIONS_DAYS
from rota.config import RetentionSettings as Retention
from rota.store.base import RECENT_OUTCOMES, RUNNING

DAY = 86400.0
BLOCK_KEEP_S = 2 * DAY  # a block is kept this long after it ended (backoff looks back a day)
QUOTA_KEEP_S = 7 * DAY  # cached probe answers older than this are never read
OMITTED = b"\n[rota] ... %d bytes of output left out here (log capped at %d KiB) ...\n"


@dataclass
class PruneReport:
    dry_run: bool
    cutoff: float  # sessions started before this are pruned
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows pruned
    log_files: int = 0
    log_bytes: int = 0
    logs_capped: int = 0

    @property
    def sessions(self) -> int:
        return self.rows.get("sessions", 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "cutoff": self.cutoff,
            "sessions": self.sessions,
            "rows": dict(self.rows),
            "log_files": self.log_files,
            "log_bytes": self.log_bytes,
            "logs_capped": self.logs_capped,
        }


# The rows each table loses, as (count, delete) statements with the same WHERE clause. Table names
# are constants; every value goes through a placeholder.
_PRUNES: tuple[tuple[str, str, str], ...] = (
    # A session goes once it both started and ended before the cutoff (one marked abandoned
    # today keeps its record), unless it is a harness's last outcome (see _last_outcomes). The
    # started_at test uses its index.
    (
        "sessions",
        "sessions WHERE started_at < ? AND COALESCE(ended_at, started_at) < ? AND status <> ? "
        "AND id NOT IN ({keep})",
        "cutoff,cutoff,running,keep",
    ),
    (
        "decisions",
        # those no surviving session points at (the same whether or not sessions went first);
        # NOT IN over a subquery is evaluated once, not per decision
        "decisions WHERE at < ? AND id NOT IN (SELECT decision_id FROM sessions WHERE "
        "decision_id IS NOT NULL AND (started_at >= ? OR COALESCE(ended_at, started_at) >= ? "
        "OR status = ? OR id IN ({keep})))",
        "cutoff,cutoff,cutoff,running,keep",
    ),
    ("blocks", "blocks WHERE until_ts < ?", "block_cutoff"),
    ("quota_cache", "quota_cache WHERE observed_at < ?", "quota_cutoff"),
)


def prune_rows(
    store: Any, retention: Retention, now: float, *, dry_run: bool = False
) -> PruneReport:
    """Delete (or, dry, count) what retention lets go, in one transaction. `store`: a SQLStore."""
    cutoff = now - max(retention.sessions_days, MIN_SESSIONS_DAYS) * DAY
    values = {
        "cutoff": cutoff,
        "running": RUNNING,
        "block_cutoff": now - BLOCK_KEEP_S,
        "quota_cutoff": now - QUOTA_KEEP_S,
    }
    report = PruneReport(dry_run=dry_run, cutoff=cutoff)
    with store._write() as cur:
        keep = _last_outcomes(store, cur) or [-1]  # -1: no session has it; NOT IN () is no SQL
        marks = ", ".join("?" for _ in keep)  # placeholders only: the ids are parameters
        for table, template, names in _PRUNES:
            where = template.replace("{keep}", marks)
            params: tuple[Any, ...] = ()
            for name in names.split(","):
                params += tuple(keep) if name == "keep" else (values[name],)
            if dry_run:
                n = store._one(cur, f"SELECT COUNT(*) FROM {where}", params)[0]  # noqa: S608
            else:
                n = store._exec(cur, f"DELETE FROM {where}", params)  # noqa: S608
            report.rows[table] = int(n or 0)
    return report


def _last_outcomes(store: Any, cur: Any) -> list[int]:
    """The ids of each harness's newest finished session among the newest RECENT_OUTCOMES: what
    rota.probes reads to call a harness without a quota source usable. Kept, so that pruning
    leaves what a probe answers as it was."""
    found = store._all(
        cur,
        "SELECT id, COALESCE(arm_ran, arm), status FROM sessions "
        "ORDER BY started_at DESC, id DESC LIMIT ?",
        (RECENT_OUTCOMES,),
    )
    newest: dict[str, int] = {}
    for sid, arm, status in found:
        if status != RUNNING:
            newest.setdefault(str(arm).split(":", 1)[0], int(sid))
    return sorted(newest.values())


def prune_logs(
    logs_dir: Path,
    retention: Retention,
    now: float,
    *,
    keep: Iterable[str] = (),
    dry_run: bool = False,
    report: PruneReport | None = None,
) -> PruneReport:
    """Logs older than logs_days go, then the oldest until the rest fit in logs_max_mib; the
    logs in `keep` (running sessions') stay. Each remaining log over log_max_kib is capped."""
    report = report or PruneReport(dry_run=dry_run, cutoff=now - retention.sessions_days * DAY)
    kept_stems = {_session_stem(Path(k)) for k in keep if k}
    files: list[tuple[float, int, Path]] = []
    try:
        entries = list(os.scandir(logs_dir))
    except OSError:
        return report
    for e in entries:
        try:
            if not e.is_file(follow_symlinks=False):
                continue
            st = e.stat(follow_symlinks=False)
        except OSError:
            continue
        path = Path(e.path)
        if _session_stem(path) in kept_stems:
            continue
        files.append((st.st_mtime, st.st_size, path))
    files.sort()
    total = sum(size for _, size, _ in files)
    budget = int(retention.logs_max_mib * 1024 * 1024)
    age_cutoff = now - retention.logs_days * DAY
    survivors = []
    for mtime, size, path in files:
        if mtime < age_cutoff or total > budget:
            if dry_run or _unlink(path):
                report.log_files += 1
                report.log_bytes += size
                total -= size
                continue
        survivors.append((size, path))
    for size, path in survivors:
        if size > retention.log_max_bytes * 1.5:
            if dry_run:
                report.logs_capped += 1
                report.log_bytes += size - retention.log_max_bytes
            elif cap_file(path, retention.log_max_bytes):
                report.logs_capped += 1
                report.log_bytes += size - path.stat().st_size
    return report


def _session_stem(path: Path) -> str:
    """A session's log and prompt file share a stem: 20261201T120000Z-4242-agent_m1."""
    name = path.name
    for suffix in (".prompt.md", ".log"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _unlink(path: Path) -> bool:
    try:
        path.unlink()
        return True
    except OSError:
        return False


def cap_file(path: Path, max_bytes: int) -> bool:
    """Keep the first and the last max_bytes/2 of a file, cut at line ends, with a line saying
    how much was left out. True when it was cut. Works in place: a full disk does not stop it."""
    try:
        # Its own descriptor: on Linux a pwrite through an O_APPEND one (the log writer's) would
        # append wherever it was asked to write.
        with open(path, "r+b") as fh:
            return _cap(fh.fileno(), max_bytes)
    except OSError:
        return False


def _cap(fd: int, max_bytes: int) -> bool:
    size = os.fstat(fd).st_size
    if size <= max_bytes or max_bytes <= 0:
        return False
    half = max_bytes // 2
    head = os.pread(fd, half, 0)
    cut = head.rfind(b"\n")
    head_end = cut + 1 if cut >= half // 2 else len(head)
    tail_start = size - half
    tail = os.pread(fd, half, tail_start)
    nl = tail.find(b"\n")
    if 0 <= nl < len(tail) // 2:
        tail, tail_start = tail[nl + 1 :], tail_start + nl + 1
    note = OMITTED % (tail_start - head_end, max_bytes // 1024)
    if head_end + len(note) + len(tail) >= size:
        return False
    # The new tail goes right after the head; it only moves towards the start, so no byte of it
    # is overwritten before it has been read (it was read whole above).
    os.pwrite(fd, note + tail, head_end)
    os.ftruncate(fd, head_end + len(note) + len(tail))
    return True


def prune(
    store: Any, logs_dir: Path, retention: Retention, now: float, *, dry_run: bool = False
) -> PruneReport:
    """Rows, then logs (the running sessions' logs are kept)."""
    report = prune_rows(store, retention, now, dry_run=dry_run)
    running = []
    with contextlib.suppress(Exception):
        running = [r.log_path for r in store.running_sessions()]
    return prune_logs(logs_dir, retention, now, keep=running, dry_run=dry_run, report=report)


__all__ = [
    "MIN_SESSIONS_DAYS",
    "PruneReport",
    "Retention",
    "cap_file",
    "prune",
    "prune_logs",
    "prune_rows",
]
