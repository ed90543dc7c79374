"""`rota systemd adopt`: find the per-backend timers and services rota replaces, suggest the
config that reproduces them, list other files that still name them, and disable them.

A unit is "per-backend" when its ExecStart runs a known agent CLI (see harness_call). Disabling
goes through systemctl and keeps every file; nothing here deletes anything.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rota.systemd import systemctl
from rota.systemd.harness_call import HarnessCall, find_harness, known_clis
from rota.systemd.suggest import ArmSuggestion, config_snippet, suggest_arms, suggest_on_calendar
from rota.systemd.systemctl import PLAIN_DIR, SYSTEM, SystemdError
from rota.systemd.unitfile import parse_unit, split_exec, unit_environment
from rota.systemd.units import is_generated

GREP_MAX_BYTES = 2 * 1024 * 1024
GREP_SKIP_DIRS = {".git", "node_modules", "__pycache__", ".venv", "venv", ".tox", ".mypy_cache"}
TIMER_KEYS = (
    "OnCalendar",
    "OnBootSec",
    "OnStartupSec",
    "OnActiveSec",
    "OnUnitActiveSec",
    "OnUnitInactiveSec",
    "RandomizedDelaySec",
    "Persistent",
)


@dataclass(frozen=True, slots=True)
class FoundTimer:
    name: str
    path: Path
    settings: tuple[tuple[str, str], ...]  # (key, value) from TIMER_KEYS, in file order
    enabled: bool | None  # from a timers.target.wants link next to it; None = cannot tell

    @property
    def on_calendar(self) -> list[str]:
        """The timer's calendar expressions, as systemd reads them: an empty `OnCalendar=`
        clears the ones before it."""
        out: list[str] = []
        for k, v in self.settings:
            if k == "OnCalendar":
                out = [*out, v] if v else []
        return out


@dataclass(frozen=True, slots=True)
class FoundUnit:
    """A per-backend service and the timer(s) that start it."""

    name: str
    path: Path
    scope: str  # "user", "system" or "dir" (a --unit-dir no manager reads)
    call: HarnessCall
    exec_start: str
    timers: tuple[FoundTimer, ...] = field(default_factory=tuple)
    timeout_start: str | None = None

    @property
    def stem(self) -> str:
        return self.name.rsplit(".", 1)[0]


def _timers_of(service: str, d: Path, timers: Sequence[Any]) -> list[FoundTimer]:
    mine = []
    for t in timers:
        target = t.value("Timer", "Unit") or (t.path.stem + ".service")
        if target == service:
            settings = tuple((k, v) for k, v in t.sections.get("Timer", ()) if k in TIMER_KEYS)
            wants = d / "timers.target.wants" / t.name
            enabled = True if wants.exists() or wants.is_symlink() else None
            mine.append(FoundTimer(t.name, t.path, settings, enabled))
    return mine


def scan(dirs: Iterable[tuple[Path, str]]) -> list[FoundUnit]:
    """Every service in `dirs` that runs a known harness, with its timers. Sorted by name."""
    found: list[FoundUnit] = []
    seen: set[str] = set()
    for d, scope in dirs:
        if not d.is_dir():
            continue
        try:
            entries = sorted(p for p in d.iterdir() if p.is_file())
        except OSError:
            continue
        timers = [t for t in (parse_unit(p) for p in entries if p.suffix == ".timer") if t]
        for p in entries:
            if p.suffix != ".service" or p.name in seen or is_generated(p):
                continue
            unit = parse_unit(p)
            if unit is None:
                continue
            env = unit_environment(unit)
            call = None
            exec_value = ""
            for value in unit.values("Service", "ExecStart"):
                argv = split_exec(value)
                if argv and os.path.basename(argv[0]) == "rota":
                    continue
                call = find_harness(argv, env)
                if call:
                    exec_value = value
                    break
            if call is None:
                continue
            seen.add(p.name)
            found.append(
                FoundUnit(
                    name=p.name,
                    path=p,
                    scope=scope,
                    call=call,
                    exec_start=exec_value,
                    timers=tuple(_timers_of(p.name, d, timers)),
                    timeout_start=unit.value("Service", "TimeoutStartSec")
                    or unit.value("Service", "TimeoutSec"),
                )
            )
    return sorted(found, key=lambda u: u.name)


# ---------------------------------------------------------------------------------------------
# Disabling, and finding references


def disable_argvs(unit: FoundUnit) -> list[list[str]]:
    """systemctl argv lists (without the binary and --user) that stop and disable a unit."""
    cmds = [["disable", "--now", t.name] for t in unit.timers]
    cmds.append(["stop", unit.name])
    return cmds


def undo_hint(unit: FoundUnit) -> str:
    flag = " --user" if unit.scope == "user" else ""
    if unit.timers:
        names = " ".join(t.name for t in unit.timers)
        return f"systemctl{flag} enable --now {names}"
    return f"systemctl{flag} start {unit.name}"


@dataclass(frozen=True, slots=True)
class Disabled:
    unit: str
    disabled: bool
    undo: str
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "disabled": self.disabled,
            "undo": self.undo,
            "detail": self.detail,
        }


def disable(unit: FoundUnit) -> Disabled:
    """Stop and disable the unit's timers and the unit itself, where a manager reads it."""
    undo = undo_hint(unit)
    if unit.scope == PLAIN_DIR:
        return Disabled(
            unit.name, False, undo, "not in a directory systemd reads; nothing to disable"
        )
    system = unit.scope == SYSTEM
    state = systemctl.systemd_state(system=system)
    if not state.running:
        return Disabled(unit.name, False, undo, f"systemd is not running here ({state.detail})")
    detail = ""
    for argv in disable_argvs(unit):
        res = systemctl.systemctl(argv, system=system)
        if not res.ok:
            detail = (res.stderr.strip() or f"exit {res.returncode}")[:200]
    return Disabled(unit.name, not detail, undo, detail)


