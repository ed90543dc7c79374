"""Codex's quota as its rollout files record it: the rate-limit snapshots codex-rs writes into
${CODEX_HOME:-~/.codex}/sessions/YYYY/MM/DD/ and archived_sessions/ (.jsonl or .jsonl.zst).

Each rollout line is {timestamp, type, payload} (older versions: {…, msg}), stamped when the
recorder wrote it. A `token_count` event carries `rate_limits`, codex-rs's RateLimitSnapshot,
in the shapes its versions wrote (tests/fixtures/codex/variants has one of each):

- 0.40: flat {primary_used_percent, secondary_used_percent, primary_window_minutes,
  secondary_window_minutes}, no reset;
- 0.45: {primary, secondary: RateLimitWindow {used_percent, window_minutes, resets_in_seconds}},
  the reset counted from the line's own time;
- 0.63 on: resets_at (epoch seconds), credits {has_credits, unlimited, balance}, plan_type;
- 0.15x: limit_id ("codex" for the account's own limit, "codex_<x>" for a per-model one, whose
  limit_name names the model) and rate_limit_reached_type. A snapshot with no window at all
  (codex emits one when a response carries only credits) erases nothing.

Windows are named by their length, not their slot: codex reports 299 or 300 minutes for the
5-hour window, 10079 or 10080 for the week, 43800 for a month, and a free plan's weekly window
arrives as `primary`. For each limit the newest snapshot wins, by the line's own timestamp, with
two kinds of line that are not readings left out: the history a forked session replays (written
in one go, stamped with the fork's time, right after its session_meta with forked_from_id), and
a snapshot whose every window had already reset when its line was written.

Only the newest few files are read: files are visited newest first (by mtime) and the walk stops
once a file is older than the newest reading already found.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rota.harnesses.base import ProbeContext
from rota.quota.state import QuotaState

MAIN_LIMIT = "codex"  # codex-rs's default limit_id: the account's own limit
DEFAULT_MINUTES = {"primary": 300.0, "secondary": 10080.0}  # a window that states no length
MAX_DAY_DIRS = 3  # newest day directories scanned under sessions/
MAX_FLAT = 20  # newest files taken from a flat directory (archived_sessions/)
MAX_FILES_READ = 30
MTIME_SLACK = 120.0
# A fork writes the history it replays in one go, stamped with the fork's own time: lines within
# this many seconds of a forked session's session_meta are replays, not readings.
REPLAY_SLACK_S = 2.0
STALE_SLACK_S = 60.0  # a window that reset this long before its own line was written is stale


def window_label(minutes: float | None, slot: str) -> str:
    """A window's name from its length: up to 6 h is five_hour (codex says 299 or 300), 6-8 days
    seven_day (10079, 10080), 28-32 days monthly (43800), about a day daily. Without a length:
    the slot's usual window (primary five_hour, secondary seven_day)."""
    if minutes is None or minutes <= 0:
        minutes = DEFAULT_MINUTES.get(slot)
        if minutes is None:
            return slot
    if minutes <= 6 * 60:
        return "five_hour"
    if 23 * 60 <= minutes <= 25 * 60:
        return "daily"
    if 6 * 1440 <= minutes <= 8 * 1440:
        return "seven_day"
    if 28 * 1440 <= minutes <= 32 * 1440:
        return "monthly"
    return f"{round(minutes)}_minutes"


@dataclass(slots=True)
class Window:
    label: str
    minutes: float | None  # as codex stated it (299, 10079, 43800), None when it did not
    used: float | None  # fraction, 0..1 (more when over)
    resets_at: float | None


@dataclass(slots=True)
class Snapshot:
    at: float  # the line's own timestamp
    limit_id: str = MAIN_LIMIT
    limit_name: str = ""
    windows: list[Window] = field(default_factory=list)
    plan_type: str = ""
    credits: dict[str, Any] | None = None
    path: Path | None = None

    def stale(self) -> bool:
        """Every window had reset before this line was written: a replayed old reading."""
        resets = [w.resets_at for w in self.windows if w.resets_at is not None]
        return bool(resets) and all(r < self.at - STALE_SLACK_S for r in resets)


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def _window(slot: str, used: Any, minutes: Any, resets_at: Any, rel: Any, at: float) -> Window:
    u, m = _num(used), _num(minutes)
    reset = _num(resets_at)
    if reset is None:
        r = _num(rel)
        reset = at + r if r is not None else None
    if reset is not None and not 0 < reset < 1e11:
        reset = None  # not a time codex could mean
    return Window(window_label(m, slot), m, None if u is None else max(0.0, u / 100.0), reset)


