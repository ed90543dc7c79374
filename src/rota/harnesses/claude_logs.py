"""Claude Code's local project logs (`~/.claude/projects/*/*.jsonl`): usage per 5-hour block and the
limit lines, as the quota probe's fallback when the usage endpoint cannot answer."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rota.harnesses.base import ProbeContext
from rota.harnesses.claude_limits import (
    LIMIT_PATTERNS,
    WINDOW_MINUTES,
    family_arms,
    text_scope,
)
from rota.harnesses.common import opt_float
from rota.quota.state import QuotaState

BLOCK_SECONDS = 5 * 3600.0
MAX_LOG_BYTES = 32 * 1024 * 1024  # read at most the tail of a huge session log


# ---------------------------------------------------------------------------------------------
# Where Claude keeps things


def _expand(p: str, ctx: ProbeContext) -> Path:
    if p == "~" or p.startswith("~/"):
        return ctx.home / p[2:] if len(p) > 1 else ctx.home
    return Path(p)


def config_dirs(ctx: ProbeContext) -> list[Path]:
    """$CLAUDE_CONFIG_DIR (comma-separated) first, then ~/.claude and $XDG_CONFIG_HOME/claude."""
    dirs: list[Path] = []
    for part in (ctx.env.get("CLAUDE_CONFIG_DIR") or "").split(","):
        if part.strip():
            dirs.append(_expand(part.strip(), ctx))
    dirs.append(ctx.home / ".claude")
    xdg = ctx.env.get("XDG_CONFIG_HOME")
    dirs.append((_expand(xdg, ctx) if xdg else ctx.home / ".config") / "claude")
    out: list[Path] = []
    for d in dirs:
        if d not in out:
            out.append(d)
    return out


# ---------------------------------------------------------------------------------------------
# Local logs


@dataclass(slots=True)
class LogSummary:
    tokens_by_model: dict[str, int] = field(default_factory=dict)
    block_start: float | None = None
    block_end: float | None = None
    limit_at: float | None = None  # when the newest limit line was logged
    limit_resets_at: float | None = None
    limit_text: str = ""
    last_usage_at: float | None = None
    files: int = 0

    @property
    def tokens(self) -> int:
        return sum(self.tokens_by_model.values())


def project_dirs(ctx: ProbeContext) -> list[Path]:
    return [d / "projects" for d in config_dirs(ctx) if (d / "projects").is_dir()]


def _recent_logs(ctx: ProbeContext, since: float) -> Iterator[Path]:
    """Session logs modified since `since` (one level of project dirs; subagent logs are sidechains)."""
    for root in project_dirs(ctx):
        try:
            projects = list(os.scandir(root))
        except OSError:
            continue
        for proj in projects:
            try:
                if not proj.is_dir():
                    continue
                entries = list(os.scandir(proj.path))
            except OSError:
                continue
            for e in entries:
                try:
                    if e.name.endswith(".jsonl") and e.is_file() and e.stat().st_mtime >= since:
                        yield Path(e.path)
                except OSError:
                    continue


def _read_lines(path: Path) -> Iterator[str]:
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > MAX_LOG_BYTES:
                f.seek(size - MAX_LOG_BYTES)
                f.readline()  # drop the partial first line
            for raw in f:
                yield raw.decode("utf-8", "replace")
    except OSError:
        return


def _content_text(msg: Mapping[str, Any]) -> str:
    c = msg.get("content")
    if isinstance(c, str):
        return c
    if isinstance(c, list):
        return " ".join(
            str(p.get("text", "")) for p in c if isinstance(p, dict) and p.get("type") == "text"
        )
    return ""


def _tokens(usage: Mapping[str, Any]) -> int:
    total = 0
    for k in (
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
    ):
        v = usage.get(k)
        if isinstance(v, int) and not isinstance(v, bool) and v > 0:
            total += v
    return total


def scan_logs(ctx: ProbeContext, now: float, lookback_hours: float = 24.0) -> LogSummary:
    """Usage in the current 5-hour block, and the newest usage-limit line, from the project logs.

    Deduplicated on message.id + requestId; sidechain lines and the <synthetic> model skipped for
    usage. A block starts at its first entry's hour; a gap of more than 5 h starts a new one.
    """
    from rota.harnesses.common import compile_patterns
    from rota.resettime import parse_iso, parse_reset

    since = now - lookback_hours * 3600.0
    limit_pats = compile_patterns(LIMIT_PATTERNS)
    summary = LogSummary()
    seen: set[tuple[str, str]] = set()
    entries: list[tuple[float, int, str]] = []
    for path in _recent_logs(ctx, since):
        summary.files += 1
        for line in _read_lines(path):
            if '"timestamp"' not in line:
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                continue  # a truncated or torn line
            if not isinstance(obj, dict) or obj.get("isSidechain") is True:
                continue
            ts_raw = obj.get("timestamp")
            ts = parse_iso(ts_raw) if isinstance(ts_raw, str) else None
            if ts is None or ts < since or ts > now + 300:
                continue
            msg = obj.get("message")
            if not isinstance(msg, dict):
                continue
            model = str(msg.get("model") or "")
            if obj.get("isApiErrorMessage") or model == "<synthetic>":
                text = _content_text(msg).strip()
                if any(p.match(text) for p in limit_pats):
                    if summary.limit_at is None or ts >= summary.limit_at:
                        summary.limit_at = ts
                        summary.limit_resets_at = parse_reset(text, ts)
                        summary.limit_text = text[:200]
                continue
            if obj.get("type") != "assistant":
                continue
            usage = msg.get("usage")
            if not isinstance(usage, dict):
                continue
            mid, rid = msg.get("id"), obj.get("requestId")
            if isinstance(mid, str) and isinstance(rid, str):
                if (mid, rid) in seen:
                    continue
                seen.add((mid, rid))
            entries.append((ts, _tokens(usage), model))
    entries.sort()
    start = end = last = None
    block: list[tuple[float, int, str]] = []
    for ts, tok, model in entries:
        if start is None or end is None or last is None or ts >= end or ts - last > BLOCK_SECONDS:
            start = ts - ts % 3600.0
            end = start + BLOCK_SECONDS
            block = []
        block.append((ts, tok, model))
        last = ts
    if entries:
        summary.last_usage_at = entries[-1][0]
    if start is not None and end is not None and start <= now < end:
        summary.block_start, summary.block_end = start, end
        for _, tok, model in block:
            summary.tokens_by_model[model] = summary.tokens_by_model.get(model, 0) + tok
    return summary


def _hm(ts: float) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ts))


def states_from_logs(
    s: LogSummary,
    harness: str,
    models: tuple[str, ...],
    now: float,
    options: Mapping[str, Any],
    *,
    authoritative: bool = True,
) -> list[QuotaState]:
    """State rows from a log summary. With authoritative=False (the endpoint answered) they only
    inform: available stays None."""
    out: list[QuotaState] = []
    limit_active = (
        s.limit_resets_at is not None
        and s.limit_resets_at > now
        and not (
            s.last_usage_at is not None and s.limit_at is not None and s.last_usage_at > s.limit_at
        )
    )
    if limit_active and s.limit_at is not None:
        window, fam = text_scope(s.limit_text)
        reason = f"usage limit reached (logged {_hm(s.limit_at)})"
        if not authoritative:
            reason += "; the usage endpoint's answer takes precedence"
        scopes = (
            [("arm", a) for a in family_arms(harness, fam, models)]
            if fam
            else [("harness", harness)]
        )
        for kind, scope in scopes:
            out.append(
                QuotaState(
                    scope_kind=kind,
                    scope=scope,
                    window=window if fam else "usage_limit",
                    available=False if authoritative else None,
                    utilization=1.0 if authoritative else None,
                    resets_at=s.limit_resets_at,
                    source="logs",
                    reason=reason,
                    window_minutes=WINDOW_MINUTES.get(window),
                    observed_at=now,
                )
            )
    if s.block_start is not None:
        limit = opt_float(options, "block_token_limit", 0.0)
        util = min(1.0, s.tokens / limit) if limit > 0 else None
        avail = None if util is None or not authoritative else util < 1.0
        by_model = ", ".join(
            f"{m} {t:,}" for m, t in sorted(s.tokens_by_model.items(), key=lambda kv: -kv[1])
        )
        out.append(
            QuotaState(
                scope_kind="harness",
                scope=harness,
                window="five_hour",
                available=avail,
                utilization=util,
                resets_at=s.block_end,
                source="logs",
                reason=f"{s.tokens:,} tokens in the 5-hour block since {_hm(s.block_start)}"
                + (f" ({by_model})" if by_model else ""),
                window_minutes=300.0,
                observed_at=now,
            )
        )
    return out
