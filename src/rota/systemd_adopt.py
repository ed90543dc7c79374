"""Find the per-backend timers and services that rota replaces, and help retire them.

A unit is "per-backend" when its ExecStart runs a known harness CLI directly, through launchers
such as env/nice/timeout/flock/bash -c, or through a wrapper script (read, one level deep: the
script itself, or its arguments when it ends in `exec "$@"`). For each one we report the unit,
its timer schedule, the harness and model it ran, and the config lines that reproduce it.

Reading is all this module does on its own; disabling goes through systemctl and keeps the files.
Nothing here deletes anything.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rota import schedule

# CLI executable name -> rota harness name
KNOWN_CLIS: dict[str, str] = {
    "claude": "claude-code",
    "codex": "codex",
    "gptme": "gptme",
    "copilot": "copilot",
    "gemini": "gemini",
    "aider": "aider",
    "opencode": "opencode",
}
SHELLS = {"sh", "bash", "dash", "zsh", "ksh", "fish"}
# Launchers that run their arguments as a command: name -> (options that take a value, operands
# before the command). The harness is the command they launch.
LAUNCHERS: dict[str, tuple[frozenset[str], int]] = {
    "env": (frozenset({"-u", "--unset", "-C", "--chdir"}), 0),
    "nice": (frozenset({"-n", "--adjustment"}), 0),
    "ionice": (frozenset({"-c", "-n", "-p", "-P", "-u", "--class", "--classdata"}), 0),
    "timeout": (frozenset({"-s", "--signal", "-k", "--kill-after"}), 1),
    "flock": (frozenset({"-w", "--wait", "--timeout", "-E", "--conflict-exit-code"}), 1),
    "nohup": (frozenset(), 0),
    "setsid": (frozenset(), 0),
    "stdbuf": (frozenset(), 0),
    "chrt": (frozenset(), 1),
    "taskset": (frozenset(), 1),
    "systemd-cat": (frozenset({"-t", "-p"}), 0),
    "systemd-inhibit": (frozenset(), 0),
    "systemd-run": (frozenset({"-u", "-p", "-E"}), 0),
    "sudo": (frozenset({"-u", "--user", "-g", "--group", "-C", "-D", "-h", "-p", "-r", "-t"}), 0),
    "runuser": (frozenset({"-u", "-g", "-G", "-s", "--user", "--group"}), 0),
    "doas": (frozenset({"-u", "-C"}), 0),
    "exec": (frozenset({"-a"}), 0),
    "time": (frozenset({"-f", "-o"}), 0),
    "command": (frozenset(), 0),
    "caffeinate": (frozenset(), 0),
    "xvfb-run": (frozenset({"-n", "-s", "-e", "-f"}), 0),
}
MODEL_FLAGS = ("--model", "-m")
SCRIPT_MAX_BYTES = 256 * 1024
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


# ---------------------------------------------------------------------------------------------
# Unit files


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
    """A lenient reader: sections, repeated keys, backslash continuations. None if unreadable."""
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


# ---------------------------------------------------------------------------------------------
# Finding the harness


@dataclass(frozen=True, slots=True)
class HarnessCall:
    harness: str  # rota's name (claude-code, …)
    executable: str  # as written (claude, /usr/local/bin/claude, …)
    argv: tuple[str, ...]
    model: str | None = None
    via: str | None = None  # the wrapper script it was found in, if any
    timeout_s: float | None = None  # from a `timeout DURATION` launcher


def _base(word: str) -> str:
    return os.path.basename(word)


def _harness_of(word: str) -> str | None:
    return KNOWN_CLIS.get(_base(word))


_VAR = re.compile(r"^\$\{?([A-Za-z_][A-Za-z0-9_]*|[0-9@*])(?:(:?[-=])([^}]*))?\}?$")


def resolve_word(word: str, env: Mapping[str, str]) -> str | None:
    """`$X`, `${X}`, `${X:-default}` -> value; None when it cannot be known here."""
    if "$" not in word:
        return word
    m = _VAR.match(word)
    if not m:
        return None
    name, op, default = m.group(1), m.group(2), m.group(3)
    if name in env and (env[name] or not op or not op.startswith(":")):
        return env[name]
    return default if op else None


def model_from_argv(argv: Sequence[str], env: Mapping[str, str]) -> str | None:
    for i, w in enumerate(argv):
        for flag in MODEL_FLAGS:
            if w == flag and i + 1 < len(argv):
                return resolve_word(argv[i + 1], env) or argv[i + 1]
            if flag.startswith("--") and w.startswith(flag + "="):
                v = w[len(flag) + 1 :]
                return resolve_word(v, env) or v
    return None


def _parse_duration(text: str) -> float | None:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([smhd]?)", text)
    if not m:
        return None
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


_TIMESPAN_UNITS = {
    "": 1, "s": 1, "sec": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
}  # fmt: skip


def parse_timespan(text: str | None) -> float | None:
    """systemd.time(7) spans: "2h", "1h 30min", "5400"; None for infinity or anything else."""
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


@dataclass(slots=True)
class _Stripped:
    words: list[str]
    timeout_s: float | None = None
    shell_text: str | None = None  # `sh -c TEXT` / `flock FILE -c TEXT`


_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=.*")
_SHELL_C = re.compile(r"-[a-zA-Z]*c[a-zA-Z]*")


def _strip_launchers(argv: Sequence[str]) -> _Stripped:
    """Drop VAR=x prefixes and launchers (with their options and operands) in front of the
    command that does the work."""
    words = list(argv)
    out = _Stripped(words)
    while words:
        if _ASSIGNMENT.fullmatch(words[0]):
            words.pop(0)
            continue
        name = _base(words[0])
        spec = LAUNCHERS.get(name)
        if spec is None:
            break
        with_value, operands = spec
        words.pop(0)
        while words and words[0].startswith("-") and words[0] != "-":
            opt = words.pop(0)
            if opt == "--":
                break
            if opt in with_value and words:
                words.pop(0)
            elif name == "flock" and opt in ("-c", "--command") and words:
                out.shell_text = words.pop(0)
                return out
        if name == "env":
            while words and _ASSIGNMENT.fullmatch(words[0]):
                words.pop(0)
        for _ in range(operands):
            if not words:
                break
            operand = words.pop(0)
            if name == "timeout":
                out.timeout_s = _parse_duration(operand)
        if name == "flock" and len(words) >= 2 and words[0] in ("-c", "--command"):
            out.shell_text = words[1]
            return out
    if words and _base(words[0]) in SHELLS:
        for i, w in enumerate(words[1:], start=1):
            if _SHELL_C.fullmatch(w) and i + 1 < len(words):
                out.shell_text = words[i + 1]
                return out
            if not w.startswith("-"):
                break
    return out


def _call(
    words: Sequence[str], env: Mapping[str, str], via: str | None, timeout_s: float | None
) -> HarnessCall | None:
    if not words:
        return None
    harness = _harness_of(words[0])
    if harness is None:
        return None
    return HarnessCall(
        harness=harness,
        executable=words[0],
        argv=tuple(words),
        model=model_from_argv(words[1:], env),
        via=via,
        timeout_s=timeout_s,
    )


def _shell_commands(text: str) -> Iterator[list[str]]:
    """Simple commands of a shell script (lines joined, split on ; && || | &), comments dropped."""
    logical: list[str] = []
    buf = ""
    for raw in text.splitlines():
        if raw.rstrip().endswith("\\"):
            buf += raw.rstrip()[:-1] + " "
            continue
        logical.append(buf + raw)
        buf = ""
    if buf:
        logical.append(buf)
    for line in logical:
        lex = shlex.shlex(line, posix=True, punctuation_chars=";&|()")
        lex.whitespace_split = True
        lex.commenters = "#"
        try:
            tokens = list(lex)
        except ValueError:
            continue
        cmd: list[str] = []
        for tok in [*tokens, ";"]:
            if tok and set(tok) <= set(";&|()"):
                if cmd:
                    yield cmd
                cmd = []
                continue
            if not cmd and tok in _SHELL_KEYWORDS:
                continue
            cmd.append(tok)


_SHELL_KEYWORDS = {
    "if",
    "then",
    "else",
    "elif",
    "do",
    "while",
    "until",
    "!",
    "{",
    "}",
    "fi",
    "done",
}


def _script_assignments(text: str, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """NAME=value lines of a script, resolved against `base` (the unit's Environment=)."""
    env: dict[str, str] = dict(base or {})
    for cmd in _shell_commands(text):
        words = cmd[1:] if cmd and cmd[0] in ("export", "local", "readonly", "declare") else cmd
        for w in words:
            m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)", w)
            if not m:
                break
            value = m.group(2)
            env[m.group(1)] = resolve_word(value, env) or value
    return env