def parse_snapshot(rl: Mapping[str, Any], at: float) -> Snapshot:
    """A `rate_limits` object in any of codex's shapes (the module doc)."""
    snap = Snapshot(at=at)
    lid, name = rl.get("limit_id"), rl.get("limit_name")
    if isinstance(lid, str) and lid.strip():
        snap.limit_id = lid.strip()
    if isinstance(name, str):
        snap.limit_name = name.strip()
    if isinstance(rl.get("plan_type"), str):
        snap.plan_type = rl["plan_type"]
    if isinstance(rl.get("credits"), dict):
        snap.credits = rl["credits"]
    for slot in ("primary", "secondary"):
        if f"{slot}_used_percent" in rl or f"{slot}_window_minutes" in rl:  # 0.40, flat
            w = _window(
                slot,
                rl.get(f"{slot}_used_percent"),
                rl.get(f"{slot}_window_minutes"),
                None,
                None,
                at,
            )
        elif isinstance(rl.get(slot), Mapping):
            v = rl[slot]
            w = _window(
                slot,
                v.get("used_percent"),
                v.get("window_minutes"),
                v.get("resets_at"),
                v.get("resets_in_seconds"),
                at,
            )
        else:
            continue
        same = next((x for x in snap.windows if x.label == w.label), None)
        if same is None:
            snap.windows.append(w)
        elif (w.used or 0.0) > (same.used or 0.0):  # two windows of one length: the fuller
            snap.windows[snap.windows.index(same)] = w
    return snap


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


def snapshots_in_file(path: Path, fallback_ts: float) -> Iterator[Snapshot]:
    """Every reading in one rollout file, in file order (replays and stale ones left out)."""
    from rota.resettime import parse_iso

    fork_at: float | None = None
    for line in _lines(path):
        is_meta = '"session_meta"' in line
        if not is_meta and '"rate_limits"' not in line:
            continue
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if not isinstance(obj, dict):
            continue
        ts_raw = obj.get("timestamp")
        ts = parse_iso(ts_raw) if isinstance(ts_raw, str) else None
        ts = fallback_ts if ts is None or not math.isfinite(ts) else ts
        payload = obj.get("payload") if isinstance(obj.get("payload"), dict) else obj.get("msg")
        if not isinstance(payload, dict):
            continue
        if obj.get("type") == "session_meta":
            if payload.get("forked_from_id"):
                fork_at = ts
            continue
        if payload.get("type") != "token_count":
            continue
        rl = payload.get("rate_limits")
        if not isinstance(rl, dict):
            continue
        if fork_at is not None and ts <= fork_at + REPLAY_SLACK_S:
            continue  # the fork replaying its parent's history
        snap = parse_snapshot(rl, ts)
        if snap.stale():
            continue
        snap.path = path
        yield snap


@dataclass(slots=True)
class Readings:
    """The newest reading of each limit (by limit_id), and the newest plan and credits seen."""

    limits: dict[str, Snapshot] = field(default_factory=dict)
    plan_type: str = ""
    credits: dict[str, Any] | None = None
    files_read: int = 0
    _plan_at: float = -math.inf
    _credits_at: float = -math.inf

    def add(self, snap: Snapshot) -> None:
        if snap.plan_type and snap.at >= self._plan_at:
            self.plan_type, self._plan_at = snap.plan_type, snap.at
        if snap.credits is not None and snap.at >= self._credits_at:
            self.credits, self._credits_at = snap.credits, snap.at
        if not snap.windows:
            return  # a credits-only snapshot erases no window
        old = self.limits.get(snap.limit_id)
        if old is None or snap.at >= old.at:
            self.limits[snap.limit_id] = snap

    @property
    def newest(self) -> float | None:
        return max((s.at for s in self.limits.values()), default=None)


