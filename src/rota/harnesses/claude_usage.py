"""Claude Code quota: the OAuth usage endpoint, and the local project logs as the fallback.

The endpoint (undocumented) answers five_hour / seven_day windows for the whole subscription and
per-model weekly pools (seven_day_opus, seven_day_sonnet) that cover only arms whose model is of
that family. Any failure (no token, 401, 403, 429, timeout, garbage) is "unknown" with a reason,
never "exhausted". The OAuth token is held in a wrapper that never prints, is sent only to the
configured URL (no redirects are followed), and appears in no state, reason or error.
"""

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
    MODEL_FAMILIES,
    RATE_LIMITED_MARK,
    text_scope,
)
from rota.harnesses.common import opt_float
from rota.quota.state import QuotaState

DEFAULT_URL = "https://api.anthropic.com/api/oauth/usage"
BETA_HEADER = "oauth-2025-04-20"
URL_ENV = "ROTA_CLAUDE_USAGE_URL"
WINDOW_MINUTES = {"five_hour": 300.0, "seven_day": 10080.0}
BLOCK_SECONDS = 5 * 3600.0
MAX_LOG_BYTES = 32 * 1024 * 1024  # read at most the tail of a huge session log


class Secret:
    """A credential that never shows itself in repr, str, f-strings, logs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret(***)"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return "***"

    def __reduce__(self) -> Any:  # never pickled into a cache or a subprocess
        raise TypeError("a Secret cannot be pickled")


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


def _display(path: Path, ctx: ProbeContext) -> str:
    try:
        return "~/" + str(path.relative_to(ctx.home))
    except ValueError:
        return str(path)


def read_token(ctx: ProbeContext) -> tuple[Secret | None, str]:
    """The OAuth access token and "", or None and why not (no file, unreadable, malformed)."""
    problems: list[str] = []
    for d in config_dirs(ctx):
        f = d / ".credentials.json"
        try:
            raw = f.read_text(encoding="utf-8")
        except FileNotFoundError:
            continue
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(
                f"cannot read {_display(f, ctx)}: {getattr(exc, 'strerror', '') or exc.__class__.__name__}"
            )
            continue
        try:
            data = json.loads(raw)
        except ValueError:
            problems.append(f"{_display(f, ctx)} is not valid JSON")
            continue
        oauth = data.get("claudeAiOauth") if isinstance(data, dict) else None
        token = oauth.get("accessToken") if isinstance(oauth, dict) else None
        if isinstance(token, str) and token.strip():
            return Secret(token.strip()), ""
        problems.append(f"{_display(f, ctx)} has no claudeAiOauth.accessToken")
    if problems:
        return None, "; ".join(problems)
    return (
        None,
        "no OAuth login found (~/.claude/.credentials.json); API-key logins have no usage endpoint",
    )


# ---------------------------------------------------------------------------------------------
# The usage endpoint


@dataclass(slots=True)
class UsageAnswer:
    status: int | None  # HTTP status, None when no answer came back
    data: Any = None  # decoded JSON on 200
    reason: str = ""  # why there is no usable data
    retry_after: float | None = None


def usage_url(ctx: ProbeContext) -> str:
    url = ctx.env.get(URL_ENV) or ctx.options.get("usage_url") or DEFAULT_URL
    return str(url)


def fetch_usage(url: str, token: Secret, timeout: float) -> UsageAnswer:
    """GET the usage endpoint. Never raises; never puts the token in the answer."""
    import socket
    import urllib.error
    import urllib.parse
    import urllib.request

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        # A redirect would carry the bearer token to another host: refuse it.
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return UsageAnswer(None, reason="usage URL is malformed")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return UsageAnswer(None, reason="usage URL must be http(s)://host/…")
    handlers: list[Any] = [_NoRedirect()]
    if parts.hostname in ("localhost", "127.0.0.1", "::1"):
        handlers.append(urllib.request.ProxyHandler({}))  # a local test server is never proxied
    opener = urllib.request.build_opener(*handlers)
    req = urllib.request.Request(
        url,
        headers={
            "Authorization": "Bearer " + token.reveal(),
            "anthropic-beta": BETA_HEADER,
            "Accept": "application/json",
            "User-Agent": "rota-quota-probe",
        },
        method="GET",
    )
    try:
        with opener.open(req, timeout=timeout) as resp:
            status = int(getattr(resp, "status", 200))
            body = resp.read(2_000_000)
    except urllib.error.HTTPError as exc:
        status = int(exc.code)
        retry = _retry_after(exc.headers.get("Retry-After") if exc.headers else None)
        exc.close()
        reason = _http_reason(status)
        if status == 429 and retry:
            reason += f" (retry after {int(retry)}s)"
        return UsageAnswer(status, reason=reason, retry_after=retry)
    except TimeoutError:
        return UsageAnswer(None, reason=f"usage endpoint did not answer within {timeout:g}s")
    except urllib.error.URLError as exc:
        r = exc.reason
        if isinstance(r, (TimeoutError, socket.timeout)):
            return UsageAnswer(None, reason=f"usage endpoint did not answer within {timeout:g}s")
        text = getattr(r, "strerror", None) or r.__class__.__name__
        return UsageAnswer(None, reason=f"usage endpoint unreachable: {text}")
    except (OSError, ValueError) as exc:
        text = getattr(exc, "strerror", None) or exc.__class__.__name__
        return UsageAnswer(None, reason=f"usage endpoint unreachable: {text}")
    if status != 200:
        return UsageAnswer(status, reason=_http_reason(status))
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return UsageAnswer(status, reason="usage endpoint answered with something that is not JSON")
    if not isinstance(data, dict):
        return UsageAnswer(status, reason="usage endpoint answered JSON of an unexpected shape")
    return UsageAnswer(status, data=data)


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def _http_reason(status: int) -> str:
    if status == 401:
        return "usage endpoint said 401 (login expired or revoked): run `claude` once to refresh it"
    if status == 403:
        return "usage endpoint said 403 (the login lacks the user:profile scope): run `claude /login` again"
    if status == 429:
        return f"usage endpoint said {RATE_LIMITED_MARK} (asked too often): backing off"
    return f"usage endpoint said HTTP {status}"


def _util(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return max(0.0, float(v) / 100.0)


def _window_state(
    scope_kind: str,
    scope: str,
    window: str,
    util: float | None,
    resets: Any,
    now: float,
    reason: str = "",
) -> QuotaState:
    from rota.resettime import parse_iso

    resets_at = parse_iso(resets) if isinstance(resets, str) else None
    avail = None if util is None else util < 1.0
    minutes = WINDOW_MINUTES.get(window) or (10080.0 if window.startswith("seven_day") else None)
    return QuotaState(
        scope_kind=scope_kind,
        scope=scope,
        window=window,
        available=avail,
        utilization=util,
        resets_at=resets_at,
        source="api",
        reason=reason,
        window_minutes=minutes,
        observed_at=now,
    )


def family_arms(harness: str, family: str, models: tuple[str, ...]) -> list[str]:
    """The arms a per-model pool covers: configured models whose name contains the family."""
    arms = [f"{harness}:{m}" for m in models if family in m.lower()]
    return arms or [f"{harness}:{family}"]


def states_from_usage(
    data: Mapping[str, Any], harness: str, models: tuple[str, ...], now: float
) -> list[QuotaState]:
    """Map an endpoint answer to states. Unknown keys and nulls are skipped."""
    out: list[QuotaState] = []
    windows: dict[str, tuple[Any, Any]] = {}
    for key, v in data.items():
        if (
            isinstance(v, dict)
            and "utilization" in v
            and (key in WINDOW_MINUTES or key.startswith("seven_day_"))
        ):
            windows[key] = (v.get("utilization"), v.get("resets_at"))
    if not any(k in windows for k in WINDOW_MINUTES):
        # Newer answers may carry only limits[]: {kind: session|weekly, percent, resets_at, scope}.
        for item in data.get("limits") or []:
            if not isinstance(item, dict):
                continue
            kind = str(item.get("kind", "")).lower()
            fam = str(item.get("scope") or "").lower()
            if kind == "session":
                key = "five_hour"
            elif kind == "weekly":
                key = f"seven_day_{fam}" if fam else "seven_day"
            else:
                continue
            windows.setdefault(key, (item.get("percent"), item.get("resets_at")))
    for key, (util_raw, resets) in windows.items():
        util = _util(util_raw)
        if key in WINDOW_MINUTES:
            out.append(_window_state("harness", harness, key, util, resets, now))
            continue
        fam = key[len("seven_day_") :]
        if fam not in MODEL_FAMILIES:
            continue  # seven_day_oauth_apps and the like cover no arm
        for arm in family_arms(harness, fam, models):
            out.append(
                _window_state("arm", arm, key, util, resets, now, reason=f"weekly {fam} pool")
            )
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


# ---------------------------------------------------------------------------------------------
# The probe


def probe(ctx: ProbeContext, name: str) -> list[QuotaState]:
    """Endpoint first (source api); the logs fill in when it cannot answer (source logs)."""
    harness = ctx.harness or name
    now = ctx.now
    mode = str(ctx.options.get("source", "auto")).lower()
    api_states: list[QuotaState] = []
    api_reason = ""
    if mode in ("auto", "api"):
        token, why = read_token(ctx)
        if token is None:
            api_reason = why
        else:
            timeout = opt_float(ctx.options, "timeout_seconds", ctx.timeout)
            ans = fetch_usage(usage_url(ctx), token, timeout)
            del token
            if ans.data is not None:
                api_states = states_from_usage(ans.data, harness, ctx.models, now)
                if not api_states:
                    api_reason = "usage endpoint answered without any known window"
            else:
                api_reason = ans.reason
    out = list(api_states)
    if api_reason and mode != "logs":
        out.append(
            QuotaState(
                scope_kind="harness",
                scope=harness,
                window="api",
                available=None,
                source="api",
                reason=api_reason,
                observed_at=now,
            )
        )
    if mode in ("auto", "logs") or not api_states:
        try:
            summary = scan_logs(ctx, now)
        except Exception as exc:  # a log we cannot parse must never break selection
            out.append(
                QuotaState(
                    "harness",
                    harness,
                    "logs",
                    None,
                    source="logs",
                    reason=f"cannot read the local logs: {exc.__class__.__name__}",
                    observed_at=now,
                )
            )
        else:
            out.extend(
                states_from_logs(
                    summary, harness, ctx.models, now, ctx.options, authoritative=not api_states
                )
            )
    return out

