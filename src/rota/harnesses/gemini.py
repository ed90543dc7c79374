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
LIMIT_PATTERNS = (
    r"TerminalQuotaError\b",
    r"You have exhausted your (?:\w+ )?quota",
    r"Quota exceeded for quota metric",
    r"RESOURCE_EXHAUSTED\b",
    r"429\b.*(?:quota|rate limit|exhausted)",
)


def _doc(stdout: str) -> dict[str, Any] | None:
    d = load_json(stdout)
    return d if isinstance(d, dict) else None


@dataclass
class GeminiProfile(BuiltinProfile):
    def detect_limit(self, out: SessionOutput) -> LimitHit | None:
        extra: list[str] = []
        d = _doc(out.stdout)
        err = d.get("error") if d else None
        if isinstance(err, dict):
            kind = str(err.get("type") or "")
            msg = str(err.get("message") or "")
            extra.append(f"{kind}: {msg}" if kind else msg)
        return self.text_limit(out, extra) or super().detect_limit(out)

    def model_seen(self, stdout: str) -> str | None:
        d = _doc(stdout)
        models = (d.get("stats") or {}).get("models") if d else None
        if not isinstance(models, dict) or not models:
            return None

        def requests(item: tuple[str, Any]) -> float:
            api = item[1].get("api") if isinstance(item[1], dict) else None
            n = api.get("totalRequests") if isinstance(api, dict) else None
            return float(n) if isinstance(n, (int, float)) else 0.0

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
        scope_arm=True,
    )