def _read_script(path: str) -> str | None:
    p = Path(path).expanduser()
    try:
        if not p.is_file() or p.stat().st_size > SCRIPT_MAX_BYTES:
            return None
        data = p.read_bytes()
    except OSError:
        return None
    if b"\0" in data[:4096]:
        return None  # a binary, not a script
    return data.decode("utf-8", errors="replace")


def _runs_args(text: str) -> bool:
    """Does the script run its own arguments (`exec "$@"`, `"$@"`)?"""
    return any(w in ("$@", "${@}", "$*") for cmd in _shell_commands(text) for w in cmd)


def _find_in_text(
    text: str, env: Mapping[str, str], via: str | None, timeout_s: float | None
) -> HarnessCall | None:
    senv = _script_assignments(text, env)
    for cmd in _shell_commands(text):
        st = _strip_launchers(cmd)
        t = st.timeout_s or timeout_s
        if st.shell_text is not None:
            call = _find_in_text(st.shell_text, senv, via, t)
        else:
            call = _call(st.words, senv, via, t) or _handed_to_wrapper(st.words, senv, via, t)
        if call:
            return call
    return None


def _handed_to_wrapper(
    words: Sequence[str], env: Mapping[str, str], via: str | None, timeout_s: float | None
) -> HarnessCall | None:
    """`some-wrapper claude -p …`: a harness command passed as arguments to another program.
    Only when options follow the harness name, so `notify-send claude done` is not a match."""
    for i in range(1, len(words)):
        if _harness_of(words[i]) and any(w.startswith("-") for w in words[i + 1 :]):
            return _call(words[i:], env, via, timeout_s)
    return None