@dataclass(frozen=True, slots=True)
class Reference:
    path: Path
    line_no: int
    line: str
    names: tuple[str, ...]


def reference_names(units: Sequence[FoundUnit]) -> list[str]:
    """Names worth searching for: unit file names, distinctive stems, wrapper scripts."""
    names: set[str] = set()
    for u in units:
        names.add(u.name)
        for t in u.timers:
            names.add(t.name)
        stem = u.stem
        if stem not in known_clis() and len(stem) >= 5:
            names.add(stem)
        if u.call.via:
            names.add(os.path.basename(u.call.via))
    return sorted(names, key=lambda n: (-len(n), n))


def grep_references(
    units: Sequence[FoundUnit], paths: Iterable[Path], *, exclude: Iterable[Path] = ()
) -> list[Reference]:
    """Lines in files under `paths` that name one of the units (unit files themselves excluded)."""
    names = reference_names(units)
    if not names:
        return []
    pattern = re.compile(
        r"(?<![A-Za-z0-9_.@-])(" + "|".join(re.escape(n) for n in names) + r")(?![A-Za-z0-9_@-])"
    )
    skip = {p.resolve() for p in exclude}
    for u in units:
        skip.add(u.path.resolve())
        skip.update(t.path.resolve() for t in u.timers)
    out: list[Reference] = []
    for f in _walk(paths):
        try:
            if f.resolve() in skip or f.stat().st_size > GREP_MAX_BYTES:
                continue
            data = f.read_bytes()
        except OSError:
            continue
        if b"\0" in data[:8192]:
            continue
        for i, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), start=1):
            hits = tuple(dict.fromkeys(m.group(1) for m in pattern.finditer(line)))
            if hits:
                out.append(Reference(f, i, line.strip()[:200], hits))
    return out


def _walk(paths: Iterable[Path]) -> Iterator[Path]:
    for p in paths:
        p = p.expanduser()
        if p.is_file():
            yield p
        elif p.is_dir():
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if d not in GREP_SKIP_DIRS)
                for name in sorted(files):
                    yield Path(root) / name


