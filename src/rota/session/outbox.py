"""A session that ran is never lost, even when the store fails at its end (disk full, corrupt
pages, a database that went away): its outcome is kept in a file and recorded by the next run.

Before the harness starts, `reserve` writes the session's identity into a file of RESERVE_BYTES
under $state/outbox/ (real blocks, written and synced while there is still room). When the
session ends, `Slot.write` puts the outcome into those same bytes, in place: no new block is
needed, so it succeeds on a full disk. Once the store has the outcome the file is removed. When
the store failed, the file stays, `rota run` exits 69, and the next run's `replay` records it
(before it marks dead sessions abandoned).

A file that holds no outcome belongs to a running session, or to one whose process died (the
next run marks that session abandoned, as it always did, and removes the file).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rota.quota.state import Block
from rota.store.base import ABANDONED, RUNNING, SessionOutcome, Store

OUTBOX_DIR = "outbox"
RESERVE_BYTES = 64 * 1024
VERSION = 1
# Detail kept when an outcome is too large for its reservation (the rest is in the log).
ESSENTIAL_DETAIL = ("process", "limit", "error", "model_seen", "model_switch", "crash_loop")


def outbox_dir(state_dir: Path | str) -> Path:
    return Path(state_dir) / OUTBOX_DIR


class Slot:
    """One session's reserved file. Never raises from write/discard/close."""

    def __init__(self, path: Path, fd: int, identity: dict[str, Any]) -> None:
        self.path = path
        self.fd = fd
        self.identity = identity
        self.written = False

    def write(self, outcome: SessionOutcome) -> bool:
        """Put the outcome into the reserved bytes and sync them. False when it could not."""
        data = _encode({"version": VERSION, "session": self.identity, "outcome": _outcome(outcome)})
        if len(data) > RESERVE_BYTES:
            slim = outcome._replace(
                detail={k: v for k, v in outcome.detail.items() if k in ESSENTIAL_DETAIL},
                signals={k: v for k, v in outcome.signals.items() if k != "errors"},
            )
            data = _encode(
                {"version": VERSION, "session": self.identity, "outcome": _outcome(slim)}
            )
        try:
            os.pwrite(self.fd, data.ljust(RESERVE_BYTES, b" "), 0)
            os.fdatasync(self.fd)
        except OSError:
            return False
        self.written = True
        return True

    def discard(self) -> None:
        """The store has the outcome: the file goes."""
        with contextlib.suppress(OSError):
            self.path.unlink()
        self.close()

    def close(self) -> None:
        if self.fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = -1


def reserve(state_dir: Path | str, identity: Mapping[str, Any]) -> Slot | None:
    """Reserve the place for a session's outcome (call before the harness starts). `identity`:
    id, category, arm, started_at, pid, machine, workspace, log_path, decision_id, detail.
    None when even that cannot be written (the session then runs without the safety net)."""
    from rota.privatefs import private_dir

    ident = dict(identity)
    name = f"{_slug(str(ident.get('machine', '')))}-{ident.get('pid')}-{ident.get('id')}.json"
    path = outbox_dir(state_dir) / name
    fd = -1
    try:
        private_dir(path.parent)
        fd = os.open(
            path, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600
        )
        body = _encode({"version": VERSION, "session": ident})
        if len(body) > RESERVE_BYTES:
            ident["detail"] = {}
            body = _encode({"version": VERSION, "session": ident})
        os.pwrite(fd, body.ljust(RESERVE_BYTES, b" "), 0)
        os.fsync(fd)
        dfd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dfd)  # the file's name survives a crash too
        finally:
            os.close(dfd)
    except OSError:
        if fd >= 0:
            os.close(fd)
            with contextlib.suppress(OSError):
                path.unlink()
        return None
    return Slot(path, fd, ident)


@dataclass
class Pending:
    path: Path
    session: dict[str, Any]
    outcome: dict[str, Any] | None  # None: the session had not ended when this was written


@dataclass
class ReplayReport:
    recorded: list[int] = field(default_factory=list)  # session ids now recorded
    dropped: list[str] = field(default_factory=list)  # files removed (already recorded, dead)
    kept: list[str] = field(default_factory=list)  # files left for later (still running)
    errors: list[str] = field(default_factory=list)  # unreadable files (renamed *.bad)


def pending(state_dir: Path | str) -> tuple[list[Pending], list[str]]:
    """Every outbox file, and the names of those that cannot be read (damaged)."""
    d = outbox_dir(state_dir)
    out: list[Pending] = []
    bad: list[str] = []
    try:
        names = sorted(os.listdir(d))
    except OSError:
        return [], []
    for name in names:
        if not name.endswith(".json"):
            continue
        path = d / name
        try:
            obj = json.loads(path.read_bytes().decode("utf-8"))
            session = obj["session"]
            outcome = obj.get("outcome")
            if not isinstance(session, dict) or not (outcome is None or isinstance(outcome, dict)):
                raise ValueError("not an outbox record")
        except (OSError, ValueError, KeyError, TypeError):
            bad.append(name)
            continue
        out.append(Pending(path, session, outcome))
    return out, bad


