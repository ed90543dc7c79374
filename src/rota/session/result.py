"""What one `rota run` returns (RunResult: the exit code, the session or why none ran, the decision
and plan behind it) and the one-line human summary of a finished session."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rota.learning.policy import Decision
from rota.quota.state import Block
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


def summary(rec: SessionRecord, blocks: Sequence[Block] = (), now: float | None = None) -> str:
    """One human line: 'session 12: claude-code:opus (code) completed in 7m12s, grade 0.82'."""
    from rota.timefmt import human_duration

    ran = f" (ran {rec.arm_ran})" if rec.arm_ran and rec.arm_ran != rec.arm else ""
    dur = ""
    if rec.ended_at is not None:
        dur = f" in {human_duration(max(0.0, rec.ended_at - rec.started_at))}"
    grade = "not graded" if rec.reward is None else f"grade {rec.reward:.2f}"
    parts = [f"session {rec.id}: {rec.arm}{ran} ({rec.category}) {rec.status}{dur}, {grade}"]
    from rota.reward.show import gain_values

    sig = gain_values(rec.signals)
    if sig:
        parts.append("(" + ", ".join(f"{k} {v:.2f}" for k, v in sig.items()) + ")")
    errors = rec.signals.get("errors") if isinstance(rec.signals, dict) else None
    if errors:
        parts.append("; errors: " + "; ".join(f"{k}: {v}" for k, v in errors.items()))
    limit = rec.detail.get("limit") if isinstance(rec.detail, dict) else None
    if limit:
        parts.append("; " + limit_line(limit, blocks, now))
    if rec.detail.get("error"):
        parts.append(f"; {rec.detail['error']}")
    if rec.log_path:
        parts.append(f"; log {rec.log_path}")
    # "(signals)" follows after a space; each "; part" directly.
    return "".join(p if p.startswith(";") or i == 0 else " " + p for i, p in enumerate(parts))


def limit_line(limit: Mapping[str, Any], blocks: Sequence[Block], now: float | None) -> str:
    """'rate limited: harness claude-code blocked until 2026-12-01 23:21 UTC (in 1h 56m)': what
    the limit means for rota, in the one format for people (the vendor's words stay in the log
    and in --json)."""
    from rota.timefmt import when

    scopes = ", ".join(str(s).replace(":", " ", 1) for s in limit.get("scopes") or []) or "it"
    ends = [b.until for b in blocks]
    until = max(ends) if ends else limit.get("resets_at")
    if not isinstance(until, int | float):
        return f"rate limited: {scopes} blocked (no reset time given)"
    backoff = "" if limit.get("resets_at") else " (no reset time given: a backoff)"
    return f"rate limited: {scopes} blocked until {when(float(until), now)}{backoff}"


__all__ = ["RunResult", "limit_line", "summary"]
