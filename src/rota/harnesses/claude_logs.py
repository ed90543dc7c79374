"""Claude Code's local project logs: usage per 5-hour block and the limit lines, as the quota
probe's fallback when the usage endpoint cannot answer. Read as ccusage reads them, so that both
tools agree on the same tree (tests/test_claude_logs.py runs them side by side):

- every session log `projects/<project>/<session>.jsonl` and every subagent log
  `projects/<project>/<session>/subagents/*.jsonl`; sidechain lines count (subagents spend the
  same subscription);
- one entry per usage line, deduplicated on message.id + requestId (a reply written over several
  lines repeats them); the <synthetic> lines Claude Code writes for an API error are entries with
  no tokens;
- a block starts at the hour of its first entry and lasts 5 h; an entry more than 5 h after the
  block's start, or more than 5 h after the previous entry, starts the next. An entry at exactly
  start + 5 h is still in the block.

Incremental: what was read is remembered in a cache file (owner-only, under rota's state dir):
each log's inode and the offset after its last complete line, the entries of the last
LOOKBACK_DAYS and the start of the first remembered block. A probe reads only what was appended
since; a log of any size is read whole once (no tail cut: a 42 MB session lost most of its
tokens to one). A cache that is missing, unreadable or from another version is rebuilt. Block
boundaries follow from the whole remembered history, so they stay where ccusage puts them after
any number of hours of continuous work (a full read from an empty cache agrees with ccusage from
the first gap of more than 5 h within the lookback).
"""

from __future__ import annotations

import hashlib
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
from rota.harnesses.claude_log_cache import (
    Entry,
    LogState,
    cache_file,
    expand_user,
    load_state,
    save_state,
)
from rota.harnesses.common import opt_float
from rota.quota.state import QuotaState
from rota.timefmt import utc

BLOCK_SECONDS = 5 * 3600.0
LOOKBACK_DAYS = 14.0  # entries remembered (and read from an empty cache)
MAX_LINE = 64 * 1024 * 1024  # a longer line is no usage line (a huge tool result): skipped
CLOCK_SKEW_S = 300.0  # an entry this far after `now` still counts (another machine's clock)
LIMIT_HORIZON_S = 8 * 86400.0  # the weekly pools are the longest: 7 days and a day's slack
SYNTHETIC = "<synthetic>"  # the model of the lines Claude Code writes for an API error


# ---------------------------------------------------------------------------------------------
# Where Claude keeps things


def config_dirs(ctx: ProbeContext) -> list[Path]:
    """$CLAUDE_CONFIG_DIR (comma-separated) first, then ~/.claude and $XDG_CONFIG_HOME/claude."""
    dirs: list[Path] = []
    for part in (ctx.env.get("CLAUDE_CONFIG_DIR") or "").split(","):
        if part.strip():
            dirs.append(expand_user(part.strip(), ctx))
    dirs.append(ctx.home / ".claude")
    xdg = ctx.env.get("XDG_CONFIG_HOME")
    dirs.append((expand_user(xdg, ctx) if xdg else ctx.home / ".config") / "claude")
    out: list[Path] = []
    for d in dirs:
        if d not in out:
            out.append(d)
    return out


# ---------------------------------------------------------------------------------------------
# Local logs


@dataclass(slots=True)
class Block:
    start: float
    end: float
    last: float  # the newest entry in it
    tokens_by_model: dict[str, int] = field(default_factory=dict)
    entries: int = 0

    @property
    def tokens(self) -> int:
        return sum(self.tokens_by_model.values())


@dataclass(slots=True)
class LogSummary:
    tokens_by_model: dict[str, int] = field(default_factory=dict)
    block_start: float | None = None
    block_end: float | None = None
    limit_at: float | None = None  # when the newest limit line was logged
    limit_resets_at: float | None = None
    limit_text: str = ""
    last_usage_at: float | None = None
    files: int = 0  # logs within the lookback
    blocks: list[Block] = field(default_factory=list)  # every block up to now, oldest first
    bytes_read: int = 0  # read by this scan (the rest came from the cache)

    @property
    def tokens(self) -> int:
        return sum(self.tokens_by_model.values())