def replay(
    store: Store,
    state_dir: Path | str,
    *,
    half_life_s: float,
    machine: str,
    alive: Callable[[int | None, float | None], bool],
) -> ReplayReport:
    """Record every outcome a dead process kept (once), and drop what is done with.

    A kept outcome whose session is still `running` (or was marked `abandoned` meanwhile) is
    finished with it; one whose session row is missing (the database was replaced) is recorded as
    a new session; one the store already has is dropped. Store errors propagate (the files stay).
    """
    report = ReplayReport()
    items, bad = pending(state_dir)
    for name in bad:
        path = outbox_dir(state_dir) / name
        with contextlib.suppress(OSError):
            path.rename(path.with_suffix(".bad"))
        report.errors.append(name)
    for item in items:
        s = item.session
        # Only a dead process's file is ours to act on: a live one writes its outcome ahead of
        # recording it itself (and another machine's files are that machine's).
        if s.get("machine") != machine or alive(_int(s.get("pid")), _float(s.get("started_at"))):
            report.kept.append(item.path.name)
            continue
        if item.outcome is None:
            _unlink(item.path)  # died mid-session: recovery marks it abandoned
            report.dropped.append(item.path.name)
            continue
        outcome = _decode_outcome(item.outcome)
        sid = _record(store, s, outcome, half_life_s)
        if sid is not None:
            report.recorded.append(sid)
        _unlink(item.path)
        report.dropped.append(item.path.name)
    return report


def _record(
    store: Store, s: dict[str, Any], outcome: SessionOutcome, half_life_s: float
) -> int | None:
    """Finish or insert the session; None when the store already had its outcome."""
    rec = store.get_session(_int(s.get("id")) or -1)
    same = (
        rec is not None
        and rec.started_at == _float(s.get("started_at"))
        and rec.pid == _int(s.get("pid"))
        and rec.machine == s.get("machine", "")
    )
    if same and rec is not None and rec.status not in (RUNNING, ABANDONED):
        return None  # recorded before (the file outlived a crash after the commit)
    if same and rec is not None:
        store.finish_session(rec.id, outcome, half_life_s=half_life_s, reopen=True)  # type: ignore[call-arg]
        return rec.id
    # The database lost the row (it was replaced): the session is recorded anew, in one go.
    return store.import_session(  # type: ignore[attr-defined,no-any-return]
        category=str(s.get("category", "")),
        arm=str(s.get("arm", "")),
        started_at=_float(s.get("started_at")) or outcome.ended_at,
        pid=_int(s.get("pid")),
        machine=str(s.get("machine", "")),
        workspace=str(s.get("workspace", "")),
        log_path=str(s.get("log_path", "")),
        detail=dict(s.get("detail") or {}),
        outcome=outcome,
        half_life_s=half_life_s,
    )


# ---------------------------------------------------------------------------------------------


def _encode(obj: Any) -> bytes:
    return (json.dumps(obj, sort_keys=True, default=str, allow_nan=False) + "\n").encode("utf-8")


def _outcome(o: SessionOutcome) -> dict[str, Any]:
    return {
        "status": o.status,
        "ended_at": o.ended_at,
        "exit_code": o.exit_code,
        "arm_ran": o.arm_ran,
        "reward": o.reward,
        "signals": _jsonable(o.signals),
        "detail": _jsonable(o.detail),
        "blocks": [list(b) for b in o.blocks],
    }


def _decode_outcome(d: Mapping[str, Any]) -> SessionOutcome:
    blocks: Sequence[Block] = tuple(
        Block(str(b[0]), str(b[1]), float(b[2]), str(b[3]), str(b[4]), float(b[5]), int(b[6]))
        for b in d.get("blocks") or ()
        if isinstance(b, list) and len(b) == 7
    )
    reward = d.get("reward")
    return SessionOutcome(
        status=str(d.get("status")),
        ended_at=float(d.get("ended_at") or 0.0),
        exit_code=_int(d.get("exit_code")),
        arm_ran=d.get("arm_ran") if isinstance(d.get("arm_ran"), str) else None,
        reward=float(reward) if isinstance(reward, (int, float)) else None,
        signals=dict(d.get("signals") or {}),
        detail=dict(d.get("detail") or {}),
        blocks=blocks,
    )


def _jsonable(m: Mapping[str, Any]) -> dict[str, Any]:
    # NaN/inf cannot go through JSON strictly; they are not part of any outcome rota writes.
    return json.loads(json.dumps(dict(m), default=str))


def _int(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _float(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in text)[:60] or "host"


def _unlink(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


__all__ = ["Pending", "ReplayReport", "Slot", "pending", "replay", "reserve"]
