"""aider: `aider --message PROMPT --yes --model MODEL`.

aider talks to providers through litellm, so limits show as litellm's RateLimitError or the
provider's quota text on the error channel; they block the arm. The model that ran is in aider's
banner ("Main model: …" / "Model: …").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rota.harnesses.common import BuiltinProfile

NAME = "aider"
LIMIT_PATTERNS = (
    r"(?:[\w.]+\.)?RateLimitError\b",
    r"You exceeded your current quota",
    r"insufficient_quota\b",
    r"Error code: 429\b",
)
_BANNER = re.compile(r"^(?:Main )?[Mm]odel:\s+(\S+)", re.M)


@dataclass
class AiderProfile(BuiltinProfile):
    def model_seen(self, stdout: str) -> str | None:
        m = _BANNER.search(stdout)
        return m.group(1) if m else None


def profile() -> AiderProfile:
    return AiderProfile(
        name=NAME,
        executable="aider",
        argv=["aider", "--message", "{prompt}", "--yes", "--model", "{model}"],
        auth_files=(),
        auth_env=(
            "ANTHROPIC_API_KEY",
            "OPENAI_API_KEY",
            "OPENROUTER_API_KEY",
            "GEMINI_API_KEY",
            "DEEPSEEK_API_KEY",
        ),
        default_models={
            "sonnet": {"tier": "medium", "cost": 1.5},
        },
        quota_source="heuristic (last session on this harness)",
        install_hint="pipx install aider-chat",
        limit_patterns=LIMIT_PATTERNS,
        scope_arm=True,
    )