# ---------------------------------------------------------------------------------------------
# The whole command

_SECRET_ASSIGN = re.compile(
    r"\b([A-Za-z_]*(?:KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL)[A-Za-z_]*)=(\S+)", re.IGNORECASE
)


def redact(text: str) -> str:
    """ExecStart lines can carry inline credentials: never show them."""
    from rota.journal import redact as redact_tokens

    return redact_tokens(_SECRET_ASSIGN.sub(lambda m: f"{m.group(1)}=[redacted]", text))


@dataclass(slots=True)
class AdoptResult:
    scanned: list[tuple[Path, str]]
    units: list[FoundUnit]
    arms: list[ArmSuggestion]
    on_calendar: list[str]
    snippet: str
    disabled: list[Disabled] | None = None  # None: --disable not given
    references: list[Reference] | None = None  # None: --grep not given
    next_steps: list[str] = field(default_factory=list)  # commands to run next, flags kept

    @property
    def ok(self) -> bool:
        return all(d.disabled for d in self.disabled or [])

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "scanned": [str(d) for d, _ in self.scanned],
            "units": [_unit_dict(u) for u in self.units],
            "schedule": {"on_calendar": self.on_calendar},
            "arms": [a.to_dict() for a in self.arms],
            "config": self.snippet,
            "next": self.next_steps,
            "ok": self.ok,
        }
        if self.disabled is not None:
            out["disable"] = [d.to_dict() for d in self.disabled]
        if self.references is not None:
            out["references"] = [
                {
                    "path": str(r.path),
                    "line": r.line_no,
                    "text": redact(r.line),
                    "names": list(r.names),
                }
                for r in self.references
            ]
        return out


def _unit_dict(u: FoundUnit) -> dict[str, Any]:
    return {
        "name": u.name,
        "path": str(u.path),
        "scope": u.scope,
        "harness": u.call.harness,
        "executable": u.call.executable,
        "model": u.call.model,
        "via": u.call.via,
        "timeout_s": u.call.timeout_s,
        "exec_start": redact(u.exec_start),
        "timers": [
            {
                "name": t.name,
                "path": str(t.path),
                "settings": [[k, v] for k, v in t.settings],
                "enabled": t.enabled,
            }
            for t in u.timers
        ],
    }


def _next_steps(units: Sequence[FoundUnit], unit_dirs: Sequence[Path] | None) -> list[str]:
    """What to run next, with the flags this run was given (the same --unit-dir finds the same
    units again)."""
    install = ["rota", "systemd", "install"]
    if units and all(u.scope == SYSTEM for u in units):
        install.append("--system")
    again = ["rota", "systemd", "adopt"]
    for d in unit_dirs or []:
        again += ["--unit-dir", str(d)]
    return [shlex.join(install), shlex.join([*again, "--disable"])]


def adopt(
    unit_dirs: Sequence[Path] | None, *, disable_found: bool = False, grep: Sequence[Path] = ()
) -> AdoptResult:
    """Scan `unit_dirs` (None: every standard directory) and do what was asked."""
    if unit_dirs:
        dirs = [(d.expanduser(), systemctl.scope_of_dir(d.expanduser())) for d in unit_dirs]
        missing = [str(d) for d, _ in dirs if not d.is_dir()]
        if missing:
            raise SystemdError(f"not a directory: {', '.join(missing)} (--unit-dir)")
    else:
        dirs = systemctl.standard_unit_dirs()
    units = scan(dirs)
    result = AdoptResult(
        scanned=dirs,
        units=units,
        arms=suggest_arms(units),
        on_calendar=suggest_on_calendar(units),
        snippet=config_snippet(units) if units else "",
        next_steps=_next_steps(units, unit_dirs) if units else [],
    )
    if disable_found and units:
        result.disabled = [disable(u) for u in units]
    if grep and units:
        result.references = grep_references(units, grep)
    return result
