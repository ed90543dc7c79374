"""aider: `aider --message PROMPT --yes --model MODEL`.

aider talks to providers through litellm, so limits show as litellm's RateLimitError or the
provider's quota text on the error channel; they block the arm. The model that ran is in aider's
banner ("Main model: …" / "Model: …").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rota.harnesses.base import LimitHit, SessionOutput
from rota.harnesses.common import BuiltinProfile

NAME = "aider"
# Anchored at the start of a line (after "Unexpected error:"). aider prints the model's answer on
# the same stdout, so these name litellm's and httpx's own exceptions, never a bare word.
LIMIT_PATTERNS = (
    # "litellm.RateLimitError: RateLimitError: OpenAIException - Error code: 429 - {… 'You
    # exceeded your current quota' …}", "Unexpected error: litellm.RateLimitError: …
    # VertexAIException - … RESOURCE_EXHAUSTED"
    r"litellm\.(?:exceptions\.)?RateLimitError\b",
    # aider's own line after it: "The API provider has rate limited you. Try again later or
    # check your quotas."
    r"The API provider has rate limited you",
    # An uncaught one: "httpx.HTTPStatusError: Client error '429 Too Many Requests' for url …"
    # (not "Server error '529 '": overloaded)
    r"httpx\.HTTPStatusError: Client error '429\b",
    # The provider's body on a line of its own after litellm's: "Error code: 429 - {'error':
    # {'message': 'You exceeded your current quota, …', 'type': 'insufficient_quota'}}"
    r"You exceeded your current quota",
    r"insufficient_quota\b",
    r"Error code: 429\b",
)
_BANNER = re.compile(r"^(?:Main )?[Mm]odel:\s+(\S+)", re.M)


@dataclass
class AiderProfile(BuiltinProfile):
    def detect_limit(self, out: SessionOutput) -> LimitHit | None:
        # aider prints errors on stdout and exits 0 after them: read stdout whatever the exit.
        lines = [x for x in out.stderr.splitlines() + out.stdout.splitlines() if x.strip()]
        return self.text_limit(out, lines=lines) or super().detect_limit(out)

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
