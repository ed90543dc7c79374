"""aider: `aider --message-file PROMPT_FILE --yes-always --model MODEL`.

aider talks to providers through litellm and prints everything on stdout, errors included, and
exits 0 whatever happened (tests/fixtures/realcli/aider/). So its error channel is stdout too:
what it printed after its last answer ("Tokens: … sent" closes each answer; errors it retried
past are not read). RateLimitError is a limit (no reset is given: back off); AuthenticationError,
NotFoundError and the server errors are infrastructure failures. Limits block the arm (aider
fronts many providers). The model is in aider's banner ("Main model: …"): the one asked for.
`--yes` is only an abbreviation of `--yes-always`; the prompt goes by file, so no prompt is ever
read as an option and none is too long.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rota.harnesses.base import (
    INFRA_AUTH,
    INFRA_MODEL,
    INFRA_PROVIDER,
    InfraFailure,
    LimitHit,
    SessionOutput,
)
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
INFRA_PATTERNS = (
    (INFRA_AUTH, r"litellm\.(?:exceptions\.)?(?:AuthenticationError|PermissionDeniedError)\b"),
    (INFRA_MODEL, r"litellm\.(?:exceptions\.)?NotFoundError\b"),
    (
        INFRA_PROVIDER,
        r"litellm\.(?:exceptions\.)?(?:InternalServerError|ServiceUnavailableError"
        r"|APIConnectionError|Timeout|BadGatewayError)\b",
    ),
)
_BANNER = re.compile(r"^(?:Main )?[Mm]odel:\s+(\S+)", re.M)
_ANSWER_END = re.compile(r"^Tokens: .* sent\b", re.M)


def error_lines(out: SessionOutput) -> list[str]:
    """aider's error channel: stderr, and what stdout says after its last answer."""
    ends = list(_ANSWER_END.finditer(out.stdout))
    tail = out.stdout[ends[-1].end() :] if ends else out.stdout
    return [x for x in out.stderr.splitlines() + tail.splitlines() if x.strip()]


@dataclass
class AiderProfile(BuiltinProfile):
    def detect_limit(self, out: SessionOutput) -> LimitHit | None:
        # aider prints errors on stdout and exits 0 after them: read stdout whatever the exit.
        return self.text_limit(out, lines=error_lines(out)) or super().detect_limit(out)

    def detect_infra(self, out: SessionOutput) -> InfraFailure | None:
        from rota.harnesses.common import strip_prefix

        lines = [strip_prefix(x) for x in error_lines(out)]
        return self.text_infra(out, [x for x in lines if x.startswith("litellm.")])

    def model_seen(self, stdout: str) -> str | None:
        m = _BANNER.search(stdout)
        return m.group(1) if m else None


def profile() -> AiderProfile:
    return AiderProfile(
        name=NAME,
        executable="aider",
        argv=["aider", "--message-file", "{prompt_file}", "--yes-always", "--model", "{model}"],
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
        infra_patterns=INFRA_PATTERNS,
        scope_arm=True,
    )