def read_rollouts(home: Path) -> Readings:
    """The newest readings over the newest rollout files."""
    out = Readings()
    for path in candidate_files(home):
        try:
            mtime = path.stat().st_mtime
        except OSError:
            continue
        main = out.limits.get(MAIN_LIMIT)
        # A file last written before the newest reading found cannot hold a newer one.
        if main is not None and mtime < main.at - MTIME_SLACK:
            break
        if out.files_read >= MAX_FILES_READ:
            break
        out.files_read += 1
        for snap in snapshots_in_file(path, mtime):
            out.add(snap)
    return out


# ---------------------------------------------------------------------------------------------
# States


def _limit_arms(harness: str, name: str, models: tuple[str, ...]) -> list[str]:
    """The arms a per-model limit covers: the configured models named as limit_name says."""
    arms = [f"{harness}:{m}" for m in models if m.lower() == name.lower()]
    return arms or [f"{harness}:{name}"]


def _about(r: Readings) -> str:
    parts = []
    if r.plan_type:
        parts.append(f"plan {r.plan_type}")
    c = r.credits
    if c:
        if c.get("unlimited") is True:
            parts.append("unlimited credits")
        elif c.get("has_credits") is True and c.get("balance") not in (None, ""):
            parts.append(f"credits {c.get('balance')}")
        elif c.get("has_credits") is False:
            parts.append("no credits")
    return f" ({', '.join(parts)})" if parts else ""


def _state(
    scope_kind: str, scope: str, w: Window, snap: Snapshot, now: float, about: str
) -> QuotaState:
    seen = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(snap.at))
    minutes = w.minutes or DEFAULT_MINUTES.get(
        {"five_hour": "primary", "seven_day": "secondary"}.get(w.label, ""), None
    )
    what = f"limit {snap.limit_name or snap.limit_id} " if scope_kind == "arm" else ""
    if w.resets_at is not None and w.resets_at <= now:
        was = f"{100 * w.used:g}% used" if w.used is not None else "its last figure"
        return QuotaState(
            scope_kind,
            scope,
            w.label,
            True,
            0.0,
            None,
            "logs",
            f"{what}window reset since {seen} ({was} then){about}",
            minutes,
            now,
        )
    return QuotaState(
        scope_kind,
        scope,
        w.label,
        None if w.used is None else w.used < 1.0,
        w.used,
        w.resets_at,
        "logs",
        f"{what}as of {seen}{about}",
        minutes,
        now,
    )


def states_from_readings(
    r: Readings, harness: str, models: tuple[str, ...], now: float
) -> list[QuotaState]:
    """The main limit's windows on the harness; a per-model limit's on the arms of its model (a
    per-model limit without a model name says nothing rota can attribute)."""
    out: list[QuotaState] = []
    about = _about(r)
    for lid, snap in sorted(r.limits.items(), key=lambda kv: kv[0] != MAIN_LIMIT):
        if lid == MAIN_LIMIT:
            scopes = [("harness", harness)]
        elif snap.limit_name:
            scopes = [("arm", a) for a in _limit_arms(harness, snap.limit_name, models)]
        else:
            continue
        for kind, scope in scopes:
            out.extend(_state(kind, scope, w, snap, now, about) for w in snap.windows)
    return out


def probe(ctx: ProbeContext, name: str) -> list[QuotaState]:
    harness = ctx.harness or name
    readings = read_rollouts(codex_home(ctx))
    states = states_from_readings(readings, harness, ctx.models, ctx.now)
    if states:
        return states
    shown = "$CODEX_HOME" if ctx.env.get("CODEX_HOME") else "~/.codex"
    reason = (
        "the newest rate_limits have no window"
        if readings.files_read and (readings.plan_type or readings.credits is not None)
        else f"no rate_limits in rollout files under {shown}/sessions yet"
    )
    return [
        QuotaState(
            "harness", harness, "rollout", None, source="logs", reason=reason, observed_at=ctx.now
        )
    ]
