"""Codex CLI: `codex exec -m MODEL --json … PROMPT`.

Quota: the newest `token_count` event's `rate_limits` over the rollout files under
${CODEX_HOME:-~/.codex}/sessions/YYYY/MM/DD/ and archived_sessions/ (.jsonl or .jsonl.zst).
Only the newest few files are read: files are visited newest first (by mtime) and the walk stops
once a file is older than the newest rate-limit line already found.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rota.harnesses.base import LimitHit, ProbeContext, SessionOutput
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
WINDOWS = {300.0: "five_hour", 10080.0: "seven_day"}
DEFAULT_MINUTES = {"primary": 300.0, "secondary": 10080.0}
MAX_DAY_DIRS = 3  # newest day directories scanned under sessions/
MAX_FLAT = 20  # newest files taken from a flat directory (archived_sessions/)
MAX_FILES_READ = 30
MTIME_SLACK = 120.0


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
        ctx = ProbeContext(home=home, env=dict(env), now=0.0)
        return [codex_home(ctx) / "auth.json"]

    def probe(self, ctx: ProbeContext) -> list[QuotaState]:
        return probe(ctx, self.name)


# ---------------------------------------------------------------------------------------------
# Rollout files


def codex_home(ctx: ProbeContext) -> Path:
    h = ctx.env.get("CODEX_HOME")
    if h:
        return ctx.home / h[2:] if h.startswith("~/") else Path(h)
    return ctx.home / ".codex"


def _is_rollout(name: str) -> bool:
    return name.startswith("rollout-") and (name.endswith(".jsonl") or name.endswith(".jsonl.zst"))


def _scandir(path: Path) -> list[os.DirEntry[str]]:
    try:
        return list(os.scandir(path))
    except OSError:
        return []


def _dated_files(root: Path, max_day_dirs: int) -> list[Path]:
    """Rollout files from the newest YYYY/MM/DD directories, walking names in reverse order."""
    out: list[Path] = []
    days = 0

    def dirs(p: Path) -> list[os.DirEntry[str]]:
        return sorted(
            (e for e in _scandir(p) if e.name.isdigit() and e.is_dir()),
            key=lambda e: e.name,
            reverse=True,
        )

    for y in dirs(root):
        for m in dirs(Path(y.path)):
            for d in dirs(Path(m.path)):
                files = [Path(e.path) for e in _scandir(Path(d.path)) if _is_rollout(e.name)]
                if files:
                    out.extend(files)
                    days += 1
                    if days >= max_day_dirs:
                        return out
    return out


def _flat_files(root: Path, limit: int) -> list[Path]:
    names = sorted((e.name for e in _scandir(root) if _is_rollout(e.name)), reverse=True)
    return [root / n for n in names[:limit]]


def candidate_files(home: Path) -> list[Path]:
    """The newest rollout files, newest mtime first (bounded: never every file on disk)."""
    files: list[Path] = []
    for sub in ("sessions", "archived_sessions"):
        root = home / sub
        files.extend(_dated_files(root, MAX_DAY_DIRS))
        files.extend(_flat_files(root, MAX_FLAT))

    def mtime(p: Path) -> float:
        try:
            return p.stat().st_mtime
        except OSError:
            return 0.0

    uniq = list(dict.fromkeys(files))
    return sorted(uniq, key=lambda p: (mtime(p), p.name), reverse=True)


def _lines(path: Path) -> Iterator[str]:
    """Text lines of a rollout file; a truncated or corrupt file yields what could be read."""
    try:
        f = open(path, "rb")  # closed below, also for the zst reader
    except OSError:
        return
    with f:
        if path.name.endswith(".zst"):
            try:
                import zstandard
            except ImportError:
                return
            try:
                try:
                    reader = zstandard.ZstdDecompressor().stream_reader(f, read_across_frames=True)
                except TypeError:  # an older zstandard without read_across_frames
                    reader = zstandard.ZstdDecompressor().stream_reader(f)
                buf = b""
                while True:
                    chunk = reader.read(1 << 16)
                    if not chunk:
                        break
                    buf += chunk
                    *whole, buf = buf.split(b"\n")
                    for raw in whole:
                        yield raw.decode("utf-8", "replace")
            except (zstandard.ZstdError, OSError, ValueError):
                return
            if buf:
                yield buf.decode("utf-8", "replace")
            return
        try:
            for raw in f:
                yield raw.decode("utf-8", "replace")
        except OSError:
            return


@dataclass(slots=True)
class RateLimitLine:
    at: float  # the line's timestamp
    rate_limits: dict[str, Any]
    path: Path


def newest_in_file(path: Path, fallback_ts: float) -> RateLimitLine | None:
    from rota.resettime import parse_iso

    best: RateLimitLine | None = None
    for line in _lines(path):
        if '"rate_limits"' not in line:
            continue
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if not isinstance(obj, dict):
            continue
        payload = obj.get("payload") if isinstance(obj.get("payload"), dict) else obj.get("msg")
        if not isinstance(payload, dict) or payload.get("type") != "token_count":
            continue
        rl = payload.get("rate_limits")
        if not isinstance(rl, dict):
            continue
        ts_raw = obj.get("timestamp")
        ts = parse_iso(ts_raw) if isinstance(ts_raw, str) else None
        ts = fallback_ts if ts is None else ts
        if best is None or ts >= best.at:
            best = RateLimitLine(ts, rl, path)
    return best


def newest_rate_limits(home: Path) -> tuple[RateLimitLine | None, int]:
    """The newest token_count rate_limits line over the newest files; also how many were read."""
    best: RateLimitLine | None = None
    read = 0
    for path in candidate_files(home):
        try:
            mtime = path.stat().st_mtime
        except OSError:
            continue
        # A file last written before the newest line found cannot hold a newer line.
        if best is not None and mtime < best.at - MTIME_SLACK:
            break
        if read >= MAX_FILES_READ:
            break
        read += 1
        got = newest_in_file(path, mtime)
        if got is not None and (best is None or got.at > best.at):
            best = got
    return best, read


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v)


def states_from_rate_limits(line: RateLimitLine, harness: str, now: float) -> list[QuotaState]:
    import time

    seen = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(line.at))
    out: list[QuotaState] = []
    for key in ("primary", "secondary"):
        w = line.rate_limits.get(key)
        if not isinstance(w, Mapping):
            continue
        used = _num(w.get("used_percent"))
        minutes = _num(w.get("window_minutes")) or DEFAULT_MINUTES[key]
        resets_at = _num(w.get("resets_at"))
        if resets_at is None:
            rel = _num(w.get("resets_in_seconds"))
            resets_at = line.at + rel if rel is not None else None
        util = None if used is None else max(0.0, used / 100.0)
        window = WINDOWS.get(minutes, key)
        if resets_at is not None and resets_at <= now:
            was = f"{used:g}% used" if used is not None else "its last figure"
            out.append(
                QuotaState(
                    "harness",
                    harness,
                    window,
                    True,
                    0.0,
                    None,
                    "logs",
                    f"window reset since {seen} ({was} then)",
                    minutes,
                    now,
                )
            )
            continue
        out.append(
            QuotaState(
                "harness",
                harness,
                window,
                None if util is None else util < 1.0,
                util,
                resets_at,
                "logs",
                f"as of {seen}",
                minutes,
                now,
            )
        )
    return out


def probe(ctx: ProbeContext, name: str) -> list[QuotaState]:
    harness = ctx.harness or name
    home = codex_home(ctx)
    line, _read = newest_rate_limits(home)
    if line is None:
        shown = "$CODEX_HOME" if ctx.env.get("CODEX_HOME") else "~/.codex"
        return [
            QuotaState(
                "harness",
                harness,
                "rollout",
                None,
                source="logs",
                reason=f"no rate_limits in rollout files under {shown}/sessions yet",
                observed_at=ctx.now,
            )
        ]
    states = states_from_rate_limits(line, harness, ctx.now)
    return states or [
        QuotaState(
            "harness",
            harness,
            "rollout",
            None,
            source="logs",
            reason="newest rate_limits has no primary/secondary window",
            observed_at=ctx.now,
        )
    ]


def profile() -> CodexProfile:
    return CodexProfile(
        name=NAME,
        executable="codex",
        argv=[
            "codex",
            "exec",
            "-m",
            "{model}",
            "--sandbox",
            "workspace-write",
            "--json",
            "--skip-git-repo-check",
            "{prompt}",
        ],
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
        reset_horizon_days=32.0,  # a free plan's window is a month: 'try again at Jul 5th'
    )