def find_harness(argv: Sequence[str], env: Mapping[str, str]) -> HarnessCall | None:
    """The harness an ExecStart argv runs: directly, via launchers, `sh -c`, or a wrapper script
    (one level: the script's own commands, or its arguments when it runs `"$@"`)."""
    st = _strip_launchers(argv)
    if st.shell_text is not None:
        return _find_in_text(st.shell_text, env, None, st.timeout_s)
    words = st.words
    if not words:
        return None
    direct = _call(words, env, None, st.timeout_s)
    if direct:
        return direct
    if _base(words[0]) in SHELLS:  # `bash /path/script.sh ARGS`
        words = words[1:]
        while words and words[0].startswith("-"):
            words.pop(0)
        if not words:
            return None
    script, args = words[0], words[1:]
    text = _read_script(script)
    if text is not None:
        senv = dict(env)
        senv.update({str(i): a for i, a in enumerate(args, start=1)})
        senv = _script_assignments(text, senv)
        if _runs_args(text):
            inner = _strip_launchers(args)
            call = _call(inner.words, senv, script, inner.timeout_s or st.timeout_s)
            if call:
                return call
        call = _find_in_text(text, senv, script, st.timeout_s)
        if call:
            return call
    # A wrapper we cannot read (or that hides it): the harness may be among its arguments.
    return _handed_to_wrapper(words, env, script if text is not None else None, st.timeout_s)


# ---------------------------------------------------------------------------------------------
# Scanning


@dataclass(frozen=True, slots=True)
class FoundTimer:
    name: str
    path: Path
    settings: tuple[tuple[str, str], ...]  # (key, value) from TIMER_KEYS, in file order
    enabled: bool | None  # from a timers.target.wants link next to it; None = cannot tell

    @property
    def on_calendar(self) -> list[str]:
        return [v for k, v in self.settings if k == "OnCalendar"]


@dataclass(frozen=True, slots=True)
class FoundUnit:
    """A per-backend service and the timer(s) that start it."""

    name: str
    path: Path
    scope: str  # "user", "system" or "dir" (a --unit-dir we cannot map to a manager)
    call: HarnessCall
    exec_start: str
    timers: tuple[FoundTimer, ...] = field(default_factory=tuple)
    timeout_start: str | None = None

    @property
    def stem(self) -> str:
        return self.name.rsplit(".", 1)[0]


def default_unit_dirs() -> list[tuple[Path, str]]:
    home_cfg = schedule.user_unit_dir()
    data = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return [
        (home_cfg, "user"),
        (data / "systemd" / "user", "user"),
        (Path("/etc/systemd/user"), "user"),
        (schedule.SYSTEM_UNIT_DIR, "system"),
        (Path("/usr/local/lib/systemd/system"), "system"),
    ]


