"""The schedule: systemd calendar expressions, the two generated units, and talking to systemctl.

Three parts, all used by `rota systemd …` and `rota health`:
- a parser for systemd calendar expressions (systemd.time(7)) that computes the next elapse without
  systemd (containers, macOS); `next_elapse` prefers `systemd-analyze calendar` where it exists;
- rendering of exactly two units, rota.timer and rota.service, marked as generated;
- small wrappers around systemctl that never raise when systemd is absent.

Nothing here is imported by `rota select`.
"""

from __future__ import annotations

import calendar as _calendar
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path

TIMER_NAME = "rota.timer"
SERVICE_NAME = "rota.service"
UNIT_NAMES = (TIMER_NAME, SERVICE_NAME)
SYSTEM_UNIT_DIR = Path("/etc/systemd/system")
# The marker `uninstall` checks before it removes anything.
GENERATED_MARKER = "# rota-generated-unit"

EXIT_BUSY = 75
EXIT_EXHAUSTED = 76
EXIT_SIGTERM = 128 + 15  # rota stopped by SIGTERM (systemctl stop, shutdown) exits 143
# Margin on top of the longest harness timeout: quota probes, tests, the grader, the kill grace.
START_TIMEOUT_MARGIN_S = 30 * 60
SUBPROCESS_TIMEOUT_S = 15.0


# =============================================================================================
# Calendar expressions


class CalendarError(ValueError):
    """A calendar expression this parser cannot read (message says what and where)."""


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_FULL = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_SHORTHANDS = {
    "minutely": "*-*-* *:*:00",
    "hourly": "*-*-* *:00:00",
    "daily": "*-*-* 00:00:00",
    "monthly": "*-*-01 00:00:00",
    "weekly": "Mon *-*-* 00:00:00",
    "yearly": "*-01-01 00:00:00",
    "annually": "*-01-01 00:00:00",
    "quarterly": "*-01,04,07,10-01 00:00:00",
    "semiannually": "*-01,07-01 00:00:00",
}
# systemd accepts years up to 2199; search no further.
_MAX_YEAR = 2199
_FIELD_RANGES = {
    "year": (1970, _MAX_YEAR),
    "month": (1, 12),
    "day": (1, 31),
    "hour": (0, 23),
    "minute": (0, 59),
    "second": (0, 59),
}


