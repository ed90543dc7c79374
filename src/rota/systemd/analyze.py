"""Calendar expressions, read by systemd itself: `systemd-analyze calendar` validates them and
computes their next elapse.

rota has no calendar parser of its own. A host without systemd-analyze has no systemd to run the
timer either, so there an expression is left unchecked and its next elapse is unknown.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

SUBPROCESS_TIMEOUT_S = 15.0
SOURCE = "systemd-analyze"
NOT_INSTALLED = "systemd-analyze is not installed"


class CalendarError(ValueError):
    """systemd rejects the expression (the message is systemd's own, or says why it failed)."""


def executable() -> str | None:
    return shutil.which("systemd-analyze")


@dataclass(frozen=True, slots=True)
class Elapse:
    """When a schedule fires next. `source` None = unknown (`reason` says why)."""

    at: float | None  # epoch seconds; None = never, or unknown when source is None
    source: str | None
    reason: str = ""

    @property
    def known(self) -> bool:
        return self.source is not None


def _run(exe: str, args: Sequence[str]) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(
            [exe, "calendar", *args],
            capture_output=True,
            text=True,
            timeout=SUBPROCESS_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None


def _failure(proc: subprocess.CompletedProcess[str] | None, expression: str) -> str:
    if proc is None:
        return f"systemd-analyze could not be run to check {expression!r}"
    lines = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
    return lines[-1] if lines else f"invalid calendar expression {expression!r}"


def check(expression: str) -> bool:
    """Raise CalendarError when systemd rejects `expression`; False when nobody can tell here."""
    exe = executable()
    if exe is None:
        return False
    proc = _run(exe, ["--", expression])
    if proc is None or proc.returncode != 0:
        raise CalendarError(_failure(proc, expression))
    return True


_STAMP = re.compile(r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})")


def parse_next_elapse(output: str) -> float | None:
    """The first elapse in `systemd-analyze calendar` output, as epoch seconds; None = never.

    "Next elapse:" is in local time. systemd adds an "(in UTC):" line unless the local zone is
    UTC (or has its offset: a zone abbreviation is no proof), so without one the local time is UTC.
    Raises ValueError when the output holds no elapse.
    """
    stamps: dict[str, str] = {}
    for line in output.splitlines():
        key, _, value = line.strip().partition(":")
        value = value.strip()
        if key == "Next elapse" and value == "never":
            return None
        m = _STAMP.search(value)
        if key in ("Next elapse", "(in UTC)") and m and key not in stamps:
            stamps[key] = m.group(1)
    stamp = stamps.get("(in UTC)") or stamps.get("Next elapse")
    if stamp is None:
        raise ValueError("no next elapse in systemd-analyze output")
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp()


def next_elapse(expressions: str | Sequence[str], after: float) -> Elapse:
    """The earliest elapse of any of `expressions` strictly after `after` (epoch seconds).

    Raises CalendarError when systemd rejects one of them.
    """
    exprs = [expressions] if isinstance(expressions, str) else list(expressions)
    exe = executable()
    if exe is None:
        return Elapse(None, None, NOT_INSTALLED)
    # --base-time arrived in systemd 248; asking about "now" works without it.
    base = [] if abs(after - time.time()) < 1.0 else [f"--base-time=@{after:.6f}"]
    times: list[float] = []
    for expr in exprs:
        proc = _run(exe, ["--iterations=1", *base, "--", expr])
        if proc is None or proc.returncode != 0:
            raise CalendarError(_failure(proc, expr))
        try:
            at = parse_next_elapse(proc.stdout)
        except ValueError:
            return Elapse(None, None, f"cannot read systemd-analyze's answer for {expr!r}")
        if at is not None:
            times.append(at)
    return Elapse(min(times) if times else None, SOURCE)
