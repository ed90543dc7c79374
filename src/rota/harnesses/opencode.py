"""opencode: `opencode run --format json -m PROVIDER/MODEL -- PROMPT` (a long prompt on stdin).

opencode works in $PWD, not in its process's working directory: rota sets PWD to the workspace.
JSON events on stdout; a failure is an `error` event, `{"error": {"name": "APIError", "data":
{"message", "statusCode", "isRetryable", "responseHeaders", "responseBody"}}}`, after its own
retries, with exit 1 (tests/fixtures/realcli/opencode/). A 429 is a limit; 401/403, 404 and 5xx
are infrastructure failures. Limits block the arm (opencode fronts many providers). Its events
name no model here; where one carries providerID/modelID, that is the model credited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rota.harnesses.base import InfraFailure, LimitHit, SessionOutput
from rota.harnesses.common import BuiltinProfile, infra_from_status, json_lines

NAME = "opencode"
# Anchored at the start of an error line.
# Anchored at the start of an error line. No opencode thread in the corpus shows these as a line of
# their own (its errors arrive as JSON events, read with LIMIT_ANYWHERE below); they are the AI SDK's
# and providers' wording as opencode's TUI prints it: "AI_APICallError: Rate limit reached for …
# (429)", "Rate limit exceeded", "Quota exceeded", "You've hit your usage limit" (an OpenAI
# subscription through opencode's codex auth), "insufficient_quota", "429 Too Many Requests". Not
# "AI_APICallError: … exceed context limit" (opencode#798, a look-alike).
LIMIT_PATTERNS = (
    r"(?:AI_)?(?:APICallError|APIError|ProviderError)\b.*\b(?:429|rate.?limit|quota)",
    r"Rate limit(?:ed| exceeded| reached)",
    r"(?:\w+ )?quota exceeded",
    r"You(?:'|’)ve (?:hit|reached) your (?:\w+ ){0,2}limit",
    r"insufficient_quota\b",
    r"429\b",
)
# Inside opencode's own error events (run --format json), whose message wraps the provider's:
LIMIT_ANYWHERE = (
    # "Error: OpenAI API error (429): {"code":"rate_limit_exceeded","type":"rate_limit_error",…}"
    r"\bAPI error \(429\)",
    r"\brate[ _]limit(?:ed|[ _]exceeded|[ _]reached|_error)\b",
    # "AI_TypeValidationError: … "Too many requests, the rate limit is 8000000 tokens per
    # minute."", "AI_RetryError: Failed after 4 attempts. Last error: Too Many Requests", "Too
    # Many Requests: quota exceeded [retrying in ~2 weeks attempt #1]"
    r"\bToo many requests\b",
    # "AI_RetryError: … Last error: This request would exceed the rate limit for your
    # organization … of 20,000 input tokens per minute." (not "exceed context limit")
    r"\bexceed\s+the\s+rate\s+limit\b",
    r"\bquota exceeded\b",
    r"\binsufficient_quota\b",
)


def _statuses(stdout: str) -> list[tuple[object, str]]:
    """(statusCode, message) of each `error` event."""
    out = []
    for obj in json_lines(stdout):
        err = obj.get("error") if obj.get("type") == "error" else None
        data = err.get("data") if isinstance(err, dict) else None
        if isinstance(data, dict):
            out.append((data.get("statusCode"), str(data.get("message") or err.get("name") or "")))
    return out


def _errors(obj: Any, depth: int = 0) -> list[str]:
    """Texts of error objects in one event: "Name: message (status)"."""
    if depth > 4 or not isinstance(obj, dict):
        return []
    out: list[str] = []
    err = obj.get("error")
    if isinstance(err, dict):
        name = str(err.get("name") or err.get("type") or "")
        data = err.get("data") if isinstance(err.get("data"), dict) else err
        msg = str(data.get("message") or "")
        status = data.get("statusCode") or data.get("status")
        text = f"{name}: {msg}" if name else msg
        if status:
            text += f" ({status})"
        out.append(text.strip())
    elif isinstance(err, str):
        out.append(err)
    for key in ("part", "properties", "info"):
        out.extend(_errors(obj.get(key), depth + 1))
    return out


@dataclass
class OpencodeProfile(BuiltinProfile):
    def detect_limit(self, out: SessionOutput) -> LimitHit | None:
        extra: list[str] = []
        for obj in json_lines(out.stdout):
            extra.extend(_errors(obj))
        return self.text_limit(out, extra) or super().detect_limit(out)

    def detect_infra(self, out: SessionOutput) -> InfraFailure | None:
        if out.exit_code == 0:
            return None
        for status, message in reversed(_statuses(out.stdout)):
            found = infra_from_status(status, message)
            if found is not None:
                return found
        return None

    def model_seen(self, stdout: str) -> str | None:
        found: str | None = None

        def walk(o: Any, depth: int = 0) -> None:
            nonlocal found
            if depth > 5 or not isinstance(o, dict):
                return
            mid, pid = o.get("modelID"), o.get("providerID")
            if isinstance(mid, str) and mid:
                found = f"{pid}/{mid}" if isinstance(pid, str) and pid else mid
            for v in o.values():
                if isinstance(v, dict):
                    walk(v, depth + 1)

        for obj in json_lines(stdout):
            walk(obj)
        return found


def profile() -> OpencodeProfile:
    return OpencodeProfile(
        name=NAME,
        executable="opencode",
        argv=["opencode", "run", "--format", "json", "-m", "{model}", "--", "{prompt}"],
        stdin_argv=["opencode", "run", "--format", "json", "-m", "{model}"],
        auth_files=(".local/share/opencode/auth.json",),
        auth_env=("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "OPENROUTER_API_KEY"),
        default_models={
            "anthropic/claude-sonnet-4-6": {"tier": "medium", "cost": 1.5},
        },
        quota_source="heuristic (last session on this harness)",
        install_hint="npm install -g opencode-ai",
        limit_patterns=LIMIT_PATTERNS,
        limit_anywhere=LIMIT_ANYWHERE,
        scope_arm=True,
    )