@dataclass(frozen=True, slots=True)
class CalendarSpec:
    """One parsed calendar expression. A field of None matches every value."""

    expression: str
    weekdays: frozenset[int] | None = None  # 0 = Monday
    years: tuple[int, ...] | None = None
    months: tuple[int, ...] | None = None
    days: tuple[int, ...] | None = None
    days_from_end: bool = False  # `~`: 1 = the last day of the month
    hours: tuple[int, ...] | None = None
    minutes: tuple[int, ...] | None = None
    seconds: tuple[int, ...] | None = (0,)
    tz_name: str | None = None

    # -- parsing -----------------------------------------------------------------------------

    @classmethod
    def parse(cls, expression: str) -> CalendarSpec:
        text = expression.strip()
        if not text:
            raise CalendarError("empty calendar expression")
        tokens = text.split()
        if tokens[0].lower() in _SHORTHANDS:
            tokens = _SHORTHANDS[tokens[0].lower()].split() + tokens[1:]

        tz_name: str | None = None
        if len(tokens) > 1 and _looks_like_zone(tokens[-1]):
            tz_name = tokens.pop()
            _zone(tz_name)  # raises CalendarError for an unknown zone

        weekdays: frozenset[int] | None = None
        if tokens and tokens[0][:1].isalpha():
            weekdays = _parse_weekdays(tokens.pop(0))

        date_tok: str | None = None
        time_tok: str | None = None
        for tok in tokens:
            if ":" in tok and time_tok is None:
                time_tok = tok
            elif ("-" in tok or "~" in tok) and date_tok is None and time_tok is None:
                date_tok = tok
            else:
                raise CalendarError(f"cannot read {tok!r} in calendar expression {expression!r}")
        if weekdays is None and date_tok is None and time_tok is None:
            raise CalendarError(f"nothing to schedule in {expression!r}")

        years = months = days = None
        from_end = False
        if date_tok is not None:
            years, months, days, from_end = _parse_date(date_tok)
        hours: tuple[int, ...] | None = (0,)
        minutes: tuple[int, ...] | None = (0,)
        seconds: tuple[int, ...] | None = (0,)
        if time_tok is not None:
            parts = time_tok.split(":")
            if len(parts) not in (2, 3):
                raise CalendarError(f"expected HH:MM[:SS], got {time_tok!r}")
            hours = _parse_field(parts[0], "hour")
            minutes = _parse_field(parts[1], "minute")
            seconds = _parse_field(parts[2], "second") if len(parts) == 3 else (0,)
        return cls(
            expression=expression,
            weekdays=weekdays,
            years=years,
            months=months,
            days=days,
            days_from_end=from_end,
            hours=hours,
            minutes=minutes,
            seconds=seconds,
            tz_name=tz_name,
        )

    # -- evaluation --------------------------------------------------------------------------

    def zone(self) -> tzinfo:
        return _zone(self.tz_name) if self.tz_name else local_zone()

    def next_after(self, after: datetime) -> datetime | None:
        """The first elapse strictly after `after` (aware), as an aware datetime; None = never."""
        if after.tzinfo is None:
            raise ValueError("next_after needs an aware datetime")
        tz = self.zone()
        wall = after.astimezone(tz).replace(microsecond=0, tzinfo=None) + timedelta(seconds=1)
        for _ in range(1000):  # each round skips one wall time that DST made invalid
            cand = self._next_wall(wall)
            if cand is None:
                return None
            aware = cand.replace(tzinfo=tz)
            # A wall time inside a spring-forward gap does not exist: skip it.
            back = aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
            if back == cand and aware > after:
                return aware
            wall = cand + timedelta(seconds=1)
        return None

    def iter_after(self, after: datetime, count: int) -> list[datetime]:
        out: list[datetime] = []
        t = after
        for _ in range(count):
            nxt = self.next_after(t)
            if nxt is None:
                break
            out.append(nxt)
            t = nxt
        return out

    def _next_wall(self, start: datetime) -> datetime | None:
        """First naive wall time >= start that matches every field."""
        years = self.years if self.years is not None else range(start.year, _MAX_YEAR + 1)
        for y in years:
            if y < start.year:
                continue
            y_lo = y == start.year
            for m in self.months or range(1, 13):
                if y_lo and m < start.month:
                    continue
                m_lo = y_lo and m == start.month
                for d in self._days(y, m):
                    if m_lo and d < start.day:
                        continue
                    if self.weekdays is not None and date(y, m, d).weekday() not in self.weekdays:
                        continue
                    d_lo = m_lo and d == start.day
                    found = self._time_on(y, m, d, start if d_lo else None)
                    if found is not None:
                        return found
        return None

    def _days(self, y: int, m: int) -> list[int]:
        dim = _calendar.monthrange(y, m)[1]
        if self.days is None:
            return list(range(1, dim + 1))
        if self.days_from_end:
            return sorted(dim - v + 1 for v in self.days if v <= dim)
        return [d for d in self.days if d <= dim]

    def _time_on(self, y: int, m: int, d: int, lower: datetime | None) -> datetime | None:
        for h in self.hours or range(24):
            if lower is not None and h < lower.hour:
                continue
            h_lo = lower is not None and h == lower.hour
            for mi in self.minutes or range(60):
                if h_lo and lower is not None and mi < lower.minute:
                    continue
                mi_lo = h_lo and lower is not None and mi == lower.minute
                for s in self.seconds or range(60):
                    if mi_lo and lower is not None and s < lower.second:
                        continue
                    return datetime(y, m, d, h, mi, s)
        return None

    def describe(self) -> str:
        """A normalized form close to systemd's, for messages."""
        parts: list[str] = []
        if self.weekdays is not None:
            parts.append(",".join(_WEEKDAYS[i].title() for i in sorted(self.weekdays)))
        sep = "~" if self.days_from_end else "-"
        parts.append(f"{_fmt(self.years, 4)}-{_fmt(self.months, 2)}{sep}{_fmt(self.days, 2)}")
        parts.append(f"{_fmt(self.hours, 2)}:{_fmt(self.minutes, 2)}:{_fmt(self.seconds, 2)}")
        if self.tz_name:
            parts.append(self.tz_name)
        return " ".join(parts)


