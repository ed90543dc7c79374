"""Codex CLI: `codex exec -m MODEL --sandbox workspace-write --add-dir GIT_DIR --add-dir
GIT_COMMON_DIR --json … -- PROMPT` (a long prompt on stdin with `-`; the git dirs: where the
workspace's commits go, rota.session.plan.git_dirs).

Limits and failures: the `error` / `turn.failed` events on stdout; a reset is in their wording
("try again at 11:23 PM", "… at Dec 4th, 2026 10:42 PM"). The model that ran: a reroute, else the
session's rollout file (rota.harnesses.codex_session). Quota: the rate-limit snapshots codex
writes into its rollout files (rota.harnesses.codex_rollouts).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from rota.harnesses.base import InfraFailure, LimitHit, ProbeContext, SessionOutput
from rota.harnesses.codex_session import INFRA_PATTERNS
from rota.harnesses.common import BuiltinProfile, json_lines
from rota.quota.state import QuotaState

NAME = "codex"
# Anchored at the start of an error message or line (after "ERROR:", "■", "🖐", "⚠").
LIMIT_PATTERNS = (
    # "You've hit your usage limit. Upgrade to Pro (…) or try again in 5 days 22 hours 11
    # minutes." (cli), "…or try again at Jul 5th, 2026 8:19 PM." (app)
    r"You(?:'|’)ve hit your usage limit",
    # "You have reached your usage limit. Upgrade your plan or add credits to continue, or try
    # again after July 3, 2026 at 2:45 PM." / "You have reached the usage limit." (app, 2026)
    r"You have (?:reached|hit) (?:your|the) usage limit",
    # "You’re out of Codex messages\nYour rate limit resets on Jul 3, 2026, 11:43 AM." (app)
    r"You(?:'|’)re out of Codex messages",
    r"usage_limit_reached",
    # A plain 429 retried until codex gives up: "exceeded retry limit, last status: 429 Too Many
    # Requests, request id: …"
    r"(?:stream error: )?exceeded retry limit, last status: 429",
    r"429 Too Many Requests",
    # An API key out of credit: "Quota exceeded. Check your plan and billing details."
    r"Quota exceeded\. Check your plan and billing details",
    # "⚠ Insufficient quota: You exceeded your current quota, please check your plan and billing
    # details." (0.1x), "⚠️ Insufficient quota. Please check your billing details and retry."
    r"Insufficient quota\b",
)
# The backend's 429 body, wherever a client printed it, even wrapped or escaped:
# {"type":"error","error":{"type":"usage_limit_reached","message":"The usage limit has been
# reached","plan_type":"plus","resets_at":1777936568,...}}
LIMIT_ANYWHERE = (r"\\?\"type\\?\"\s*:\s*\\?\"usage_limit_reached\\?\"",)


def _error_texts(stdout: str) -> tuple[list[str], float | None]:
    """Error messages from codex's JSON events, and a structured reset if one came with them."""
    texts: list[str] = []
    resets_at: float | None = None
    for obj in json_lines(stdout):
        t = obj.get("type")
        msg = obj.get("msg") if isinstance(obj.get("msg"), dict) else None
        err = obj.get("error") if isinstance(obj.get("error"), dict) else None
        if t == "error" and isinstance(obj.get("message"), str):
            texts.append(obj["message"])
        elif t == "turn.failed" and err and isinstance(err.get("message"), str):
            texts.append(err["message"])
        elif (
            msg
            and msg.get("type") in ("error", "stream_error")
            and isinstance(msg.get("message"), str)
        ):
            texts.append(msg["message"])
        elif err and err.get("type") == "usage_limit_reached":  # the HTTP 429 body, printed
            texts.append(str(err.get("message") or "usage_limit_reached"))
            r = err.get("resets_at")
            if isinstance(r, (int, float)) and not isinstance(r, bool):
                resets_at = float(r)
    return texts, resets_at


