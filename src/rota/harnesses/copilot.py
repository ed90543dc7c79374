"""GitHub Copilot CLI: `copilot --prompt=PROMPT --model MODEL --allow-all-tools --no-ask-user -s`
(a long prompt on stdin; `-p VALUE` refuses a VALUE starting with "-", and `--` makes it a
subcommand). Errors are on stderr, exit 1 (tests/fixtures/realcli/copilot/): "Failed to get
response from the AI model; retried 5 times … Last error: 429 …" is a limit; "Authentication
failed with provider", "Model '…' not found on provider" and "Last error: 5xx" are
infrastructure failures.

All models share one monthly premium-request pool, so a limit blocks the whole harness. "You have
no quota" (402) lasts until the pool resets on the 1st of the month, 00:00 UTC. When the premium
allowance runs out Copilot may silently fall back to a cheaper model (reported): model_seen reads
the model from the output where it is shown, so the runner credits the arm that really ran.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rota.harnesses.base import INFRA_AUTH, INFRA_MODEL, INFRA_PROVIDER, LimitHit, SessionOutput
from rota.harnesses.common import BuiltinProfile, json_lines

NAME = "copilot"
# Anchored at the start of an error line (after "✗", "✘", "Error:").
LIMIT_PATTERNS = (
    # "✗ 402 You have no quota (Request ID: …)", "402 {"error":{"message":"You have no quota",
    # "code":"quota_exceeded"}}", "✘ Execution failed: 402 You have no quota"
    r"(?:Execution failed: )?402\b.*(?:quota|no quota)",
    r"You have no quota",
    # "✘ Quota exceeded. Upgrade to increase your limit: https://github.com/features/copilot/plans"
    r"Quota exceeded\. Upgrade to increase your limit",
    # "✘ Model call failed: {"message":"You have no quota","code":"quota_exceeded"}"
    r"Model call failed: .*\bquota_exceeded\b",
    # "✗ Sorry, you've hit a rate limit that restricts the number of Copilot model requests you
    # can make within a specific time period. Please try again in 58 hours."
    r"Sorry, you(?:'|’)ve hit a rate limit",
    # "Sorry, you have been rate-limited. Please wait 2 minutes before trying again"
    r"Sorry, you have been rate-limited",
    # "You've hit your global rate limit. Please upgrade your plan or wait 6 seconds for your
    # limit to reset." / "✗ You've hit your rate limit. Please wait for your limit to reset in 3
    # hours 49 minutes…"
    r"you(?:'|’)ve (?:hit|reached|exceeded) (?:your|the) (?:global |monthly |premium )*(?:request |rate )?(?:limit|quota|allowance)",
    r"quota_exceeded",
    r"Failed to get response from the AI model;.*Last error: 429\b",
)
INFRA_PATTERNS = (
    (INFRA_AUTH, r"Authentication failed with provider\b"),
    (INFRA_MODEL, r"Model .* not found on provider\b"),
    (INFRA_PROVIDER, r"Failed to get response from the AI model;.*Last error: 5\d\d\b"),
)
_NO_QUOTA = re.compile(r"no quota|quota_exceeded|premium", re.I)
_MODEL_TEXT = re.compile(
    r"^\s*(?:Using|Switched to|Switching to|Falling back to|Fell back to)\s+(?:model\s*:?\s*)?"
    r"[\"'`]?([\w.\-/:]+)",
    re.I | re.M,
)


def next_month_start(ts: float) -> float | None:
    """00:00 UTC on the 1st after `ts`; None for a time the calendar cannot hold."""
    from datetime import UTC, datetime

    try:
        d = datetime.fromtimestamp(ts, UTC)
        y, m = (d.year + 1, 1) if d.month == 12 else (d.year, d.month + 1)
        return datetime(y, m, 1, tzinfo=UTC).timestamp()
    except (ValueError, OverflowError, OSError):
        return None


@dataclass
class CopilotProfile(BuiltinProfile):
    def detect_limit(self, out: SessionOutput) -> LimitHit | None:
        hit = super().detect_limit(out)
        if hit is not None and hit.resets_at is None and _NO_QUOTA.search(hit.message):
            # The monthly premium pool: resets on the 1st at 00:00 UTC.
            reset = next_month_start(out.ended_at)
            if reset is None:
                return hit
            return self._hit(hit.message, reset, out.ended_at, window="monthly")
        return hit

    def model_seen(self, stdout: str) -> str | None:
        model = None
        for obj in json_lines(stdout):
            m = obj.get("model")
            if isinstance(m, str) and m:
                model = m
        if model:
            return model
        found = _MODEL_TEXT.findall(stdout)
        return found[-1] if found else None


_ARGV = ("copilot", "--model", "{model}", "--allow-all-tools", "--no-ask-user", "-s")


def profile() -> CopilotProfile:
    return CopilotProfile(
        name=NAME,
        executable="copilot",
        argv=["copilot", "--prompt={prompt}", *_ARGV[1:]],
        stdin_argv=list(_ARGV),
        auth_files=(".copilot/config.json",),
        # COPILOT_PROVIDER_API_KEY: own-key mode (with COPILOT_PROVIDER_BASE_URL), no GitHub login
        auth_env=("COPILOT_GITHUB_TOKEN", "GH_TOKEN", "GITHUB_TOKEN", "COPILOT_PROVIDER_API_KEY"),
        default_models={
            "claude-sonnet-4.6": {"tier": "medium", "cost": 1.0},
            "gpt-5.4": {"tier": "high", "cost": 1.0},
        },
        quota_source="heuristic (last session on this harness)",
        install_hint="npm install -g @github/copilot",
        limit_patterns=LIMIT_PATTERNS,
        infra_patterns=INFRA_PATTERNS,
    )
