"""Shared parts of the built-in profiles: JSON-line reading, the error channel, limit patterns.

Limit patterns are matched only on what the CLI itself says: stderr, its final result, and (when
the process failed) the last lines of plain-text stdout. They are anchored at the start of a line,
so an agent's answer that merely mentions "usage limit reached" is not a limit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rota.harnesses.base import HarnessProfile, LimitHit, ProbeContext, SessionOutput
from rota.quota.state import QuotaState

DEFAULT_CACHE_MINUTES = 5.0
# Prefixes a CLI puts before its own error text ("ERROR: …", "Error: …", "API Error: …").
_PREFIX = re.compile(r"^\s*(?:\[[^\]]*\]\s*)?(?:(?:api\s+)?error|fatal|warning)\s*:?\s*", re.I)
# Session states (rota.store.base) that mean the harness answered normally.
_GOOD_OUTCOMES = ("completed",)


def json_lines(text: str) -> Iterator[dict[str, Any]]:
    """Each line of `text` that is a JSON object; anything else (truncation, noise) is skipped."""
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict):
            yield obj


def load_json(text: str) -> Any:
    """The whole text as JSON (gemini's --output-format json), or None."""
    text = text.strip()
    if not text.startswith(("{", "[")):
        # A JSON document after some noise: start at the first brace on its own line.
        i = text.find("\n{")
        if i < 0:
            return None
        text = text[i + 1 :]
    try:
        return json.loads(text)
    except ValueError:
        return None


def strip_prefix(line: str) -> str:
    return _PREFIX.sub("", line.strip(), count=1)


def error_lines(out: SessionOutput, stdout_tail: int = 3) -> list[str]:
    """The CLI's own error channel: stderr lines, then (only when the process failed) the last
    non-empty, non-JSON stdout lines. Each line is stripped of an "Error:" prefix."""
    lines = [strip_prefix(x) for x in out.stderr.splitlines() if x.strip()]
    if out.exit_code not in (0, None) and stdout_tail:
        tail = [x for x in out.stdout.splitlines() if x.strip() and not x.lstrip().startswith("{")]
        lines.extend(strip_prefix(x) for x in tail[-stdout_tail:])
    return lines


def first_match(patterns: Iterable[re.Pattern[str]], lines: Iterable[str]) -> str | None:
    """The first line (searched newest first) that one of the anchored patterns matches."""
    pats = list(patterns)
    for line in reversed(list(lines)):
        for p in pats:
            if p.match(line):
                return line
    return None


def compile_patterns(patterns: Iterable[str]) -> list[re.Pattern[str]]:
    out = []
    for p in patterns:
        try:
            out.append(re.compile(p, re.IGNORECASE))
        except re.error:
            continue  # a bad user pattern is reported by `rota doctor`, never a crash here
    return out


def opt_float(options: Mapping[str, object], key: str, default: float) -> float:
    v = options.get(key, default)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return default
    return float(v)


@dataclass
class BuiltinProfile(HarnessProfile):
    """A HarnessProfile with configurable limit patterns and a last-outcome heuristic probe.

    limit_patterns: regexes (anchored at the start of an error line, case-insensitive) that mean
    the session stopped on a limit. Custom harnesses set them with `quota.limit_patterns`.
    scope_arm: a limit blocks the arm (and its pools) rather than the whole harness; right for
    harnesses that front several providers (gptme, aider, opencode).
    """

    limit_patterns: tuple[str, ...] = ()
    scope_arm: bool = False
    install_hint: str = ""  # how to install the CLI, for `rota doctor`

    def _hit(self, message: str, resets_at: float | None, **kw: Any) -> LimitHit:
        kind = "arm" if self.scope_arm else "harness"
        kw.setdefault("scope_kind", kind)
        kw.setdefault("scope", self.name if kw["scope_kind"] == "harness" else "")
        return LimitHit(message=message.strip()[:500], resets_at=resets_at, **kw)

    def text_limit(self, out: SessionOutput, extra: Iterable[str] = ()) -> LimitHit | None:
        """A limit named on the error channel (or in `extra`, e.g. a JSON error message)."""
        from rota.resettime import parse_reset

        lines = [strip_prefix(x) for x in extra if x] + error_lines(out)
        line = first_match(compile_patterns(self.limit_patterns), lines)
        if line is None:
            return None
        return self._hit(line, parse_reset(line, out.ended_at))

    def detect_limit(self, out: SessionOutput) -> LimitHit | None:
        hit = self.text_limit(out)
        if hit is not None:
            return hit
        if out.exit_code is not None and out.exit_code in self.rate_limit_exit_codes:
            from rota.resettime import parse_reset

            text = "\n".join(error_lines(out))
            return self._hit(f"exit code {out.exit_code}", parse_reset(text, out.ended_at))
        return None

    def health_problem(self, out: SessionOutput) -> str | None:
        """A reason to keep this harness out for a while that is not a quota limit (e.g. gptme's
        exit 76 "authentication error"), else None."""
        return None

    def auth_paths(self, home: Path, env: Mapping[str, str]) -> list[Path]:
        """Where this harness keeps its login; any one present is enough (for `rota doctor`)."""
        return [home / f for f in self.auth_files]

    def cache_seconds(self, states: list[QuotaState], options: Mapping[str, object]) -> float:
        """How long a probe answer stays fresh: quota.cache_minutes (default 5)."""
        return 60.0 * opt_float(options, "cache_minutes", DEFAULT_CACHE_MINUTES)

    def probe(self, ctx: ProbeContext) -> list[QuotaState]:
        return last_outcome_states(ctx, self.name)


def last_outcome_states(ctx: ProbeContext, name: str) -> list[QuotaState]:
    """No quota source: "the last session on this harness succeeded" means usable.

    Anything else is unknown (never exhausted): a limit hit already left a block with its reset.
    """
    scope = ctx.harness or name
    if ctx.last_outcome is None:
        return []
    ok = ctx.last_outcome in _GOOD_OUTCOMES
    when = ""
    if ctx.last_outcome_at:
        import time

        when = time.strftime(" at %Y-%m-%d %H:%M UTC", time.gmtime(ctx.last_outcome_at))
    return [
        QuotaState(
            scope_kind="harness",
            scope=scope,
            window="last_session",
            available=True if ok else None,
            source="heuristic",
            reason=f"last session {ctx.last_outcome}{when}",
            observed_at=ctx.now,
        )
    ]