@dataclass
class CodexProfile(BuiltinProfile):
    def detect_limit(self, out: SessionOutput) -> LimitHit | None:
        texts, structured = _error_texts(out.stdout)
        err_texts, err_reset = _error_texts(out.stderr)  # a 429 body may be printed on stderr
        texts += err_texts
        if out.stderr.strip():
            texts.append(out.stderr)  # codex's own diagnostics: a body may span lines there
        structured = structured if structured is not None else err_reset
        hit = self.text_limit(out, texts)
        if hit is None:
            return super().detect_limit(out)
        if structured is not None:
            return self._hit(hit.message, structured, out.ended_at, window=hit.window)
        return hit

    def detect_infra(self, out: SessionOutput) -> InfraFailure | None:
        failed = any(o.get("type") == "turn.failed" for o in json_lines(out.stdout))
        if not failed and out.exit_code in (0, None):
            return None
        texts, _ = _error_texts(out.stdout)
        return self.text_infra(out, texts)

    def model_ran(self, out: SessionOutput) -> str | None:
        """The model that answered: a "model rerouted: A -> B" switch, else the session's rollout
        file (rota.harnesses.codex_session)."""
        from rota.harnesses.codex_session import model_ran

        return model_ran(out.stdout, out.env) or self.model_seen(out.stdout)

    def model_seen(self, stdout: str) -> str | None:
        model: str | None = None
        for obj in json_lines(stdout):
            payload = obj.get("payload") if isinstance(obj.get("payload"), dict) else None
            msg = obj.get("msg") if isinstance(obj.get("msg"), dict) else None
            if (
                obj.get("type") == "turn_context"
                and payload
                and isinstance(payload.get("model"), str)
            ):
                model = payload["model"]
            elif (
                msg
                and msg.get("type") == "session_configured"
                and isinstance(msg.get("model"), str)
            ):
                model = msg["model"]
            elif obj.get("type") == "session.configured" and isinstance(obj.get("model"), str):
                model = obj["model"]
        return model

    def result_signals(self, stdout: str) -> dict[str, float]:
        verdict: float | None = None
        for obj in json_lines(stdout):
            if obj.get("type") == "turn.completed":
                verdict = 1.0
            elif obj.get("type") == "turn.failed":
                verdict = 0.0
        return {} if verdict is None else {"harness": verdict}

    def auth_paths(self, home: Path, env: Mapping[str, str]) -> list[Path]:
        from rota.harnesses.codex_rollouts import codex_home

        ctx = ProbeContext(home=home, env=dict(env), now=0.0)
        return [codex_home(ctx) / "auth.json"]

    def probe(self, ctx: ProbeContext) -> list[QuotaState]:
        from rota.harnesses.codex_rollouts import probe

        return probe(ctx, self.name)


# workspace-write mounts <workspace>/.git read-only, so an agent's commits fail
# (openai/codex#7071): --add-dir makes the git directories writable too. Not {workspace}/.git: in
# a linked worktree `.git` is a file (an --add-dir that is a file makes codex's sandbox fail every
# command), and the commits go to the worktree's own git dir and the main repository's .git.
_ARGV = (
    "codex",
    "exec",
    "-m",
    "{model}",
    "--sandbox",
    "workspace-write",
    "--add-dir",
    "{git_dir}",
    "--add-dir",
    "{git_common_dir}",
    "--json",
    "--skip-git-repo-check",
)


def profile() -> CodexProfile:
    return CodexProfile(
        name=NAME,
        executable="codex",
        argv=[*_ARGV, "--", "{prompt}"],
        stdin_argv=[*_ARGV, "-"],  # `-`: the prompt is read from stdin
        auth_files=(".codex/auth.json",),
        auth_env=("OPENAI_API_KEY", "CODEX_API_KEY"),
        default_models={
            "gpt-5.4": {"tier": "high", "cost": 2.0},
            "gpt-5.4-mini": {"tier": "low", "cost": 0.5},
        },
        quota_source="logs (rate_limits in ~/.codex/sessions rollout files)",
        install_hint="npm install -g @openai/codex",
        limit_patterns=LIMIT_PATTERNS,
        limit_anywhere=LIMIT_ANYWHERE,
        infra_patterns=INFRA_PATTERNS,
        reset_horizon_days=32.0,  # a free plan's window is a month: 'try again at Jul 5th'
    )
