"""Gemini CLI: `gemini -p PROMPT -m MODEL --output-format json --approval-mode=yolo`.

Exit 0 ok, 1 error (quota exhaustion shows as TerminalQuotaError), 42 bad input, 53 turn limit.
Quotas are per model ("your daily quota on this model"), so a limit blocks the arm.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rota.harnesses.base import LimitHit, SessionOutput
from rota.harnesses.common import BuiltinProfile, load_json

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


def _doc(stdout: str) -> dict[str, Any] | None:
    d = load_json(stdout)
    return d if isinstance(d, dict) else None


@dataclass
class GeminiProfile(BuiltinProfile):
    def detect_limit(self, out: SessionOutput) -> LimitHit | None:
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
        return self.text_limit(out, extra) or super().detect_limit(out)

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


def profile() -> GeminiProfile:
    return GeminiProfile(
        name=NAME,
        executable="gemini",
        argv=[
            "gemini",
            "-p",
            "{prompt}",
            "-m",
            "{model}",
            "--output-format",
            "json",
            "--approval-mode=yolo",
        ],
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
        reset_horizon_days=8.0,  # daily per-model quotas; a week at most
        scope_arm=True,
    )
