"""Where unit files live, and talking to systemd's managers through systemctl.

Nothing here raises when systemd is absent (containers, macOS): a missing binary, a manager that
is not running or a hang becomes a result that says so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from rota.errors import RotaError, UsageError
from rota.systemd.units import SERVICE_NAME, TIMER_NAME, is_generated

SYSTEM_UNIT_DIR = Path("/etc/systemd/system")
SUBPROCESS_TIMEOUT_S = 15.0


class SystemdError(RotaError):
    """A `rota systemd` command could not do its job (exit 1); the message says why and the fix."""

    exit_code = 1


# The scope a unit directory belongs to: "user", "system", or "dir" (no manager reads it).
USER, SYSTEM, PLAIN_DIR = "user", "system", "dir"


def user_unit_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(base) / "systemd" / "user"


def unit_dir(*, system: bool) -> Path:
    return SYSTEM_UNIT_DIR if system else user_unit_dir()


def standard_unit_dirs() -> list[tuple[Path, str]]:
    """The directories systemd's managers read local units from, with their scope."""
    data = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return [
        (user_unit_dir(), USER),
        (data / "systemd" / "user", USER),
        (Path("/etc/systemd/user"), USER),
        (SYSTEM_UNIT_DIR, SYSTEM),
        (Path("/usr/local/lib/systemd/system"), SYSTEM),
    ]


def scope_of_dir(d: Path) -> str:
    """The manager that reads `d` (USER or SYSTEM) when it is a standard directory, else PLAIN_DIR.

    This is what `--unit-dir` means on every `rota systemd` command: systemctl is told about
    the units only when a manager reads the directory.
    """
    try:
        resolved = d.resolve()
    except OSError:
        resolved = d
    for std, scope in standard_unit_dirs():
        try:
            if std.resolve() == resolved:
                return scope
        except OSError:
            continue
    return PLAIN_DIR


@dataclass(frozen=True, slots=True)
class Target:
    """Where a `rota systemd` command reads or writes units, and whether systemctl is told."""

    unit_dir: Path
    system: bool
    managed: bool  # a manager reads unit_dir: systemctl is told about changes and asked for state

    @property
    def scope(self) -> str:
        return SYSTEM if self.system else USER


def target(unit_dir_arg: Path | None, system: bool | None) -> Target:
    """The target for `--unit-dir DIR` (None: the standard directory) and `--system`/`--user`
    (None: neither given; user units unless DIR is a system directory)."""
    if unit_dir_arg is None:
        return Target(unit_dir(system=bool(system)), bool(system), True)
    d = unit_dir_arg.expanduser()
    scope = scope_of_dir(d)
    if scope == PLAIN_DIR:
        return Target(d, bool(system), False)
    dir_system = scope == SYSTEM
    if system is not None and system != dir_system:
        raise UsageError(
            f"--unit-dir {d} holds {scope} units, but --{'user' if dir_system else 'system'} "
            f"was given; drop one of them"
        )
    return Target(d, dir_system, True)


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

    @property
    def error(self) -> str:
        """The last line systemctl said about a failure ("" when it succeeded)."""
        if self.ok:
            return ""
        lines = (
            self.stderr.strip() or self.stdout.strip() or f"exit {self.returncode}"
        ).splitlines()
        return lines[-1] if lines else ""


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


def shown(args: Sequence[str], *, system: bool) -> str:
    """The command as a person would type it: `systemctl --user enable rota.timer`."""
    return " ".join(["systemctl", *([] if system else ["--user"]), *args])


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


def timer_active_state(*, system: bool) -> str:
    """`systemctl is-active rota.timer`: active, inactive, failed, … or unknown."""
    res = systemctl(["is-active", TIMER_NAME], system=system, timeout=SUBPROCESS_TIMEOUT_S)
    return res.stdout.strip() or "unknown"


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


def linger_enabled(user: str) -> bool | None:
    """Whether the user's manager keeps running after logout (`loginctl`); None = cannot tell."""
    exe = shutil.which("loginctl")
    if not exe:
        return None
    try:
        proc = subprocess.run(
            [exe, "show-user", user, "--property=Linger", "--value"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    value = proc.stdout.strip()
    return True if value == "yes" else False if value == "no" else None
