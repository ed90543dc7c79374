"""Reading unit files rota did not write: a lenient parser, Environment=, ExecStart= and spans.

Used to find the per-backend units `rota systemd adopt` retires. Never raises on odd input: a file
that cannot be read is skipped, a line that cannot be split is split on whitespace.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class UnitFile:
    path: Path
    sections: Mapping[str, Sequence[tuple[str, str]]]

    @property
    def name(self) -> str:
        return self.path.name

    def values(self, section: str, key: str) -> list[str]:
        return [v for k, v in self.sections.get(section, ()) if k == key]

    def value(self, section: str, key: str) -> str | None:
        vals = self.values(section, key)
        return vals[-1] if vals else None


def parse_unit(path: Path) -> UnitFile | None:
    """Sections, repeated keys, backslash continuations. None if unreadable."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    sections: dict[str, list[tuple[str, str]]] = {}
    current = ""
    pending = ""
    for raw in text.splitlines():
        line = pending + raw.strip() if pending else raw.strip()
        pending = ""
        if not line or line[0] in "#;":
            continue
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
            sections.setdefault(current, [])
            continue
        key, sep, value = line.partition("=")
        if sep:
            sections.setdefault(current, []).append((key.strip(), value.strip()))
    return UnitFile(path, sections)


def unit_environment(unit: UnitFile) -> dict[str, str]:
    """Environment= assignments (values are used to resolve $VARS; never printed)."""
    env: dict[str, str] = {}
    for value in unit.values("Service", "Environment"):
        try:
            words = shlex.split(value)
        except ValueError:
            words = value.split()
        for w in words:
            k, sep, v = w.partition("=")
            if sep:
                env[k] = v
    return env


def split_exec(value: str) -> list[str]:
    """ExecStart= value -> argv (systemd's `@-:+!` prefixes dropped)."""
    v = value.lstrip()
    while v[:1] in ("@", "-", ":", "+", "!"):
        v = v[1:]
    try:
        return shlex.split(v)
    except ValueError:
        return v.split()


_TIMESPAN_UNITS = {
    "": 1, "s": 1, "sec": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
}  # fmt: skip


def parse_timespan(text: str | None) -> float | None:
    """systemd.time(7) spans as in TimeoutStartSec=: "2h", "1h 30min", "5400"; None for
    infinity or anything else. (rota.timefmt reads rota's own durations, not systemd's units.)"""
    if not text:
        return None
    total = 0.0
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", text.strip().lower())
    if not parts or re.sub(r"[\d.\sa-z]", "", text.lower()):
        return None
    for num, unit in parts:
        if unit not in _TIMESPAN_UNITS:
            return None
        total += float(num) * _TIMESPAN_UNITS[unit]
    return total or None
