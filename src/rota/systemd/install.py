"""`rota systemd install` and `uninstall`: write or remove exactly rota.timer and rota.service,
and tell systemd. Each returns a result to render; nothing here prints.

A unit is replaced or removed only when it carries rota's marker (or with --force on install).
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rota.errors import ConfigError
from rota.systemd import analyze, systemctl
from rota.systemd.settings import (
    Program,
    calendar_value,
    service_path,
    session_programs,
    settings_from_config,
)
from rota.systemd.systemctl import SystemdError, SystemdState, Target
from rota.systemd.units import (
    SERVICE_NAME,
    TIMER_NAME,
    UNIT_NAMES,
    UnitSettings,
    calendar_lines,
    is_generated,
    render_units,
)


@dataclass(frozen=True, slots=True)
class Step:
    """One systemctl call or file change, in the order it happened."""

    action: str  # "systemctl" or "remove"
    what: str  # the command as typed, or the path
    ok: bool
    error: str = ""
    quiet: bool = False  # housekeeping the text output does not show

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "what": self.what, "ok": self.ok, "error": self.error}


def _call(args: list[str], target: Target, *, quiet: bool = False) -> Step:
    res = systemctl.systemctl(args, system=target.system)
    return Step("systemctl", systemctl.shown(args, system=target.system), res.ok, res.error, quiet)


def _target_dict(target: Target) -> dict[str, Any]:
    return {"unit_dir": str(target.unit_dir), "scope": target.scope, "managed": target.managed}


# ---------------------------------------------------------------------------------------------
# install


@dataclass(frozen=True, slots=True)
class InstallOptions:
    unit_dir: Path | None = None  # --unit-dir
    system: bool | None = None  # --system / --user; None = neither given
    enable: bool = True  # not --no-enable
    rota_path: str | None = None
    run_as: str | None = None
    force: bool = False


@dataclass(frozen=True, slots=True)
class UnitFile:
    name: str
    path: Path
    action: str  # written, updated or unchanged


@dataclass(slots=True)
class InstallResult:
    target: Target
    settings: UnitSettings
    units: list[UnitFile]
    calendar_checked: bool  # systemd-analyze read every expression
    next_fire: analyze.Elapse
    missing: tuple[Program, ...]  # programs the service cannot find
    store_url_in_env: bool  # $ROTA_STORE_URL is set here and deliberately not copied
    systemd: SystemdState | None = None  # None: a --unit-dir no manager reads
    steps: list[Step] = field(default_factory=list)
    linger: bool | None = None  # user units: does the user's manager outlive a logout?

    @property
    def changed(self) -> bool:
        return any(u.action != "unchanged" for u in self.units)

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.steps if not s.quiet)

    def to_dict(self) -> dict[str, Any]:
        from rota.timefmt import iso

        s = self.settings
        return {
            **_target_dict(self.target),
            "units": [
                {"name": u.name, "path": str(u.path), "action": u.action} for u in self.units
            ],
            "schedule": {
                "on_calendar": list(s.calendars),
                "checked_by": analyze.SOURCE if self.calendar_checked else None,
                "randomized_delay_sec": s.randomized_delay_sec,
                "persistent": s.persistent,
                "retry_after_s": s.restart_sec,
            },
            "next_fire": {
                "at": self.next_fire.at,
                "at_iso": iso(self.next_fire.at),
                "source": self.next_fire.source,
            },
            "environment": dict(s.environment),
            "missing_programs": [{"name": p.name, "owner": p.owner} for p in self.missing],
            "systemd": None
            if self.systemd is None
            else {"running": self.systemd.running, "detail": self.systemd.detail},
            "steps": [st.to_dict() for st in self.steps],
            "linger": self.linger,
            "ok": self.ok,
        }


def check_calendars(calendars: tuple[str, ...], config_path: str) -> bool:
    """ConfigError naming the expression systemd rejects; False when nothing here can check."""
    checked = True
    for i, expr in enumerate(calendars):
        key = "schedule.on_calendar" + (f"[{i}]" if len(calendars) > 1 else "")
        try:
            checked = analyze.check(expr) and checked
        except analyze.CalendarError as exc:
            raise ConfigError(
                f"invalid calendar expression {expr!r}: {exc} "
                '(see `man systemd.time`; e.g. "*-*-* *:00,30:00")',
                path=config_path,
                key=key,
            ) from None
    return checked


def _rota_executable(given: str | None) -> str:
    rota_path = given or systemctl.resolve_rota_path()
    if not rota_path:
        raise SystemdError(
            "cannot find the rota executable on PATH; pass --rota-path /path/to/rota"
        )
    rota_path = str(Path(rota_path).expanduser().resolve())
    if not (Path(rota_path).is_file() and os.access(rota_path, os.X_OK)):
        raise SystemdError(f"{rota_path} is not an executable file (--rota-path)")
    return rota_path


def _write_owner_only(path: Path, text: str) -> None:
    """Write atomically (temp file + rename) with mode 0600."""
    tmp = path.with_name(f".{path.name}.rota-tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise


def _write_units(target: Target, texts: dict[str, str], *, force: bool) -> list[UnitFile]:
    d = target.unit_dir
    for name in texts:
        path = d / name
        if path.exists() and not is_generated(path) and not force:
            raise SystemdError(
                f"{path} exists and was not written by rota; move it away or pass --force"
            )
    out: list[UnitFile] = []
    try:
        d.mkdir(parents=True, exist_ok=True, mode=0o700)
        for name, text in texts.items():
            path = d / name
            try:
                current: str | None = path.read_text(encoding="utf-8")
            except OSError:
                current = None
            if current == text:
                out.append(UnitFile(name, path, "unchanged"))
                continue
            _write_owner_only(path, text)
            out.append(UnitFile(name, path, "updated" if current is not None else "written"))
    except PermissionError as exc:
        hint = "run it with sudo" if target.system else "check the directory's permissions"
        raise SystemdError(f"cannot write {exc.filename or d}: permission denied; {hint}") from None
    except OSError as exc:
        raise SystemdError(f"cannot write units in {d}: {exc.strerror}") from None
    return out


def install(config: Any, opts: InstallOptions, *, now: float) -> InstallResult:
    """Check the schedule, write the units, and (where a manager reads them) reload systemd and
    enable and (re)start the timer. Raises ConfigError or SystemdError before writing anything
    when the units cannot be right."""
    cfg_path = str(Path(config.path or "").expanduser().resolve())
    checked = check_calendars(calendar_lines(calendar_value(config.schedule)), cfg_path)
    rota_path = _rota_executable(opts.rota_path)
    tgt = systemctl.target(opts.unit_dir, opts.system)
    run_as = None
    if tgt.system:
        run_as = opts.run_as or os.environ.get("SUDO_USER") or getpass.getuser()
        if run_as == "root" and not opts.run_as:
            run_as = None
    programs = session_programs(config)
    settings = settings_from_config(
        config,
        rota_path=rota_path,
        config_path=cfg_path,
        system=tgt.system,
        user=run_as,
        programs=programs,
    )
    try:
        texts = render_units(settings)
    except ValueError as exc:
        raise SystemdError(f"cannot write the units: {exc}") from None
    written = _write_units(tgt, texts, force=opts.force)
    try:
        nxt = analyze.next_elapse(settings.calendars, now)
    except analyze.CalendarError as exc:
        nxt = analyze.Elapse(None, None, str(exc))
    search = os.environ.get("PATH") or os.defpath
    result = InstallResult(
        target=tgt,
        settings=settings,
        units=written,
        calendar_checked=checked,
        next_fire=nxt,
        missing=service_path(programs, rota_path, search).missing,
        store_url_in_env=bool(os.environ.get("ROTA_STORE_URL")),
    )
    if not tgt.managed:
        return result
    result.systemd = systemctl.systemd_state(system=tgt.system)
    if not result.systemd.running:
        return result
    if result.changed:
        result.steps.append(_call(["daemon-reload"], tgt))
    if opts.enable:
        result.steps.append(_call(["enable", TIMER_NAME], tgt))
        # A running timer keeps its old schedule until restarted.
        result.steps.append(_call(["restart" if result.changed else "start", TIMER_NAME], tgt))
    if not tgt.system:
        result.linger = systemctl.linger_enabled(getpass.getuser())
    return result


# ---------------------------------------------------------------------------------------------
# uninstall


@dataclass(slots=True)
class UninstallResult:
    target: Target
    ours: list[Path]  # rota's units found there
    left_alone: list[Path]  # rota.timer/rota.service written by someone else
    systemd: SystemdState | None = None
    steps: list[Step] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.steps if not s.quiet)

    def to_dict(self) -> dict[str, Any]:
        return {
            **_target_dict(self.target),
            "found": [str(p) for p in self.ours],
            "left_alone": [str(p) for p in self.left_alone],
            "removed": [s.what for s in self.steps if s.action == "remove" and s.ok],
            "systemd": None
            if self.systemd is None
            else {"running": self.systemd.running, "detail": self.systemd.detail},
            "steps": [s.to_dict() for s in self.steps],
            "ok": self.ok,
        }


def _remove(path: Path) -> Step:
    try:
        path.unlink()
        return Step("remove", str(path), True)
    except OSError as exc:
        return Step("remove", str(path), False, exc.strerror or str(exc))


def uninstall(unit_dir: Path | None, system: bool | None) -> UninstallResult:
    """Stop and disable the timer and the service (where a manager reads the directory), then
    remove the two files if rota wrote them, and the enable link systemd may have left."""
    tgt = systemctl.target(unit_dir, system)
    result = UninstallResult(tgt, [], [])
    for name in UNIT_NAMES:
        path = tgt.unit_dir / name
        if path.exists():
            (result.ours if is_generated(path) else result.left_alone).append(path)
    if not result.ours:
        return result
    running = False
    if tgt.managed:
        result.systemd = systemctl.systemd_state(system=tgt.system)
        running = result.systemd.running
        if running:
            if any(p.name == TIMER_NAME for p in result.ours):
                result.steps.append(_call(["disable", "--now", TIMER_NAME], tgt))
            if any(p.name == SERVICE_NAME for p in result.ours):
                # Stops a session in progress (rota records it as interrupted).
                result.steps.append(_call(["stop", SERVICE_NAME], tgt))
    for path in result.ours:
        result.steps.append(_remove(path))
        # The enable symlink, when systemd could not remove it itself.
        link = tgt.unit_dir / "timers.target.wants" / path.name
        if link.is_symlink() and Path(os.readlink(link)).name == path.name:
            step = _remove(link)
            if step.ok:
                result.steps.append(step)
    if running:
        result.steps.append(_call(["daemon-reload"], tgt))
        result.steps.append(_call(["reset-failed", SERVICE_NAME], tgt, quiet=True))
    return result
