"""gptme: `gptme -n -m PROVIDER/MODEL -w WORKSPACE -- PROMPT` (a long prompt on stdin).

Non-interactive exit codes: 75 rate limited, 76 authentication error, 77 model unavailable (also
on a 503), 1 other; the wording is in its `· ERROR` lines on stderr (its own "retrying in 1.0s" is
its retry pacing, not a reset). gptme fronts several providers, so a limit blocks the arm (and the
pools naming it, such as a ChatGPT subscription shared with codex), not every gptme model. The
model that answered is in its conversation log (`metadata.served_model`). No quota source: the
probe reports "the last session on this harness succeeded".
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from rota.harnesses.base import (
    INFRA_AUTH,
    INFRA_MODEL,
    INFRA_PROVIDER,
    InfraFailure,
    SessionOutput,
)
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


# Its `· ERROR    Error code: NNN - {…}` lines (rich wraps them at 80 columns: the first line
# holds the status); the 5xx are checked before the exit codes, for gptme exits 77 ("model
# unavailable") on a 503 too.
_ERROR = r"(?:·\s*)?(?:ERROR\s+)?"  # its log prefix, "· ERROR    "
INFRA_PATTERNS = (
    (INFRA_PROVIDER, _ERROR + r"Error code: 5\d\d\b"),
    (INFRA_AUTH, _ERROR + r"Error code: 40[13]\b"),
    (INFRA_MODEL, _ERROR + r"Error code: 404\b"),
)
_LOGDIR = re.compile(r"Using logdir:\s*(\S+)")
_RESUME = re.compile(r"resume with: gptme --name (\S+?)\)")
MAX_LOG_BYTES = 8 * 1024 * 1024


def conversation_log(stdout: str, env: dict[str, str]) -> Path | None:
    """The conversation.jsonl of the session whose output this is (its logdir is printed)."""
    home = Path(env.get("HOME") or os.path.expanduser("~"))
    m = _LOGDIR.search(stdout)
    if m:
        raw = m.group(1)
        d = home / raw[2:] if raw.startswith("~/") else Path(raw)
    else:
        r = _RESUME.search(stdout)
        if not r:
            return None
        data = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share")
        d = data / "gptme" / "logs" / r.group(1)
    f = d / "conversation.jsonl"
    return f if f.is_file() else None


def served_model(path: Path) -> str | None:
    """The model that served the last answer: gptme logs it as metadata.served_model."""
    model = None
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_LOG_BYTES).decode("utf-8", "replace")
    except OSError:
        return None
    for line in data.splitlines():
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError):
            continue
        meta = obj.get("metadata") if isinstance(obj, dict) else None
        if obj.get("role") == "assistant" and isinstance(meta, dict):
            m = meta.get("served_model") or meta.get("model")
            if isinstance(m, str) and m:
                model = m
    return model


@dataclass
class GptmeProfile(BuiltinProfile):
    def detect_infra(self, out: SessionOutput) -> InfraFailure | None:
        found = self.text_infra(out)
        if found is not None:
            return found
        if out.exit_code == EXIT_AUTH:
            return InfraFailure(INFRA_AUTH, "gptme exit 76: authentication failed")
        if out.exit_code == EXIT_MODEL_UNAVAILABLE:
            return InfraFailure(INFRA_MODEL, "gptme exit 77: model unavailable")
        return None

    def model_ran(self, out: SessionOutput) -> str | None:
        path = conversation_log(out.stdout, dict(out.env))
        return served_model(path) if path else None


_ARGV = ("gptme", "-n", "-m", "{model}", "-w", "{workspace}")


def profile() -> GptmeProfile:
    return GptmeProfile(
        name=NAME,
        executable="gptme",
        argv=[*_ARGV, "--", "{prompt}"],
        stdin_argv=list(_ARGV),
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
        infra_patterns=INFRA_PATTERNS,
        scope_arm=True,
    )
