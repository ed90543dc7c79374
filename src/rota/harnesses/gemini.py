"""Gemini CLI: `gemini --prompt=PROMPT -m MODEL --output-format json --approval-mode=yolo` (a long
prompt on stdin; `-p VALUE` takes a VALUE starting with "-" for options and prints its help).

What it prints (tests/fixtures/realcli/gemini/): on success one JSON document on stdout
(`response`, `stats.models` keyed by the model that answered); on an API error nothing on stdout,
its retries and a JSON error document (`{"error": {"type", "message", "code"}}`) last on
**stderr**, and an exit code that is the HTTP status & 255 (429 -> 173, 400 -> 144, 500 -> 244,
503 -> 247); 1 for other errors (a model not found), 42 bad input, 53 turn limit. On a capacity
limit it does not exit but sleeps until the reset ("Your quota will reset after 7h12m3.5s..
Retrying after …ms"), so a session stopped at rota's timeout may have stopped on a limit.
Quotas are per model ("your daily quota on this model"), so a limit blocks the arm.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rota.harnesses.base import INFRA_AUTH, INFRA_MODEL, InfraFailure, LimitHit, SessionOutput
from rota.harnesses.common import (
    BuiltinProfile,
    infra_from_status,
    last_json_document,
    load_json,
)

NAME = "gemini"
# Anchored at the start of an error line (after "✕", "⚡", "[API Error:", "[Backend Error]").
LIMIT_PATTERNS = (
    # gemini-cli's own error class (packages/core/src/utils/googleQuotaErrors.ts), as its message
    # prefix: "TerminalQuotaError: You have exhausted your daily quota on this model."
    r"TerminalQuotaError\b",
    # "You have exhausted your capacity on this model. Your quota will reset after 8h44m7s."
    # "[API Error: You have exhausted your daily quota on this model.]"
    r"You have exhausted your (?:\w+ )?(?:quota|capacity)",
    # "⚡ You have reached your daily quota limit." / "…your daily gemini-2.5-pro quota limit."
    r"You have reached your daily (?:[\w.-]+ )?quota limit",
    # "Quota exceeded for quota metric 'Gemini 2.5 Pro Requests' and limit 'Gemini 2.5 Pro
    # Requests per day per user per tier'" (gemini-cli#10925, as a line of its own)
    r"Quota exceeded for quota metric",
    # "[API Error: Resource has been exhausted (e.g. check quota).]"
    r"Resource (?:has been )?exhausted\b",
    # The API's status, on a line of its own in a pasted body: "status": "RESOURCE_EXHAUSTED"
    # (gemini-cli#6962, #10925); "429 Too Many Requests … quota" from an HTTP client's line.
    r"RESOURCE_EXHAUSTED\b",
    r"429\b.*(?:quota|rate limit|exhausted)",
)
# Inside gemini's own error document (--output-format json), whose message quotes the API's 429
# body over many lines: "✕ [API Error: [{ \"error\": { \"code\": 429, \"message\": \"You have
# exhausted your capacity on this model…", "\"message\": \"You exceeded your current quota,
# please check your plan and billing details…", "Resource has\n  been exhausted", "Resource
# exhausted. Please try again later.", "status": "RESOURCE_EXHAUSTED".
LIMIT_ANYWHERE = (
    r"exhausted your (?:\w+ )?(?:quota|capacity)",
    r"reached your daily (?:[\w.-]+ )?quota limit",
    r"Quota exceeded for quota metric",
    r"You exceeded your current quota",
    r"Resource (?:has\s+been\s+)?exhausted\b",
    r"RESOURCE_EXHAUSTED\b",
    r"TerminalQuotaError\b",
)


INFRA_PATTERNS = (
    (INFRA_MODEL, r".*\bModelNotFoundError\b"),
    (INFRA_MODEL, r"models/\S+ is not found"),
    (INFRA_AUTH, r".*API key not valid"),
)
_CAPACITY = re.compile(r"You have exhausted your capacity.*", re.I)


def _status_from_exit(exit_code: int | None) -> int | None:
    """The HTTP status an exit code of status & 255 stands for (400-599)."""
    if exit_code is None or exit_code < 144 or exit_code > 255:
        return None
    return exit_code + 256


def _doc(stdout: str) -> dict[str, Any] | None:
    d = load_json(stdout)
    return d if isinstance(d, dict) else None


@dataclass
class GeminiProfile(BuiltinProfile):
    def _error(self, out: SessionOutput) -> tuple[int | None, str]:
        """(HTTP status, message) of the error document, last on stderr (or on stdout); the
        status from the exit code when the document has none."""
        doc = last_json_document(out.stderr) or _doc(out.stdout) or {}
        err = doc.get("error") if isinstance(doc.get("error"), dict) else {}
        code, message = err.get("code"), str(err.get("message") or "")
        if not (isinstance(code, int) and not isinstance(code, bool)) or code < 400:
            code = _status_from_exit(out.exit_code)
        return code, message

    def detect_limit(self, out: SessionOutput) -> LimitHit | None:
        if out.timed_out:  # it slept on a capacity limit until rota's timeout
            line = next((m.group(0) for m in _CAPACITY.finditer(out.stderr)), None)
            if line is None:
                return None
            # printed right after the first request failed: count from the session's start
            ref = out.started_at or out.ended_at
            return self._hit(line, self.parse_reset(line, ref), ref)
        if out.exit_code == 0:
            # A session that succeeded: quota notices on stderr were retries that worked
            # ("Attempt 1 failed: You have exhausted your capacity… Retrying after 6173ms...").
            return None
        extra: list[str] = []
        # --output-format json writes the error document to stderr (gemini-cli 0.61); older
        # versions wrote it to stdout.
        for stream in (out.stderr, out.stdout):
            d = _doc(stream)
            err = d.get("error") if d else None
            if isinstance(err, dict):
                kind = str(err.get("type") or "")
                msg = str(err.get("message") or "")
                extra.append(f"{kind}: {msg}" if kind else msg)
        hit = self.text_limit(out, extra) or super().detect_limit(out)
        if hit is None and self._error(out)[0] == 429:  # the status in the exit code: 173
            hit = self._hit(self._error(out)[1] or "HTTP 429", None, out.ended_at)
        return hit

    def detect_infra(self, out: SessionOutput) -> InfraFailure | None:
        if out.exit_code in (0, None):
            return None
        status, message = self._error(out)
        if status == 400 and "API key" in message:
            return InfraFailure(INFRA_AUTH, message)
        found = infra_from_status(status, message)
        return found or self.text_infra(out, [message] if message else [])

    def model_seen(self, stdout: str) -> str | None:
        d = _doc(stdout)
        stats = d.get("stats") if d else None
        models = stats.get("models") if isinstance(stats, dict) else None
        if not isinstance(models, dict) or not models:
            return None

        def requests(item: tuple[str, Any]) -> float:
            api = item[1].get("api") if isinstance(item[1], dict) else None
            n = api.get("totalRequests") if isinstance(api, dict) else None
            return float(n) if isinstance(n, (int, float)) and n == n else 0.0

        return max(models.items(), key=requests)[0]

    def result_signals(self, stdout: str) -> dict[str, float]:
        d = _doc(stdout)
        if not d:
            return {}
        if d.get("error"):
            return {"harness": 0.0}
        if "response" in d:
            return {"harness": 1.0}
        return {}


_ARGV = ("gemini", "-m", "{model}", "--output-format", "json", "--approval-mode=yolo")


def profile() -> GeminiProfile:
    return GeminiProfile(
        name=NAME,
        executable="gemini",
        # `--prompt=VALUE`: a VALUE starting with "-" (a Markdown list) stays the prompt
        argv=[_ARGV[0], "--prompt={prompt}", *_ARGV[1:]],
        stdin_argv=list(_ARGV),
        auth_files=(".gemini/oauth_creds.json",),
        auth_env=("GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_APPLICATION_CREDENTIALS"),
        default_models={
            "gemini-2.5-pro": {"tier": "medium", "cost": 1.0},
            "gemini-2.5-flash": {"tier": "low", "cost": 0.3},
        },
        quota_source="heuristic (last session on this harness)",
        install_hint="npm install -g @google/gemini-cli",
        limit_patterns=LIMIT_PATTERNS,
        limit_anywhere=LIMIT_ANYWHERE,
        infra_patterns=INFRA_PATTERNS,
        reset_horizon_days=8.0,  # daily per-model quotas; a week at most
        scope_arm=True,
    )
