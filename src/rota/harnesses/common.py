"""Shared parts of the built-in profiles: JSON-line reading, the error channel, limit patterns.

Limit patterns are matched only on what the CLI itself says: stderr, its final result, and (when
the process failed) the last lines of plain-text stdout. They are anchored at the start of a line
(after the CLI's own marks and "Error:" prefixes), so an agent's answer that merely mentions "usage
limit reached" is not a limit. `limit_anywhere` patterns are searched anywhere, but only inside
the CLI's structured error messages (an error event, an error document). The reset is read from
the matched line and the lines after it: terminals wrap long messages.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rota.harnesses.base import (
    INFRA_AUTH,
    INFRA_MODEL,
    INFRA_PROVIDER,
    HarnessProfile,
    InfraFailure,
    LimitHit,
    ProbeContext,
    SessionOutput,
)
from rota.quota.state import QuotaState
from rota.quota.state import last_outcome_states as _last_outcome_states

DEFAULT_CACHE_MINUTES = 5.0
# Marks CLIs print before their own messages: "⎿" (claude-code), "■", "🖐", "⚠" (codex), "✕",
# "⚡", "ℹ" (gemini-cli), "✗", "✘", "●" (copilot); and a quote bar or variation selector.
_MARKS = re.compile(r"^[\s⎿■✗✘✕●⚠🖐ℹ⚡•│>\ufe0f]+")
# A short tag before the message: "[Backend Error] You have exhausted…" (gemini-cli).
_TAG = re.compile(r"^\[[A-Za-z][A-Za-z ]{0,28}\]\s*")
# "ERROR: …", "Error: …" (codex, copilot), "API Error: …" (claude-code), "[API Error: …]"
# (gemini-cli: the bracket opens the message), "Unexpected error: …" (aider). The colon is
# required: "Error code: 429" is a message, not a prefix.
_ERROR_PREFIX = re.compile(
    r"^\[?(?:api\s+|unexpected\s+|backend\s+|fatal\s+)?(?:error|fatal|warning)\s*:\s*", re.I
)
REACH = 3  # lines after a matched line that may carry its reset (wrapped terminals)


def json_lines(text: str) -> Iterator[dict[str, Any]]:
    """Each line of `text` that is a JSON object; anything else (truncation, noise) is skipped."""
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError):
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
    except (ValueError, RecursionError):
        return None


def last_json_document(text: str) -> dict[str, Any] | None:
    """The last JSON object in `text` that starts at the beginning of a line and runs to the end
    of the text (gemini's error document, printed after its log and stack traces), or None."""
    text = text.rstrip()
    start = len(text)
    while True:
        start = text.rfind("\n{", 0, start)
        candidate = text[start + 1 :] if start >= 0 else text
        if candidate.startswith("{"):
            try:
                obj = json.loads(candidate)
            except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
                obj = None
            if isinstance(obj, dict):
                return obj
        if start < 0:
            return None


def infra_from_status(status: object, message: str) -> InfraFailure | None:
    """The infrastructure failure an HTTP status names: 401/403 the credentials, 404 the model,
    5xx (and Anthropic's 529) the provider. None for anything else (a 429 is a limit)."""
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool):
        return None
    text = message.strip()[:500] or f"HTTP {status}"
    if status in (401, 403):
        return InfraFailure(INFRA_AUTH, text)
    if status == 404:
        return InfraFailure(INFRA_MODEL, text)
    if 500 <= status <= 599:
        return InfraFailure(INFRA_PROVIDER, text)
    return None


def strip_prefix(line: str) -> str:
    """The message without the CLI's marks, tags and "Error:" prefixes around it."""
    s = line.strip()
    for _ in range(4):
        t = _ERROR_PREFIX.sub("", _TAG.sub("", _MARKS.sub("", s), count=1), count=1)
        if t == s:
            break
        s = t
    return s.strip()


def error_lines(out: SessionOutput, stdout_tail: int = 3) -> list[str]:
    """The CLI's own error channel: stderr lines, then (only when the process failed) the last
    non-empty, non-JSON stdout lines (the lines a limit message may wrap onto included)."""
    lines = [x for x in out.stderr.splitlines() if x.strip()]
    if out.exit_code not in (0, None) and stdout_tail:
        tail = [x for x in out.stdout.splitlines() if x.strip() and not x.lstrip().startswith("{")]
        lines.extend(tail[-(stdout_tail + REACH) :])
    return lines


def first_match(patterns: Iterable[re.Pattern[str]], lines: Iterable[str]) -> str | None:
    """The first line (searched newest first) that one of the anchored patterns matches."""
    pats = list(patterns)
    for line in reversed([strip_prefix(x) for x in lines]):
        for p in pats:
            if p.match(line):
                return line
    return None