def _fmt(values: tuple[int, ...] | None, width: int) -> str:
    if values is None:
        return "*"
    return ",".join(f"{v:0{width}d}" for v in values)


def _looks_like_zone(tok: str) -> bool:
    if ":" in tok or tok.lower().split(",")[0].split("..")[0] in _WEEKDAYS + _WEEKDAY_FULL:
        return False
    return "/" in tok and tok[:1].isalpha() or tok.isalpha() and tok.upper() == tok


def _parse_weekdays(tok: str) -> frozenset[int]:
    out: set[int] = set()
    for item in tok.split(","):
        if ".." in item:
            a, _, b = item.partition("..")
        elif "-" in item:
            a, _, b = item.partition("-")
        else:
            a = b = item
        lo, hi = _weekday(a), _weekday(b)
        if lo > hi:
            raise CalendarError(f"weekday range {item!r} runs backwards (write Mon..Sun order)")
        out.update(range(lo, hi + 1))
    return frozenset(out)


def _weekday(name: str) -> int:
    n = name.strip().lower()
    if n in _WEEKDAYS:
        return _WEEKDAYS.index(n)
    if n in _WEEKDAY_FULL:
        return _WEEKDAY_FULL.index(n)
    raise CalendarError(f"unknown weekday {name!r}; expected Mon..Sun")


def _parse_date(
    tok: str,
) -> tuple[tuple[int, ...] | None, tuple[int, ...] | None, tuple[int, ...] | None, bool]:
    from_end = "~" in tok
    if from_end:
        head, _, day_part = tok.partition("~")
        head_parts = head.split("-")
    else:
        parts = tok.split("-")
        head_parts, day_part = parts[:-1], parts[-1]
    if len(head_parts) == 1:
        year_part, month_part = "*", head_parts[0]
    elif len(head_parts) == 2:
        year_part, month_part = head_parts
    else:
        raise CalendarError(f"expected [YYYY-]MM-DD, got {tok!r}")
    years = _parse_field(year_part, "year")
    if years is not None:
        # systemd reads two-digit years as 1970-2069.
        years = tuple(sorted({y + (2000 if y < 70 else 1900) if y < 100 else y for y in years}))
    return years, _parse_field(month_part, "month"), _parse_field(day_part, "day"), from_end


def _parse_field(text: str, name: str) -> tuple[int, ...] | None:
    if text == "*":
        return None
    lo_lim, hi_lim = _FIELD_RANGES[name]
    if name == "year":
        lo_lim = 0  # two-digit years are mapped afterwards
    values: set[int] = set()
    for item in text.split(","):
        rep = None
        if "/" in item:
            item, _, rep_s = item.partition("/")
            rep = _int(rep_s, name)
            if rep < 1:
                raise CalendarError(f"{name}: repetition must be >= 1, got {rep_s!r}")
        if item == "*":
            raise CalendarError(f"{name}: write 0/{rep} rather than */{rep}")
        if ".." in item:
            a, _, b = item.partition("..")
            lo, hi = _int(a, name), _int(b, name)
        else:
            lo = _int(item, name)
            hi = lo if rep is None else hi_lim
        if not (lo_lim <= lo <= hi_lim and lo_lim <= hi <= hi_lim) or lo > hi:
            raise CalendarError(f"{name} {item!r} is outside {lo_lim}..{hi_lim}")
        values.update(range(lo, hi + 1, rep or 1))
    return tuple(sorted(values))


def _int(text: str, name: str) -> int:
    if not text.isdigit():
        if re.fullmatch(r"\d+\.\d+", text):
            raise CalendarError(f"{name}: fractional values like {text!r} are not supported here")
        raise CalendarError(f"{name}: expected a number, got {text!r}")
    return int(text)


def _zone(name: str) -> tzinfo:
    if name.upper() in ("UTC", "GMT", "Z"):
        return UTC
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarError(f"unknown time zone {name!r}") from None