def project_dirs(ctx: ProbeContext) -> list[Path]:
    return [d / "projects" for d in config_dirs(ctx) if (d / "projects").is_dir()]


def _logs(roots: list[Path], since: float) -> Iterator[tuple[str, os.stat_result]]:
    """(path, stat) of each session log and subagent log modified since `since`."""

    def jsonl(d: str, nested: bool) -> Iterator[tuple[str, os.stat_result]]:
        try:
            found = list(os.scandir(d))
        except OSError:
            return
        for e in found:
            try:
                if e.name.endswith(".jsonl") and e.is_file():
                    st = e.stat()
                    if st.st_mtime >= since:
                        yield e.path, st
                elif nested and e.is_dir():
                    yield from jsonl(os.path.join(e.path, "subagents"), False)
            except OSError:
                continue

    for root in roots:
        try:
            projects = [p.path for p in os.scandir(root) if p.is_dir()]
        except OSError:
            continue
        for proj in sorted(projects):
            yield from jsonl(proj, True)


def _new_lines(path: str, start: int) -> Iterator[tuple[bytes, int]]:
    """(line, offset after it) for each complete line from `start`. An unterminated last line is
    a write in progress, read next time, unless it already holds a whole JSON object. A line longer than MAX_LINE (a huge tool result)
    is skipped without being held."""
    try:
        f = open(path, "rb")
    except OSError:
        return
    with f:
        try:
            f.seek(start)
        except OSError:
            return
        pos = start
        skipping = False
        while True:
            try:
                raw = f.readline(MAX_LINE)
            except OSError:
                return
            if not raw:
                return
            if not raw.endswith(b"\n"):
                if len(raw) < MAX_LINE:
                    # The unterminated tail: a write in progress unless it is a whole JSON object
                    # (no prefix of one is: a line that ends there is complete).
                    if not skipping and raw.rstrip().endswith(b"}") and _whole(raw):
                        yield raw, pos + len(raw)
                    return
                pos += len(raw)
                skipping = True
                continue
            pos += len(raw)
            if skipping:
                skipping = False
                continue
            yield raw, pos


def _whole(raw: bytes) -> bool:
    try:
        return isinstance(json.loads(raw), dict)
    except (ValueError, RecursionError):
        return False


def _content_text(msg: Mapping[str, Any]) -> str:
    c = msg.get("content")
    if isinstance(c, str):
        return c
    if isinstance(c, list):
        return " ".join(
            str(p.get("text", "")) for p in c if isinstance(p, dict) and p.get("type") == "text"
        )
    return ""


def _tokens(usage: Mapping[str, Any]) -> int | None:
    """input + output + cache creation + cache read, as ccusage totals them; None when the usage
    names no count at all."""
    total, found = 0, False
    for k in (
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
    ):
        v = usage.get(k)
        if isinstance(v, int) and not isinstance(v, bool):
            found = True
            total += max(0, min(v, 10**12))
    return total if found else None


def _key(msg: Mapping[str, Any], obj: Mapping[str, Any]) -> str:
    mid, rid = msg.get("id"), obj.get("requestId")
    if not (isinstance(mid, str) and isinstance(rid, str)):
        return ""
    return hashlib.blake2b(f"{mid}\0{rid}".encode("utf-8", "replace"), digest_size=9).hexdigest()


