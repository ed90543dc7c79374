"""The interface every harness profile implements, and the generic profile for custom commands."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from rota.quota.state import QuotaState


@dataclass(frozen=True, slots=True)
class LimitHit:
    """A session stopped on a rate limit or quota.

    scope_kind/scope say what the limit covers ("harness" and the harness name by default; "arm"
    for a per-model pool such as Claude's weekly opus pool). resets_at is epoch seconds, or None
    when the message gave no reset time (the caller then backs off).
    """

    message: str
    resets_at: float | None = None
    scope_kind: str = "harness"
    scope: str = ""
    window: str = ""
    # For a per-model pool (Claude's seven_day_opus): the arms of this harness whose model name
    # contains this text share the limit. See rota.harnesses.registry.limit_scopes.
    model_match: str = ""


# Kinds of infrastructure failure (InfraFailure.kind): what failed, and so what it blocks.
INFRA_AUTH = "auth"  # the provider rejected the credentials
INFRA_CLI = "cli"  # the CLI is missing or refuses to start here
INFRA_MODEL = "model"  # the provider does not know (or serve) the model
INFRA_PROVIDER = "provider"  # 5xx / overloaded after the CLI's own retries
INFRA_THROTTLED = "throttled"  # a 429 the CLI itself calls "not your usage limit"
INFRA_KINDS = (INFRA_AUTH, INFRA_CLI, INFRA_MODEL, INFRA_PROVIDER, INFRA_THROTTLED)


@dataclass(frozen=True, slots=True)
class InfraFailure:
    """A session that failed for a reason that says nothing about the arm's skill: the provider
    rejected the key, was down, did not know the model, or the CLI could not start. Recorded, never
    graded; it blocks the harness or the arm instead (rota.session.infra)."""

    kind: str  # one of INFRA_KINDS
    message: str


@dataclass(frozen=True, slots=True)
class SessionOutput:
    """What a finished harness process left behind, for classification and grading."""

    exit_code: int | None  # None when killed by a signal
    stdout: str  # the tail of stdout (bounded)
    stderr: str  # the tail of stderr (bounded)
    ended_at: float  # epoch seconds, the reference for "resets 11pm"
    started_at: float = 0.0  # epoch seconds; 0 when unknown
    timed_out: bool = False  # rota stopped it at its timeout
    env: Mapping[str, str] = field(default_factory=dict)  # the environment the harness ran with


@dataclass(slots=True)
class ProbeContext:
    """What a quota probe may use. `home` and `env` are injectable so tests can point at fixtures."""

    home: Path
    env: dict[str, str]
    now: float
    timeout: float = 5.0
    cache_dir: Path | None = None
    harness: str = ""  # the configured harness name (scope of harness-wide states)
    options: dict[str, object] = field(default_factory=dict)  # [harnesses.NAME] quota table
    models: tuple[str, ...] = ()  # configured model names, for per-model pools
    last_outcome: str | None = None  # status of the newest session on this harness, if any
    last_outcome_at: float | None = None


@dataclass
class HarnessProfile:
    """A harness: its headless argv, how it reports limits and the model that ran, its quota probe.

    argv is a template; each element may contain {model}, {prompt}, {prompt_file}, {workspace},
    {category}, {git_dir}. It is never joined into a shell string.
    """

    name: str
    executable: str
    argv: list[str]
    rate_limit_exit_codes: tuple[int, ...] = ()
    auth_files: tuple[str, ...] = ()  # paths relative to $HOME, for `rota doctor`
    default_models: dict[str, dict[str, object]] = field(default_factory=dict)
    default_timeout_minutes: float = 60.0
    auth_env: tuple[str, ...] = ()  # env vars that authenticate instead of auth_files
    quota_source: str = "none"  # what probe() reads, for `rota doctor` and docs
    # The template for a prompt too long for one argument: the prompt then goes on stdin. None:
    # the CLI reads no prompt from stdin (use {prompt_file} in `command`).
    stdin_argv: list[str] | None = None

    def detect_limit(self, out: SessionOutput) -> LimitHit | None:
        """A LimitHit when the session stopped on a limit, else None.

        Match on the error channel and the final result only, never on what the agent wrote.
        """
        if out.exit_code is not None and out.exit_code in self.rate_limit_exit_codes:
            return LimitHit(message=f"exit code {out.exit_code}", scope=self.name)
        return None

    def detect_infra(self, out: SessionOutput) -> InfraFailure | None:
        """An InfraFailure when the session failed for a reason outside the arm's skill (checked
        after detect_limit: a limit is never an infrastructure failure)."""
        return None

    def model_seen(self, stdout: str) -> str | None:
        """The model that actually ran, where the output says so."""
        return None

    def model_ran(self, out: SessionOutput) -> str | None:
        """The model that actually ran: by default what model_seen reads on stdout; a profile
        may also read what the CLI wrote for the session (codex's rollout file)."""
        return self.model_seen(out.stdout)

    def refusal(self, env: Mapping[str, str]) -> str | None:
        """Why the CLI would refuse to start with this environment (claude-code as root), with the
        fix; None when nothing is known against it. Checked before a session and by `rota doctor`."""
        return None

    def result_signals(self, stdout: str) -> dict[str, float]:
        """The harness's own verdict as grading signals in [0, 1] (e.g. claude's is_error)."""
        return {}

    def probe(self, ctx: ProbeContext) -> list[QuotaState]:
        """Quota states for this harness (and per-model pools). Unknown is fine; never raise."""
        return []
