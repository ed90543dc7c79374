"""Claude Code: `claude -p … --output-format stream-json -- PROMPT` (a long prompt on stdin).

Everything is on stdout; a failed session exits 1 whatever the cause (tests/fixtures/realcli/).
Limits: the stream's `rate_limit_event` with status "rejected" (a subscription: reset in ms and
which pool), else the `result` line when is_error (an API key: `api_error_status: 429`, no reset),
else the error channel. A rejection the CLI calls "not your usage limit" is a short server-side
throttle, not a quota. Infrastructure failures: `api_error_status` 401/403 (credentials), 404 (the
model), 5xx/529 (the provider, after the CLI's own retries), and its refusal to run
bypassPermissions as root without IS_SANDBOX=1. Quota: the OAuth usage endpoint, with the local
project logs as the fallback (rota.harnesses.claude_usage).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rota.harnesses.base import (
    INFRA_AUTH,
    INFRA_CLI,
    INFRA_MODEL,
    INFRA_PROVIDER,
    INFRA_THROTTLED,
    InfraFailure,
    LimitHit,
    ProbeContext,
    SessionOutput,
)
from rota.harnesses.claude_limits import LIMIT_PATTERNS, RATE_LIMITED_MARK, text_scope, window_scope
from rota.harnesses.common import (
    BuiltinProfile,
    infra_from_status,
    json_lines,
    opt_float,
    strip_prefix,
)
from rota.quota.state import QuotaState

NAME = "claude-code"
DEFAULT_BACKOFF_MINUTES = 15.0
NOT_YOUR_LIMIT = re.compile(r"not your usage limit", re.I)
ROOT_REFUSAL = re.compile(r"cannot be used with root/sudo privileges", re.I)
# The `error` of the CLI's own (model `<synthetic>`) assistant line -> an infrastructure kind.
ERROR_KINDS = {
    "authentication_failed": INFRA_AUTH,
    "billing_error": INFRA_AUTH,
    "model_not_found": INFRA_MODEL,
    "server_error": INFRA_PROVIDER,
    "overloaded": INFRA_PROVIDER,
}
BYPASS = ("bypassPermissions", "--dangerously-skip-permissions")


@dataclass
class Stream:
    """What one stream-json run says about how it ended."""

    rejected: dict[str, Any] | None = None  # the last rate_limit_event with status rejected
    result: dict[str, Any] | None = None  # the result line
    error: str = ""  # the `error` of the CLI's own assistant line ("rate_limit", …)

    @property
    def failed_text(self) -> str:
        r = self.result.get("result") if self.result and self.result.get("is_error") else None
        return strip_prefix(r) if isinstance(r, str) else ""

    @property
    def status(self) -> object:
        return self.result.get("api_error_status") if self.result else None

    @property
    def throttled(self) -> bool:
        """A rejection that names no window and that the CLI calls "not your usage limit"."""
        r = self.rejected or {}
        return bool(NOT_YOUR_LIMIT.search(self.failed_text)) and not (
            r.get("resetsAt") or r.get("rateLimitType")
        )


def read_stream(stdout: str) -> Stream:
    st = Stream()
    for obj in json_lines(stdout):
        t = obj.get("type")
        if t == "rate_limit_event":
            info = obj.get("rate_limit_info")
            if isinstance(info, dict) and str(info.get("status", "")).lower() == "rejected":
                st.rejected = info
        elif t == "result":
            st.result = obj
        elif t == "assistant" and isinstance(obj.get("error"), str):
            st.error = obj["error"]
    return st


@dataclass
class ClaudeCodeProfile(BuiltinProfile):
    def detect_limit(self, out: SessionOutput) -> LimitHit | None:
        from rota.resettime import epoch_seconds

        st = read_stream(out.stdout)
        rejected, result = st.rejected, st.result
        failed = bool(result.get("is_error")) if result is not None else out.exit_code != 0
        result_text = ""
        if result is not None and result.get("is_error"):
            r = result.get("result")
            result_text = r if isinstance(r, str) else ""
        if st.throttled:  # a short server-side throttle, not a quota: detect_infra's
            return None

        if rejected is not None and failed:
            window, family = window_scope(str(rejected.get("rateLimitType", "")))
            resets_at: float | None = None
            raw = rejected.get("resetsAt")
            if isinstance(raw, (int, float)) and not isinstance(raw, bool) and raw > 0:
                resets_at = epoch_seconds(raw)
            elif result_text:
                resets_at = self.parse_reset(result_text, out.ended_at)
            msg = strip_prefix(result_text) or f"rate limit rejected ({window or 'unknown window'})"
            return self._scoped(msg, resets_at, out.ended_at, window, family)

        hit = self.text_limit(out, [result_text] if result_text else [])
        if hit is None and failed and (st.status == 429 or st.error == "rate_limit"):
            # An API key's 429 ("Request rejected (429) · …"): no reset is given, so back off.
            msg = strip_prefix(result_text) or "API error 429 (rate_limit)"
            return self._scoped(msg, None, out.ended_at, "", "")
        if hit is None:
            return None
        window, family = text_scope(hit.message)
        return self._scoped(hit.message, hit.resets_at, out.ended_at, window, family)

    def _scoped(
        self, msg: str, resets_at: float | None, ref: float, window: str, family: str
    ) -> LimitHit:
        """A per-model pool (the weekly Opus limit) blocks that model's arms; any other limit the
        harness."""
        if family:
            return self._hit(
                msg, resets_at, ref, scope_kind="arm", scope="", window=window, model_match=family
            )
        return self._hit(msg, resets_at, ref, scope_kind="harness", scope=self.name, window=window)

    def detect_infra(self, out: SessionOutput) -> InfraFailure | None:
        refused = next((x for x in out.stderr.splitlines() if ROOT_REFUSAL.search(x)), None)
        if refused:
            return InfraFailure(INFRA_CLI, f"{refused.strip()} (set IS_SANDBOX=1: rota doctor)")
        st = read_stream(out.stdout)
        failed = bool(st.result.get("is_error")) if st.result else out.exit_code not in (0, None)
        if not failed:
            return None
        text = st.failed_text or st.error
        if st.throttled:
            return InfraFailure(INFRA_THROTTLED, text)
        found = infra_from_status(st.status, text)
        if found is None and st.error in ERROR_KINDS:
            found = InfraFailure(ERROR_KINDS[st.error], text)
        return found or self.text_infra(out)

    def refusal(self, env: Mapping[str, str]) -> str | None:
        """As root, claude refuses bypassPermissions unless IS_SANDBOX=1 says the machine is a
        sandbox. rota does not say that for the user."""
        import os

        if not hasattr(os, "geteuid") or os.geteuid() != 0 or env.get("IS_SANDBOX") == "1":
            return None
        if not any(b in a for a in self.argv for b in BYPASS):
            return None
        return (
            "claude-code refuses to skip its permission prompts as root (bypassPermissions); "
            "if this machine is a sandbox (a container or VM with nothing else to protect), set "
            f'env = {{ IS_SANDBOX = "1" }} under [harnesses.{self.name}], else run rota as an '
            "unprivileged user"
        )

    def model_seen(self, stdout: str) -> str | None:
        init_model: str | None = None
        last: str | None = None
        for obj in json_lines(stdout):
            t = obj.get("type")
            if t == "system" and obj.get("subtype") == "init":
                m = obj.get("model")
                if isinstance(m, str) and m:
                    init_model = m
            elif t == "assistant" and not obj.get("parent_tool_use_id"):
                msg = obj.get("message")
                m = msg.get("model") if isinstance(msg, dict) else None
                # The model that answered the main thread; subagents and synthetic lines don't count.
                if isinstance(m, str) and m and m != "<synthetic>":
                    last = m
        return last or init_model

    def result_signals(self, stdout: str) -> dict[str, float]:
        result = None
        for obj in json_lines(stdout):
            if obj.get("type") == "result":
                result = obj
        if result is None or "is_error" not in result:
            return {}
        return {"harness": 0.0 if result.get("is_error") else 1.0}

    def auth_paths(self, home: Path, env: Mapping[str, str]) -> list[Path]:
        from rota.harnesses.base import ProbeContext
        from rota.harnesses.claude_logs import config_dirs

        ctx = ProbeContext(home=home, env=dict(env), now=0.0)
        return [d / ".credentials.json" for d in config_dirs(ctx)]

    def cache_seconds(self, states: list[QuotaState], options: Any) -> float:
        """A 429 from the usage endpoint means "ask less often": keep the answer longer.

        Kept here, not in claude_usage, so a cache hit never imports the probe module."""
        for s in states:
            if s.source == "api" and RATE_LIMITED_MARK in s.reason:
                backoff = 60.0 * opt_float(options, "backoff_minutes", DEFAULT_BACKOFF_MINUTES)
                m = re.search(r"retry after (\d+)s", s.reason)
                if m:  # the server's own Retry-After, within reason
                    backoff = max(backoff, min(float(m.group(1)), 2 * 3600.0))
                return backoff
        return super().cache_seconds(states, options)

    def probe(self, ctx: ProbeContext) -> list[QuotaState]:
        from rota.harnesses.claude_usage import probe

        return probe(ctx, self.name)


_ARGV = (
    "claude",
    "-p",
    "--model",
    "{model}",
    "--output-format",
    "stream-json",
    "--verbose",
    "--permission-mode",
    "bypassPermissions",
)


def profile() -> ClaudeCodeProfile:
    return ClaudeCodeProfile(
        name=NAME,
        executable="claude",
        argv=[*_ARGV, "--", "{prompt}"],
        stdin_argv=list(_ARGV),
        rate_limit_exit_codes=(),
        auth_files=(".claude/.credentials.json",),
        auth_env=("CLAUDE_CODE_OAUTH_TOKEN", "ANTHROPIC_API_KEY"),
        default_models={
            "opus": {"tier": "high", "cost": 5.0},
            "sonnet": {"tier": "medium", "cost": 1.5},
            "haiku": {"tier": "low", "cost": 0.5},
        },
        quota_source="api (OAuth usage endpoint), logs (~/.claude/projects)",
        install_hint="npm install -g @anthropic-ai/claude-code",
        limit_patterns=LIMIT_PATTERNS,
        reset_horizon_days=8.0,  # the weekly pools are the longest: 7 days, and a day's slack
        default_timeout_minutes=60.0,
    )


__all__ = ["ClaudeCodeProfile", "profile"]