def local_zone() -> tzinfo:
    """The system's local zone with its DST rules ($TZ, then /etc/localtime), else a fixed offset."""
    from zoneinfo import ZoneInfo

    tz_env = os.environ.get("TZ", "").lstrip(":")
    if tz_env:
        try:
            return _zone(tz_env)
        except CalendarError:
            pass
    try:
        with open("/etc/localtime", "rb") as fh:
            return ZoneInfo.from_file(fh, key="localtime")
    except (OSError, ValueError):
        pass
    fixed = datetime.now().astimezone().tzinfo
    return fixed if fixed is not None else UTC


def _parse_analyze_time(text: str) -> float | None:
    # "Wed 2025-01-01 00:30:00 UTC"
    m = re.search(r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) UTC\b", text)
    if not m:
        return None
    return datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp()


@dataclass(frozen=True, slots=True)
class Elapse:
    """The next elapse of a calendar expression and who computed it."""

    at: float | None  # epoch seconds; None = never
    source: str  # "systemd-analyze" or "rota"


def next_elapse(expression: str, after: float, *, use_systemd_analyze: bool = True) -> Elapse:
    """Next elapse strictly after `after` (epoch seconds).

    `systemd-analyze calendar` is the authority where it is installed; rota's own parser is the
    fallback. Raises CalendarError when neither can read the expression.
    """
    if use_systemd_analyze:
        exe = shutil.which("systemd-analyze")
        if exe:
            try:
                proc = subprocess.run(
                    [exe, "calendar", "--iterations=1", f"--base-time=@{int(after)}", expression],
                    capture_output=True,
                    text=True,
                    timeout=SUBPROCESS_TIMEOUT_S,
                    check=False,
                )
            except (OSError, subprocess.SubprocessError):
                proc = None
            if proc is not None and proc.returncode == 0:
                for line in proc.stdout.splitlines():
                    key, _, value = line.strip().partition(":")
                    if key in ("Next elapse", "(in UTC)"):
                        if value.strip() == "never":
                            return Elapse(None, "systemd-analyze")
                        if key == "(in UTC)" or value.strip().endswith(" UTC"):
                            ts = _parse_analyze_time(value)
                            if ts is not None:
                                return Elapse(ts, "systemd-analyze")
            elif proc is not None and proc.returncode != 0:
                msg = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
                raise CalendarError(
                    msg[-1] if msg else f"invalid calendar expression {expression!r}"
                )
    spec = CalendarSpec.parse(expression)
    nxt = spec.next_after(datetime.fromtimestamp(after, UTC))
    return Elapse(None if nxt is None else nxt.timestamp(), "rota")


def validate_calendar(expression: str) -> None:
    """Raise CalendarError unless the expression is valid: systemd-analyze decides where installed,
    rota's parser elsewhere."""
    import time

    next_elapse(expression, time.time(), use_systemd_analyze=True)


# =============================================================================================
# Units


@dataclass(frozen=True, slots=True)
class UnitSettings:
    """Everything the two generated units depend on."""

    rota_path: str
    config_path: str
    on_calendar: str = "*-*-* *:00,30:00"
    randomized_delay_sec: int = 120
    persistent: bool = True
    retry_interval_minutes: float = 10.0
    timeout_start_sec: int = 60 * 60 + START_TIMEOUT_MARGIN_S
    timeout_stop_sec: int = 40
    system: bool = False
    user: str | None = None  # User= for system units
    environment: Mapping[str, str] = field(default_factory=dict)

    @property
    def restart_sec(self) -> int:
        return max(1, round(self.retry_interval_minutes * 60))


# Environment the service inherits from the shell that ran `install`: where harness CLIs are found
# and where rota keeps its state. Paths only; never tokens.
CAPTURED_ENV = ("PATH", "ROTA_STATE_DIR", "XDG_STATE_HOME")

# Signals that restart under Restart=on-failure unless prevented (SIGHUP, SIGINT, SIGTERM and
# SIGPIPE count as clean already). A crash must show as a failed unit, not loop.
_CRASH_SIGNALS = (
    "SIGABRT SIGALRM SIGBUS SIGFPE SIGILL SIGKILL SIGQUIT SIGSEGV SIGSYS SIGTRAP SIGUSR1 SIGUSR2 "
    "SIGXCPU SIGXFSZ"
)


