"""What one `rota run` returns (RunResult: the exit code, the session or why none ran, the decision
and plan behind it) and the one-line human summary of a finished session."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rota.learning.policy import Decision
from rota.session.plan import Plan
from rota.store.base import SessionRecord


@dataclass(slots=True)
class RunResult:
    exit_code: int
    status: str  # a session state, or busy / exhausted / dry_run / interrupted
    message: str = ""
    session: SessionRecord | None = None
    decision: Decision | None = None
    plan: Plan | None = None  # the session that ran, or would run (dry run)
    earliest_reset: float | None = None
    holder: dict[str, Any] | None = None
    recovered: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        from rota.timefmt import iso

        d: dict[str, Any] = {
            "exit_code": self.exit_code,
            "status": self.status,
            "message": self.message,
        }
        if self.session is not None:
            d["session"] = self.session.to_dict()
        if self.decision is not None:
            d["decision"] = self.decision.to_dict()
        if self.plan is not None:
            d["argv"] = list(self.plan.argv)
            d["cwd"] = str(self.plan.site.workspace)
            d["timeout_s"] = self.plan.timeout_s
            d["env_keys"] = self.plan.env_keys  # names only: values may be secrets
            d["prompt_source"] = self.plan.prompt.source
        if self.status == "exhausted" or self.earliest_reset is not None:
            d["earliest_reset"] = self.earliest_reset
            d["earliest_reset_iso"] = iso(self.earliest_reset)
        if self.holder is not None:
            d["holder"] = self.holder
        if self.recovered:
            d["recovered"] = self.recovered
        return d


def summary(rec: SessionRecord) -> str:
    """One human line: 'session 12: claude-code:opus (code) completed in 7m12s, grade 0.82'."""
    from rota.timefmt import human_duration

    ran = f" (ran {rec.arm_ran})" if rec.arm_ran and rec.arm_ran != rec.arm else ""
    dur = ""
    if rec.ended_at is not None:
        dur = f" in {human_duration(max(0.0, rec.ended_at - rec.started_at))}"
    grade = "not graded" if rec.reward is None else f"grade {rec.reward:.2f}"
    parts = [f"session {rec.id}: {rec.arm}{ran} ({rec.category}) {rec.status}{dur}, {grade}"]
    sig = {k: v for k, v in rec.signals.items() if isinstance(v, (int, float))}
    if sig:
        parts.append("(" + ", ".join(f"{k} {v:.2f}" for k, v in sig.items()) + ")")
    errors = rec.signals.get("errors") if isinstance(rec.signals, dict) else None
    if errors:
        parts.append("; errors: " + "; ".join(f"{k}: {v}" for k, v in errors.items()))
    limit = rec.detail.get("limit") if isinstance(rec.detail, dict) else None
    if limit:
        parts.append(
            f"; limit: {limit.get('message')} (blocked {', '.join(limit.get('scopes', []))})"
        )
    if rec.detail.get("error"):
        parts.append(f"; {rec.detail['error']}")
    if rec.log_path:
        parts.append(f"; log {rec.log_path}")
    return " ".join(parts)


__all__ = ["RunResult", "summary"]
