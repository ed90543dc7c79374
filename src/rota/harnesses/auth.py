"""Authentication failures in what a harness left behind: a login that expired, a key that is
wrong or missing. Read from the CLI's own error channel (stderr, its final error lines, the
`result` of a JSON stream that says is_error), never from what the agent wrote; only for a
process that failed. Used to tell the user once (rota.report.events) rather than every session."""

from __future__ import annotations

import json
import re

from rota.harnesses.base import SessionOutput
from rota.harnesses.common import error_lines

# What the CLIs print (claude-code, codex, gemini, copilot, and the HTTP status they pass on).
AUTH = re.compile(
    r"invalid api key|missing api key|please run /login|could not resolve authentication method"
    r"|oauth token (has )?expired|authentication[_ ]error|authentication failed"
    r"|\b401\b[^\n]*unauthori[sz]ed|unauthori[sz]ed[^\n]*\b401\b"
    r"|failed to refresh token|refresh token (was|has) (already )?(been )?(used|revoked|expired)"
    r"|please log ?out and sign in again|not logged in|api key not valid|invalid x-api-key",
    re.IGNORECASE,
)
MAX_CHARS = 200


def _result_texts(stdout: str) -> list[str]:
    """The error texts of JSON lines that report an error (claude's `result` with is_error)."""
    out = []
    for line in stdout.splitlines()[-20:]:
        line = line.strip()
        if not line.startswith("{") or "error" not in line:
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if not isinstance(obj, dict):
            continue
        failed = obj.get("is_error") is True or obj.get("type") in ("error", "turn.failed")
        for key in ("result", "message", "error"):
            v = obj.get(key)
            if failed and isinstance(v, str):
                out.append(v)
            elif failed and isinstance(v, dict) and isinstance(v.get("message"), str):
                out.append(v["message"])
    return out


def auth_problem(profile: object, out: SessionOutput) -> str | None:
    """Why the harness could not authenticate, or None (also None for a process that succeeded)."""
    if out.exit_code in (0, None) and "is_error" not in out.stdout:
        return None
    hook = getattr(profile, "detect_infra", None)  # the profile's own reading comes first
    try:
        found = hook(out) if callable(hook) else None
    except Exception:
        found = None
    if found is not None and getattr(found, "kind", "") == "auth":
        return str(found.message)[:MAX_CHARS]
    for line in reversed([*error_lines(out), *_result_texts(out.stdout)]):
        if AUTH.search(line):
            return line.strip()[:MAX_CHARS]
    return None