def limit_match(
    anchored: list[re.Pattern[str]],
    anywhere: list[re.Pattern[str]],
    messages: Iterable[str],
    lines: list[str],
) -> tuple[str, str] | None:
    """(the limit line, the text its reset may be in), the newest first; None when no pattern
    matches. `messages` are the CLI's structured error messages (each matched as a whole, with
    `anywhere` patterns too); `lines` its plain error lines (anchored patterns only)."""
    found: tuple[str, str] | None = None
    for text in messages:
        if not text:
            continue
        stripped = [strip_prefix(x) for x in text.splitlines() if x.strip()]
        hits = [x for x in stripped if any(p.match(x) for p in anchored)]
        if hits or any(p.search(text) for p in anywhere):
            found = ((hits or stripped or [text])[0], text)
    for i, raw in enumerate(lines):
        line = strip_prefix(raw)
        if any(p.match(line) for p in anchored):
            found = (line, "\n".join([line, *lines[i + 1 : i + 1 + REACH]]))
    return found


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
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
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
    # Searched anywhere inside the CLI's structured error messages only (see limit_match).
    limit_anywhere: tuple[str, ...] = ()
    scope_arm: bool = False
    install_hint: str = ""  # how to install the CLI, for `rota doctor`
    # The longest a reset may lie ahead: a little over the harness's longest window. Longer
    # ("in 99999999999999999999 days", a resetsAt of 1e20) is capped to it.
    reset_horizon_days: float = 32.0
    # (kind, regex) pairs, anchored like limit_patterns, read on the error channel of a session
    # that failed: infrastructure failures in the CLI's own words (rota.harnesses.base).
    infra_patterns: tuple[tuple[str, str], ...] = ()

    def _hit(self, message: str, resets_at: float | None, ref: float, **kw: Any) -> LimitHit:
        from rota.resettime import cap_reset

        kind = "arm" if self.scope_arm else "harness"
        kw.setdefault("scope_kind", kind)
        kw.setdefault("scope", self.name if kw["scope_kind"] == "harness" else "")
        resets_at = cap_reset(resets_at, ref, self.reset_horizon_days * 86400.0)
        return LimitHit(message=message.strip()[:500], resets_at=resets_at, **kw)

    def parse_reset(self, text: str, ref: float) -> float | None:
        """The reset a limit message names, within this harness's horizon."""
        from rota.resettime import parse_reset

        return parse_reset(text, ref, horizon_s=self.reset_horizon_days * 86400.0)

    def text_limit(
        self, out: SessionOutput, extra: Iterable[str] = (), lines: list[str] | None = None
    ) -> LimitHit | None:
        """A limit named in `extra` (the CLI's structured error messages) or on its error lines
        (default: error_lines)."""
        found = limit_match(
            compile_patterns(self.limit_patterns),
            compile_patterns(self.limit_anywhere),
            extra,
            error_lines(out) if lines is None else lines,
        )
        if found is None:
            return None
        line, context = found
        return self._hit(line, self.parse_reset(context, out.ended_at), out.ended_at)

    def detect_limit(self, out: SessionOutput) -> LimitHit | None:
        hit = self.text_limit(out)
        if hit is not None:
            return hit
        if out.exit_code is not None and out.exit_code in self.rate_limit_exit_codes:
            text = "\n".join(error_lines(out))
            reset = self.parse_reset(text, out.ended_at)
            return self._hit(f"exit code {out.exit_code}", reset, out.ended_at)
        return None

    def text_infra(self, out: SessionOutput, extra: Iterable[str] = ()) -> InfraFailure | None:
        """An infrastructure failure named on the error channel (or in `extra`) of a session that
        failed; a session that exited 0 had its errors retried away."""
        if out.exit_code == 0 and not extra:
            return None
        lines = [strip_prefix(x) for x in extra if x] + error_lines(out)
        for line in reversed(lines):
            for kind, pattern in self.infra_patterns:
                try:
                    if re.match(pattern, line, re.IGNORECASE):
                        return InfraFailure(kind, line.strip()[:500])
                except re.error:
                    continue
        return None

    def detect_infra(self, out: SessionOutput) -> InfraFailure | None:
        return self.text_infra(out)

    def auth_paths(self, home: Path, env: Mapping[str, str]) -> list[Path]:
        """Where this harness keeps its login; any one present is enough (for `rota doctor`)."""
        return [home / f for f in self.auth_files]

    def cache_seconds(self, states: list[QuotaState], options: Mapping[str, object]) -> float:
        """How long a probe answer stays fresh: quota.cache_minutes (default 5)."""
        return 60.0 * opt_float(options, "cache_minutes", DEFAULT_CACHE_MINUTES)

    def probe(self, ctx: ProbeContext) -> list[QuotaState]:
        return last_outcome_states(ctx, self.name)


def last_outcome_states(ctx: ProbeContext, name: str) -> list[QuotaState]:
    """No quota source: "the last session on this harness succeeded" means usable
    (rota.quota.state.last_outcome_states)."""
    return _last_outcome_states(ctx.harness or name, ctx.last_outcome, ctx.last_outcome_at, ctx.now)