def settings_from_config(
    cfg: object,
    *,
    rota_path: str,
    config_path: str,
    system: bool = False,
    user: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> UnitSettings:
    """Build UnitSettings from a rota Config (duck-typed: only .schedule, .harnesses, .run)."""
    sched = getattr(cfg, "schedule", None)
    harnesses = getattr(cfg, "harnesses", {}) or {}
    longest = max((float(h.timeout_minutes) for h in harnesses.values()), default=60.0)
    grace = float(getattr(getattr(cfg, "run", None), "kill_grace_seconds", 10.0))
    env_src = os.environ if environ is None else environ
    env = {k: env_src[k] for k in CAPTURED_ENV if env_src.get(k)}
    return UnitSettings(
        rota_path=rota_path,
        config_path=config_path,
        on_calendar=str(getattr(sched, "on_calendar", "*-*-* *:00,30:00")).strip(),
        randomized_delay_sec=int(getattr(sched, "randomized_delay_sec", 120)),
        persistent=bool(getattr(sched, "persistent", True)),
        retry_interval_minutes=float(getattr(sched, "retry_interval_minutes", 10.0)),
        timeout_start_sec=int(longest * 60) + START_TIMEOUT_MARGIN_S,
        timeout_stop_sec=int(grace) + 30,
        system=system,
        user=user,
        environment=env,
    )


def _check_value(value: str, what: str) -> str:
    if any(c in value for c in "\n\r\0"):
        raise ValueError(f"{what} contains a newline or NUL: {value!r}")
    return value


def quote_exec_word(word: str, *, executable: bool = False) -> str:
    """One argv word for ExecStart=: `%` escaped, quoted when it needs quoting.

    systemd expands `$VAR` in arguments (so `$` is doubled there) but not in the executable,
    and refuses an executable path holding quotes or backslashes.
    """
    _check_value(word, "ExecStart word")
    if executable and re.search(r"[\"'\\]|[\x00-\x1f\x7f]", word):
        raise ValueError(
            f"systemd refuses an executable path containing quotes or backslashes: {word!r}"
        )
    w = word.replace("%", "%%")
    if not executable:
        w = w.replace("$", "$$")
    if w and not re.search(r"[\s\"'\\;]", w):
        return w
    return '"' + w.replace("\\", "\\\\").replace('"', '\\"') + '"'


def quote_env(key: str, value: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
        raise ValueError(f"invalid environment variable name {key!r}")
    _check_value(value, f"environment value of {key}")
    assignment = f"{key}={value}".replace("%", "%%")
    return '"' + assignment.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _header(kind: str) -> list[str]:
    from rota import __version__

    return [
        f"# Generated by `rota systemd install` (rota {__version__}): the {kind} of rota's single",
        "# schedule. Change [schedule] in the config and re-run `rota systemd install` rather than",
        "# editing this file; `rota systemd uninstall` removes it.",
        GENERATED_MARKER,
    ]


def render_timer(s: UnitSettings) -> str:
    _check_value(s.on_calendar, "on_calendar")
    lines = _header("timer") + [
        "[Unit]",
        "Description=rota: one timer for all AI coding-agent harnesses",
        "",
        "[Timer]",
        f"OnCalendar={s.on_calendar}",
        f"RandomizedDelaySec={int(s.randomized_delay_sec)}",
        f"Persistent={'true' if s.persistent else 'false'}",
        f"Unit={SERVICE_NAME}",
        "",
        "[Install]",
        "WantedBy=timers.target",
    ]
    return "\n".join(lines) + "\n"


def render_service(s: UnitSettings) -> str:
    success = (EXIT_BUSY, EXIT_SIGTERM)
    prevent = [str(c) for c in range(1, 256) if c not in (*success, EXIT_EXHAUSTED)]
    exec_start = " ".join(
        [quote_exec_word(s.rota_path, executable=True)]
        + [quote_exec_word(w) for w in ("run", "--config", s.config_path)]
    )
    lines = _header("service") + ["[Unit]"]
    lines.append(
        "Description=rota: run the next AI coding-agent session (harness:model chosen by rota)"
    )
    if s.system:
        lines += ["Wants=network-online.target", "After=network-online.target"]
    lines += [
        "",
        "[Service]",
        "Type=oneshot",
        f"ExecStart={exec_start}",
    ]
    if s.user:
        _check_value(s.user, "user")
        lines.append(f"User={s.user}")
    for key in sorted(s.environment):
        lines.append(f"Environment={quote_env(key, s.environment[key])}")
    lines += [
        f"# The longest harness timeout plus {START_TIMEOUT_MARGIN_S // 60} min for quota probes, tests",
        "# and grading. rota stops a harness itself; this only catches a hang.",
        f"TimeoutStartSec={int(s.timeout_start_sec)}",
        "# SIGTERM goes to rota alone, which stops the harness's process group and records it.",
        "KillMode=mixed",
        f"TimeoutStopSec={int(s.timeout_stop_sec)}",
        f"# {EXIT_BUSY}: another session holds the workspace lock: a skip, not a failure.",
        f"# {EXIT_SIGTERM}: stopped by `systemctl stop` or shutdown (rota records it as interrupted).",
        f"SuccessExitStatus={EXIT_BUSY} {EXIT_SIGTERM}",
        f"# {EXIT_EXHAUSTED}: every arm is exhausted or blocked: retry after [schedule]",
        "# retry_interval_minutes instead of waiting for the next slot. Type=oneshot refuses",
        "# RestartForceExitStatus=, and exit-status lists take no ranges (systemd 252), so: restart",
        "# on failure, but not for any other exit status or crash signal (those stay a failed",
        "# unit). systemd cannot exempt a start timeout (a hang past TimeoutStartSec): it is retried.",
        "Restart=on-failure",
        f"RestartSec={s.restart_sec}",
    ]
    for i in range(0, len(prevent), 32):
        lines.append("RestartPreventExitStatus=" + " ".join(prevent[i : i + 32]))
    lines.append(f"RestartPreventExitStatus={_CRASH_SIGNALS}")
    return "\n".join(lines) + "\n"


def render_units(s: UnitSettings) -> dict[str, str]:
    return {TIMER_NAME: render_timer(s), SERVICE_NAME: render_service(s)}


def is_generated(path: Path) -> bool:
    """True when the file carries rota's marker (only such files are replaced or removed)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return GENERATED_MARKER in head.splitlines()


def read_unit_setting(text: str, key: str) -> str | None:
    """The last value of `key=` in a unit file's text (enough for our own units)."""
    value = None
    for line in text.splitlines():
        k, sep, v = line.partition("=")
        if sep and k.strip() == key:
            value = v.strip()
    return value


# =============================================================================================
# Where units live, and systemctl


def user_unit_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(base) / "systemd" / "user"


def unit_dir(*, system: bool) -> Path:
    return SYSTEM_UNIT_DIR if system else user_unit_dir()


@dataclass(frozen=True, slots=True)
class SystemdState:
    """Whether a systemd manager we can talk to runs here, and why not."""

    running: bool
    detail: str


_RUNNING_STATES = {"running", "degraded", "starting", "initializing", "maintenance"}


def systemd_state(*, system: bool) -> SystemdState:
    """Probe for a usable manager (system, or the user's). Never raises."""
    exe = shutil.which("systemctl")
    if exe is None:
        return SystemdState(False, "systemctl is not installed")
    # sd_booted(): PID 1 is systemd exactly when this directory exists.
    if not Path("/run/systemd/system").is_dir():
        return SystemdState(False, "PID 1 is not systemd: no /run/systemd/system")
    args = [exe] + ([] if system else ["--user"]) + ["is-system-running"]
    try:
        proc = subprocess.run(
            args, capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return SystemdState(False, f"systemctl failed: {exc}")
    state = proc.stdout.strip() or proc.stderr.strip() or f"exit {proc.returncode}"
    if state in _RUNNING_STATES:
        return SystemdState(True, state)
    scope = "system" if system else "user"
    return SystemdState(False, f"the {scope} manager is not reachable ({state})")


@dataclass(frozen=True, slots=True)
class CommandResult:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def systemctl(args: Sequence[str], *, system: bool, timeout: float = 60.0) -> CommandResult:
    """Run `systemctl [--user] ARGS…`; a missing binary or a hang becomes a failed result."""
    exe = shutil.which("systemctl") or "systemctl"
    argv = [exe] + ([] if system else ["--user"]) + list(args)
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError:
        return CommandResult(tuple(argv), 127, "", "systemctl not found")
    except (OSError, subprocess.SubprocessError) as exc:
        return CommandResult(tuple(argv), 1, "", str(exc))
    return CommandResult(tuple(argv), proc.returncode, proc.stdout, proc.stderr)


def parse_systemd_timestamp(value: str) -> float | None:
    """`@1700000000` (from --timestamp=unix) or a plain microsecond count; n/a and 0 are None."""
    v = value.strip()
    if v.startswith("@"):
        v = v[1:]
    try:
        ts = float(v)
    except ValueError:
        return None
    if ts <= 0:
        return None
    return ts / 1e6 if ts > 1e11 else ts


@dataclass(frozen=True, slots=True)
class TimerStatus:
    active_state: str = "unknown"  # active, inactive, failed, … or unknown
    sub_state: str = ""
    unit_file_state: str = ""  # enabled, disabled, …
    next_at: float | None = None
    last_at: float | None = None


def timer_status(*, system: bool) -> TimerStatus | None:
    """Ask systemd about rota.timer; None when systemctl cannot tell."""
    res = systemctl(
        [
            "show",
            TIMER_NAME,
            "--timestamp=unix",
            "-p",
            "ActiveState,SubState,UnitFileState,LoadState,NextElapseUSecRealtime,LastTriggerUSec",
        ],
        system=system,
        timeout=SUBPROCESS_TIMEOUT_S,
    )
    if not res.ok:
        return None
    props: dict[str, str] = {}
    for line in res.stdout.splitlines():
        k, sep, v = line.partition("=")
        if sep:
            props[k.strip()] = v.strip()
    return TimerStatus(
        active_state=props.get("ActiveState", "unknown") or "unknown",
        sub_state=props.get("SubState", ""),
        unit_file_state=props.get("UnitFileState", ""),
        next_at=parse_systemd_timestamp(props.get("NextElapseUSecRealtime", "")),
        last_at=parse_systemd_timestamp(props.get("LastTriggerUSec", "")),
    )


@dataclass(frozen=True, slots=True)
class Installation:
    """Where rota's units are installed (if at all)."""

    unit_dir: Path
    system: bool
    timer: bool
    service: bool

    @property
    def installed(self) -> bool:
        return self.timer and self.service


def find_installation(
    *, unit_dir_override: Path | None = None, system: bool | None = None
) -> Installation | None:
    """The installation to report on: the given dir, else user then system units."""
    if unit_dir_override is not None:
        candidates = [(unit_dir_override, bool(system))]
    elif system is None:
        candidates = [(user_unit_dir(), False), (SYSTEM_UNIT_DIR, True)]
    else:
        candidates = [(unit_dir(system=system), system)]
    for d, sys_scope in candidates:
        timer = is_generated(d / TIMER_NAME)
        service = is_generated(d / SERVICE_NAME)
        if timer or service:
            return Installation(d, sys_scope, timer, service)
    return None


def resolve_rota_path() -> str | None:
    """Absolute path of the installed `rota` (the running one when invoked as rota)."""
    argv0 = sys.argv[0] if sys.argv else ""
    if argv0 and Path(argv0).name == "rota":
        p = Path(argv0)
        if not p.is_absolute():
            found = shutil.which(argv0) if os.sep not in argv0 else str(p.resolve())
            p = Path(found) if found else p
        if p.is_file() and os.access(p, os.X_OK):
            return str(p.resolve())
    found = shutil.which("rota")
    return str(Path(found).resolve()) if found else None


def format_when(ts: float | None, now: float) -> str:
    """`2026-11-27 23:00:00 UTC (in 14 min)`, in local time with the zone's abbreviation."""
    if ts is None:
        return "never"
    dt = datetime.fromtimestamp(ts, local_zone())
    delta = ts - now
    rel = _human_duration(abs(delta))
    when = f"in {rel}" if delta >= 0 else f"{rel} ago"
    return f"{dt:%Y-%m-%d %H:%M:%S %Z} ({when})"


def _human_duration(seconds: float) -> str:
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        h, m = divmod(s // 60, 60)
        return f"{h} h {m} min" if m else f"{h} h"
    d, rem = divmod(s, 86400)
    return f"{d} d {rem // 3600} h" if rem // 3600 else f"{d} d"


def human_duration(seconds: float) -> str:
    return _human_duration(seconds)