def scope_of_dir(d: Path) -> str:
    """Map an explicit --unit-dir to the manager that reads it, when it is a standard one."""
    try:
        resolved = d.resolve()
    except OSError:
        resolved = d
    for std, scope in default_unit_dirs():
        try:
            if std.resolve() == resolved:
                return scope
        except OSError:
            continue
    return "dir"


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
            if p.suffix != ".service" or p.name in seen or schedule.is_generated(p):
                continue
            unit = parse_unit(p)
            if unit is None:
                continue
            env = unit_environment(unit)
            call = None
            exec_value = ""
            for value in unit.values("Service", "ExecStart"):
                argv = split_exec(value)
                if argv and _base(argv[0]) == "rota":
                    continue
                call = find_harness(argv, env)
                if call:
                    exec_value = value
                    break
            if call is None:
                continue
            seen.add(p.name)
            mine = []
            for t in timers:
                target = t.value("Timer", "Unit") or (t.path.stem + ".service")
                if target == p.name:
                    settings = tuple(
                        (k, v) for k, v in t.sections.get("Timer", ()) if k in TIMER_KEYS
                    )
                    wants = d / "timers.target.wants" / t.name
                    enabled = True if wants.exists() or wants.is_symlink() else None
                    mine.append(FoundTimer(t.name, t.path, settings, enabled))
            found.append(
                FoundUnit(
                    name=p.name,
                    path=p,
                    scope=scope,
                    call=call,
                    exec_start=exec_value,
                    timers=tuple(mine),
                    timeout_start=unit.value("Service", "TimeoutStartSec")
                    or unit.value("Service", "TimeoutSec"),
                )
            )
    return sorted(found, key=lambda u: u.name)


# ---------------------------------------------------------------------------------------------
# Reproducing them in rota's config


def guess_tier(model: str) -> str:
    """A starting tier from the model's name; the user should check it."""
    m = model.lower()
    if re.search(r"haiku|mini|nano|flash|lite|small|fast", m):
        return "low"
    if re.search(r"opus|\bpro\b|-pro|gpt-5(?!\.\d+-?mini)|o3\b|max|ultra", m):
        return "high"
    return "medium"


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_str(key)


def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def suggest_on_calendar(units: Sequence[FoundUnit]) -> str | None:
    """One OnCalendar that fires whenever any old timer did, when they differ only in minutes
    (or only in hours); None when they cannot be merged simply."""
    specs = []
    for u in units:
        for t in u.timers:
            for expr in t.on_calendar:
                try:
                    specs.append(schedule.CalendarSpec.parse(expr))
                except schedule.CalendarError:
                    return None
    if not specs:
        return None
    if len(specs) == 1:
        return specs[0].describe()
    for varying in ("minutes", "hours"):
        others = [
            f
            for f in (
                "weekdays",
                "years",
                "months",
                "days",
                "days_from_end",
                "hours",
                "minutes",
                "seconds",
                "tz_name",
            )
            if f != varying
        ]
        first = specs[0]
        if all(getattr(s, f) == getattr(first, f) for s in specs for f in others):
            if any(getattr(s, varying) is None for s in specs):
                merged = None
            else:
                merged = tuple(sorted({v for s in specs for v in getattr(s, varying)}))
            from dataclasses import replace

            return replace(first, **{varying: merged}).describe()
    return None


def config_snippet(units: Sequence[FoundUnit]) -> str:
    """TOML to paste into rota's config: the harnesses and models those units ran."""
    lines: list[str] = []
    names = ", ".join(u.name for u in units)
    lines.append(
        f"# Reproduces {len(units)} per-backend unit{'s' if len(units) != 1 else ''}: {names}"
    )
    cal = suggest_on_calendar(units)
    if cal:
        lines += [
            "[schedule]",
            f"on_calendar = {_toml_str(cal)}  # fires whenever one of the old timers did",
            "",
        ]
    by_harness: dict[str, list[FoundUnit]] = {}
    for u in units:
        by_harness.setdefault(u.call.harness, []).append(u)
    for harness in sorted(by_harness):
        group = by_harness[harness]
        lines.append(f"[harnesses.{_toml_key(harness)}]")
        lines.append("enabled = true")
        exes = {u.call.executable for u in group}
        if len(exes) == 1:
            exe = exes.pop()
            if os.sep in exe:
                lines.append(f"executable = {_toml_str(exe)}")
        timeouts = [t for u in group if (t := u.call.timeout_s or parse_timespan(u.timeout_start))]
        if timeouts:
            lines.append(f"timeout_minutes = {max(timeouts) / 60:g}")
        models: dict[str, list[str]] = {}
        for u in group:
            if u.call.model and "$" not in u.call.model:
                models.setdefault(u.call.model, []).append(u.name)
        missing = [u.name for u in group if not u.call.model or "$" in u.call.model]
        if models:
            lines.append(f"[harnesses.{_toml_key(harness)}.models]")
            for model, srcs in sorted(models.items()):
                tier = guess_tier(model)
                lines.append(
                    f"{_toml_key(model)} = {{ tier = {_toml_str(tier)}, cost = 1.0 }}"
                    f"  # from {', '.join(srcs)}; tier guessed from the name"
                )
        for name in missing:
            lines.append(
                f"# {name} gives no --model: add the model(s) it used under "
                f"[harnesses.{harness}.models]"
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


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
        if stem not in KNOWN_CLIS and len(stem) >= 5:
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
            if f.resolve() in skip:
                continue
            if f.stat().st_size > GREP_MAX_BYTES:
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
