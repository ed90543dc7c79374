"""Claude Code's quota as the usage endpoint states it (the same numbers `/usage` shows), read
with the OAuth token Claude Code keeps in ~/.claude/.credentials.json; the local logs
(rota.harnesses.claude_logs) answer when the endpoint cannot.

The answer's windows: five_hour and seven_day for the whole subscription, seven_day_<model> and
limits[] weekly_scoped entries for per-model pools (states_from_usage). The token never leaves
a Secret, and never reaches a log, an error or a cache."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rota.harnesses.base import ProbeContext
from rota.harnesses.claude_limits import (
    MODEL_FAMILIES,
    RATE_LIMITED_MARK,
    WINDOW_MINUTES,
    family_arms,
)
from rota.harnesses.claude_logs import config_dirs, scan_logs, states_from_logs
from rota.harnesses.common import opt_float
from rota.quota.state import QuotaState

DEFAULT_URL = "https://api.anthropic.com/api/oauth/usage"
BETA_HEADER = "oauth-2025-04-20"
URL_ENV = "ROTA_CLAUDE_USAGE_URL"


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
        except (ValueError, RecursionError):
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
    except (UnicodeDecodeError, ValueError, RecursionError):
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


def _scoped_family(scope: Any) -> str:
    """The model family a limits[] scope names: {"model": {"display_name": "Opus"}} -> "opus" (the
    first word, lowercased: "Sonnet 4.5" -> "sonnet"); an older answer's plain string "opus" too.
    "" for a scope that is not a model ({"surface": ...}: Claude Code on the web covers no arm)."""
    if isinstance(scope, str):
        name = scope
    elif isinstance(scope, dict) and isinstance(scope.get("model"), dict):
        name = scope["model"].get("display_name") or scope["model"].get("id") or ""
    else:
        return ""
    words = re.findall(r"[a-z]+", str(name).lower())
    return words[0] if words else ""


def _limits_windows(items: Any) -> dict[str, tuple[Any, Any]]:
    """limits[] as {window key: (percent, resets_at)}.

    The endpoint's newer list (seen 2026-11): {kind: "session" | "weekly_all" | "weekly_scoped",
    group, percent, severity, resets_at, scope, is_active}; a weekly_scoped entry names its model
    in scope.model.display_name ("Opus", "Sonnet", "Fable") and is the only place a pool such as
    the Sonnet week appears when the top-level seven_day_sonnet is null. An older shape said
    kind "weekly" with scope "opus". Entries without a percent, scopes that are not models and
    unknown kinds are skipped."""
    out: dict[str, tuple[Any, Any]] = {}
    if not isinstance(items, list):
        return out
    for item in items:
        if not isinstance(item, dict) or _util(item.get("percent")) is None:
            continue
        kind = str(item.get("kind", "")).lower()
        scope = item.get("scope")
        if kind == "session":
            key = "five_hour"
        elif kind in ("weekly_all", "weekly") and not scope:
            key = "seven_day"
        elif kind in ("weekly_scoped", "weekly") and scope:
            fam = _scoped_family(scope)
            if not fam:
                continue
            key = f"seven_day_{fam}"
        else:
            continue
        out.setdefault(key, (item.get("percent"), item.get("resets_at")))
    return out


def states_from_usage(
    data: Mapping[str, Any], harness: str, models: tuple[str, ...], now: float
) -> list[QuotaState]:
    """Map an endpoint answer to states: the harness's five_hour and seven_day windows, and each
    per-model weekly pool on the arms of that model (rota.harnesses.claude_limits.family_arms).

    The top-level windows ({"five_hour": {"utilization", "resets_at"}, "seven_day_opus": ...})
    win; limits[] fills in what they leave null or do not have. A window whose utilization is not
    a number is kept as unknown (never exhausted). A top-level seven_day_<x> counts
    only for a known family (seven_day_oauth_apps and the like cover no arm); a limits[] pool names
    its model, so any model (Fable) maps to the arms whose name contains it. Unknown keys and nulls
    are skipped."""
    windows: dict[str, tuple[Any, Any]] = {}
    for key, v in data.items():
        if (
            isinstance(v, dict)
            and "utilization" in v
            and (key in WINDOW_MINUTES or key[len("seven_day_") :] in MODEL_FAMILIES)
        ):
            windows[key] = (v.get("utilization"), v.get("resets_at"))
    for key, value in _limits_windows(data.get("limits")).items():
        if key not in windows or _util(windows[key][0]) is None:
            windows[key] = value
    out: list[QuotaState] = []
    for key, (util_raw, resets) in windows.items():
        util = _util(util_raw)
        if key in WINDOW_MINUTES:
            out.append(_window_state("harness", harness, key, util, resets, now))
            continue
        fam = key[len("seven_day_") :]
        for arm in family_arms(harness, fam, models):
            out.append(
                _window_state("arm", arm, key, util, resets, now, reason=f"weekly {fam} pool")
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
