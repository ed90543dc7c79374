"""One line per session event on standard error, in a shape journald and grep both read well.

    rota: start session=42 category=code workspace=/home/me/ws
    rota: decision session=42 arm=claude-code:opus category=code reason="best draw 0.81 (n=12)"
    rota: outcome session=42 status=completed arm_ran=claude-code:opus duration_s=1520
    rota: grade session=42 reward=0.72 commits=3 tests=1
    rota: exit code=0

Call `log_event(kind, **fields)` or the named helpers below. Values are quoted only when they need
it, newlines never reach the journal, and anything that looks like a credential is replaced by
`[redacted]`: a key named like a secret, or a value shaped like a token. When standard error is
the journal (systemd sets $JOURNAL_STREAM), each line starts with a syslog priority such as `<4>`
that journald turns into the entry's priority and strips. `rota sessions` and the session log
files keep the detail; these lines are the index.
"""

from __future__ import annotations

import math
import os
import re
import sys
from collections.abc import Iterable, Mapping
from typing import IO, Any

PREFIX = "rota:"
REDACTED = "[redacted]"
MAX_VALUE_CHARS = 300

# syslog priorities (journald reads a leading "<N>")
LEVELS = {"debug": 7, "info": 6, "notice": 5, "warning": 4, "error": 3}

_SECRET_KEY = re.compile(
    r"(token|secret|passw(or)?d|api[_-]?key|apikey|authorization|auth_header|credential|cookie|"
    r"private[_-]?key|bearer|session[_-]?key)",
    re.IGNORECASE,
)
_SECRET_VALUE = re.compile(
    r"(sk-[A-Za-z0-9_\-]{16,}"  # OpenAI / Anthropic API keys (sk-…, sk-ant-…)
    r"|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"  # GitHub tokens
    r"|xox[abprs]-[A-Za-z0-9\-]{10,}"  # Slack
    r"|AKIA[0-9A-Z]{16}"  # AWS access key id
    r"|AIza[0-9A-Za-z_\-]{30,}"  # Google API key
    r"|eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"  # JWT
    r"|(?i:bearer)\s+[A-Za-z0-9._~+/=\-]{8,})"  # an Authorization header value
)
_NEEDS_QUOTES = re.compile(r'[\s"=\\]')
_KEY_OK = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")


def redact(text: str) -> str:
    """Replace anything shaped like a token by [redacted]."""
    return _SECRET_VALUE.sub(REDACTED, text)


def _value(key: str, value: Any) -> str:
    if _SECRET_KEY.search(key):
        return REDACTED
    if isinstance(value, bool):
        s = "true" if value else "false"
    elif isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            s = str(value)
        else:
            s = f"{value:.4g}" if abs(value) < 1e6 else f"{value:.0f}"
    elif isinstance(value, int):
        s = str(value)
    elif isinstance(value, (list, tuple, set, frozenset)):
        s = ",".join(str(v) for v in value)
    else:
        s = str(value)
    # One event, one line: control characters become spaces.
    s = "".join(" " if (ord(c) < 32 or ord(c) == 127) else c for c in s)
    s = redact(s)
    if len(s) > MAX_VALUE_CHARS:
        s = s[: MAX_VALUE_CHARS - 1] + "…"
    if s == "" or _NEEDS_QUOTES.search(s):
        s = '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return s


def format_event(kind: str, fields: Mapping[str, Any] | Iterable[tuple[str, Any]] = ()) -> str:
    """`rota: <kind> key=value …` without the priority prefix. None values are left out."""
    items = fields.items() if isinstance(fields, Mapping) else fields
    kind_s = re.sub(r"[^A-Za-z0-9_.\-]", "_", kind) or "event"
    parts = [PREFIX, kind_s]
    for key, value in items:
        if value is None:
            continue
        k = key if _KEY_OK.fullmatch(key) else re.sub(r"[^A-Za-z0-9_.\-]", "_", key) or "_"
        parts.append(f"{k}={_value(k, value)}")
    return " ".join(parts)


def _stream_is_journal(stream: IO[str]) -> bool:
    """True when `stream` is the journal socket systemd handed us ($JOURNAL_STREAM=dev:inode)."""
    spec = os.environ.get("JOURNAL_STREAM", "")
    if not spec:
        return False
    try:
        dev_s, _, ino_s = spec.partition(":")
        st = os.fstat(stream.fileno())
        return st.st_dev == int(dev_s) and st.st_ino == int(ino_s)
    except (ValueError, OSError, AttributeError):
        return False


def log_event(
    kind: str, /, *, level: str = "info", stream: IO[str] | None = None, **fields: Any
) -> str:
    """Write one event line to standard error (or `stream`) and return it (without priority).

    Never raises: logging must not be the reason a session fails.
    """
    line = format_event(kind, fields)
    out = stream if stream is not None else sys.stderr
    try:
        prio = LEVELS.get(level, 6)
        text = f"<{prio}>{line}" if _stream_is_journal(out) else line
        out.write(text + "\n")
        out.flush()
    except (OSError, ValueError):
        pass
    return line


# Named helpers: the runner calls one per step. Extra keyword fields are appended as they come.


def session_start(
    session_id: int | None, *, category: str, workspace: str = "", **extra: Any
) -> str:
    return log_event("start", session=session_id, category=category, workspace=workspace, **extra)


def decision(
    session_id: int | None, *, arm: str | None, category: str, reason: str = "", **extra: Any
) -> str:
    """The chosen arm and why (score, draw, n, rule); arm None = nothing available."""
    return log_event(
        "decision",
        level="info" if arm else "warning",
        session=session_id,
        arm=arm or "none",
        category=category,
        reason=reason,
        **extra,
    )


def outcome(
    session_id: int | None,
    *,
    status: str,
    arm_ran: str | None = None,
    duration_s: float | None = None,
    exit_code: int | None = None,
    **extra: Any,
) -> str:
    level = "info" if status in ("completed", "rate_limited") else "warning"
    return log_event(
        "outcome",
        level=level,
        session=session_id,
        status=status,
        arm_ran=arm_ran,
        duration_s=None if duration_s is None else round(duration_s, 1),
        harness_exit=exit_code,
        **extra,
    )


def grade(session_id: int | None, *, reward: float | None, **signals: Any) -> str:
    """reward None = not graded (rate limited, interrupted): says so rather than logging 0."""
    return log_event(
        "grade",
        session=session_id,
        reward="none" if reward is None else round(float(reward), 3),
        **signals,
    )


def exit_code(code: int, *, reason: str = "", **extra: Any) -> str:
    level = "info" if code in (0, 75) else ("notice" if code == 76 else "error")
    return log_event("exit", level=level, code=code, reason=reason or None, **extra)