def _read(roots: list[Path], state: LogState, since: float, summary: LogSummary) -> None:
    """Bring `state` up to date with what was appended to the logs since it was saved."""
    from rota.harnesses.common import compile_patterns
    from rota.resettime import parse_iso

    limit_pats = compile_patterns(LIMIT_PATTERNS)
    keys = {e[3] for e in state.entries if e[3]}
    files: dict[str, tuple[int, int]] = {}
    for path, st in _logs(roots, since):
        summary.files += 1
        inode, offset = state.files.get(path, (-1, 0))
        if inode != st.st_ino or offset > st.st_size:
            offset = 0  # a new file, or one replaced or cut: from the start (dedup keeps it once)
        files[path] = (st.st_ino, offset)
        if offset == st.st_size:
            continue
        for raw, end in _new_lines(path, offset):
            summary.bytes_read += end - offset
            offset = end
            files[path] = (st.st_ino, offset)
            if b'"usage"' not in raw and b"isApiErrorMessage" not in raw:
                continue
            try:
                obj = json.loads(raw)
            except (ValueError, RecursionError):
                continue  # a torn line, or not JSON
            if not isinstance(obj, dict):
                continue
            msg, ts_raw = obj.get("message"), obj.get("timestamp")
            if not isinstance(msg, dict) or not isinstance(ts_raw, str):
                continue
            ts = parse_iso(ts_raw)
            if ts is None or ts < since:
                continue
            model = str(msg.get("model") or "")
            if obj.get("isApiErrorMessage") or model == SYNTHETIC:
                text = _content_text(msg).strip()
                if any(p.match(text) for p in limit_pats):
                    if state.limit is None or ts >= state.limit[0]:
                        state.limit = (ts, text[:300])
            usage = msg.get("usage")
            tokens = _tokens(usage) if isinstance(usage, dict) else None
            if tokens is None:
                continue
            key = _key(msg, obj)
            if key:
                if key in keys:
                    continue
                keys.add(key)
            state.entries.append((ts, tokens, model[:100], key))
    state.files = files


def blocks(entries: list[Entry], anchor: float | None = None) -> list[Block]:
    """ccusage's blocks over `entries` (sorted by time). The first block starts at `anchor` when
    its first entry falls in [anchor, anchor + 5 h] (the remembered start of a block whose older
    entries were dropped), else at its first entry's hour."""
    out: list[Block] = []
    cur: Block | None = None
    for ts, tokens, model, _key in entries:
        if cur is None or ts - cur.start > BLOCK_SECONDS or ts - cur.last > BLOCK_SECONDS:
            if cur is None and anchor is not None and anchor <= ts <= anchor + BLOCK_SECONDS:
                start = anchor
            else:
                start = ts - ts % 3600.0
            cur = Block(start, start + BLOCK_SECONDS, ts)
            out.append(cur)
        cur.last = ts
        cur.entries += 1
        if tokens:
            cur.tokens_by_model[model] = cur.tokens_by_model.get(model, 0) + tokens
    return out


def _prune(state: LogState, since: float) -> None:
    """Drop the blocks that ended before `since`, remembering where the first kept one starts."""
    state.entries.sort()
    if not state.entries or state.entries[0][0] >= since:
        return
    for b in blocks(state.entries, state.anchor):
        if b.last >= since:
            state.anchor = b.start
            state.entries = [e for e in state.entries if e[0] >= b.start]
            return
    state.entries, state.anchor = [], None


def scan_logs(ctx: ProbeContext, now: float, lookback_hours: float | None = None) -> LogSummary:
    """Usage in the current 5-hour block, every block up to `now`, and the newest usage-limit
    line, from the project logs (incrementally, through the cache)."""
    from rota.resettime import parse_reset

    lookback = (LOOKBACK_DAYS * 24.0 if lookback_hours is None else lookback_hours) * 3600.0
    since = now - lookback
    roots = project_dirs(ctx)
    summary = LogSummary()
    cache = cache_file(ctx, roots)
    state = load_state(cache, [str(r) for r in roots])
    _read(roots, state, since, summary)
    _prune(state, since)
    save_state(cache, state)

    upto = [e for e in state.entries if e[0] <= now + CLOCK_SKEW_S]
    summary.blocks = blocks(upto, state.anchor)
    used = [e[0] for e in upto if e[2] != SYNTHETIC]
    if used:
        summary.last_usage_at = used[-1]
    if state.limit is not None and since <= state.limit[0] <= now + CLOCK_SKEW_S:
        summary.limit_at, summary.limit_text = state.limit
        summary.limit_resets_at = parse_reset(
            summary.limit_text, summary.limit_at, horizon_s=LIMIT_HORIZON_S
        )
        summary.limit_text = summary.limit_text[:200]
    cur = summary.blocks[-1] if summary.blocks else None
    if cur is not None and cur.start <= now < cur.end:
        summary.block_start, summary.block_end = cur.start, cur.end
        summary.tokens_by_model = dict(cur.tokens_by_model)
    return summary


def _hm(ts: float) -> str:

    return utc(ts)


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
