"""gptme: `gptme -n -m PROVIDER/MODEL -w WORKSPACE PROMPT`.

Non-interactive exit codes: 75 rate limited, 76 authentication error, 77 model unavailable. gptme
fronts several providers, so a limit blocks the arm (and the pools naming it, such as a ChatGPT
subscription shared with codex), not every gptme model. No quota source: the probe reports "the
last session on this harness succeeded".
"""

from __future__ import annotations

from dataclasses import dataclass

from rota.harnesses.base import SessionOutput
from rota.harnesses.common import BuiltinProfile

NAME = "gptme"
EXIT_RATE_LIMITED = 75
EXIT_AUTH = 76
EXIT_MODEL_UNAVAILABLE = 77
LIMIT_PATTERNS = (
    # The provider SDK's exception as gptme prints it: "openai.RateLimitError: Error code: 429 - …",
    # "anthropic.RateLimitError: …" (gptme exits 75 for it too: rate_limit_exit_codes).
    r"(?:[\w.]+\.)?RateLimitError\b",
    # "Fatal error occurred Error code: 429 - {'error': {'message': 'You exceeded your current
    # quota, …', 'type': 'insufficient_quota'}}" (gptme, an OpenAI key out of credit)
    r"Error code: 429\b",
    r"You exceeded your current quota",
)


@dataclass
class GptmeProfile(BuiltinProfile):
    def health_problem(self, out: SessionOutput) -> str | None:
        if out.exit_code == EXIT_AUTH:
            return "gptme exit 76: authentication failed (check the provider's API key)"
        if out.exit_code == EXIT_MODEL_UNAVAILABLE:
            return "gptme exit 77: model unavailable"
        return None


def profile() -> GptmeProfile:
    return GptmeProfile(
        name=NAME,
        executable="gptme",
        argv=["gptme", "-n", "-m", "{model}", "-w", "{workspace}", "{prompt}"],
        rate_limit_exit_codes=(EXIT_RATE_LIMITED,),
        auth_files=(".config/gptme/config.toml",),
        auth_env=("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY", "GEMINI_API_KEY"),
        default_models={
            "openai/gpt-5.4": {"tier": "high", "cost": 2.0},
            "anthropic/claude-sonnet-4-6": {"tier": "medium", "cost": 1.5},
        },
        quota_source="heuristic (last session on this harness)",
        install_hint="pipx install gptme",
        limit_patterns=LIMIT_PATTERNS,
        scope_arm=True,
    )
