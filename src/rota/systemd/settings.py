"""What the config means for the two units: the schedule, the timeouts, and the service's
environment, whose PATH holds only the directories of the programs rota starts.

The service does not inherit the PATH of the shell that ran `rota systemd install`: that PATH
changes with every login and leaks every tool on it into unattended sessions.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from rota.systemd.units import DEFAULT_ON_CALENDAR, START_TIMEOUT_MARGIN_S, UnitSettings

# Always on the service's PATH, last: where the base system keeps its tools (sh, git, env).
SYSTEM_PATH = ("/usr/bin", "/bin")
# Besides PATH, the variables copied from the installing shell: where rota keeps its state.
# Paths only; never tokens ($ROTA_STORE_URL may hold a password).
CAPTURED_ENV = ("ROTA_STATE_DIR", "XDG_STATE_HOME")


@dataclass(frozen=True, slots=True)
class Program:
    """A program a session starts, and who asked for it (for messages)."""

    name: str  # as configured: `claude`, `/opt/bin/codex`, `pytest`
    owner: str  # `harnesses.claude-code`, `run.test_command`, …
    search_path: str | None = None  # the harness's own env PATH, when it sets one


def session_programs(cfg: object) -> list[Program]:
    """Every program `rota run` may start: the enabled harnesses' executables, the [run] commands,
    and git (grading reads the workspace's history)."""
    from rota.harnesses import get_profile

    out: list[Program] = []
    for name, hc in (getattr(cfg, "harnesses", {}) or {}).items():
        if not getattr(hc, "enabled", True):
            continue
        exe = get_profile(name, hc).executable
        if exe:
            env = getattr(hc, "env", {}) or {}
            out.append(Program(exe, f"harnesses.{name}", env.get("PATH")))
    run = getattr(cfg, "run", None)
    for key in ("prompt_command", "category_command", "test_command", "grader_command"):
        argv = getattr(run, key, ()) or ()
        if argv:
            out.append(Program(argv[0], f"run.{key}"))
    out.append(Program("git", "grading"))
    return out


def _env_interpreter(path: str) -> str | None:
    """`node` for a script starting `#!/usr/bin/env node` (npm installs the agent CLIs so)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(256)
    except OSError:
        return None
    if not head.startswith(b"#!"):
        return None
    words = head[2:].split(b"\n", 1)[0].decode("utf-8", "replace").split()
    if not words or os.path.basename(words[0]) != "env":
        return None
    rest = [w for w in words[1:] if not w.startswith("-") and "=" not in w]
    return rest[0] if rest else None


@dataclass(frozen=True, slots=True)
class ServicePath:
    value: str  # the PATH= the service gets
    missing: tuple[Program, ...]  # programs not found here: the service will not find them either


def service_path(
    programs: Iterable[Program], rota_path: str, search_path: str | None
) -> ServicePath:
    """The directories of `programs` (found on `search_path`, or each one's own), the directory
    of the interpreter an `env` script names, rota's directory, then /usr/bin:/bin."""
    dirs: list[str] = []

    def add(directory: str) -> None:
        if directory and directory not in dirs and directory not in SYSTEM_PATH:
            dirs.append(directory)

    missing: list[Program] = []
    for prog in programs:
        where = prog.search_path or search_path
        if os.sep in prog.name:
            # An absolute path needs no PATH; a relative one is run from the workspace.
            found = prog.name if os.path.isabs(prog.name) else None
            if found is None:
                continue
        else:
            found = shutil.which(prog.name, path=where)
            if found is None:
                missing.append(prog)
                continue
        add(os.path.dirname(os.path.abspath(found)))
        interpreter = _env_interpreter(found)
        if interpreter and os.sep not in interpreter:
            located = shutil.which(interpreter, path=where)
            if located:
                add(os.path.dirname(os.path.abspath(located)))
    if os.path.isabs(rota_path):
        add(os.path.dirname(rota_path))
    return ServicePath(":".join([*dirs, *SYSTEM_PATH]), tuple(missing))


def calendar_value(sched: object) -> str | tuple[str, ...]:
    value = getattr(sched, "on_calendar", DEFAULT_ON_CALENDAR)
    if isinstance(value, str):
        return value.strip()
    return tuple(str(v).strip() for v in value)


def settings_from_config(
    cfg: object,
    *,
    rota_path: str,
    config_path: str,
    system: bool = False,
    user: str | None = None,
    environ: Mapping[str, str] | None = None,
    programs: Sequence[Program] | None = None,
) -> UnitSettings:
    """UnitSettings from a rota Config (duck-typed: .schedule, .harnesses, .run).

    `environ` is the installing shell's environment (default: this process's); its PATH is where
    the programs are looked for.
    """
    sched = getattr(cfg, "schedule", None)
    harnesses = getattr(cfg, "harnesses", {}) or {}
    longest = max((float(h.timeout_minutes) for h in harnesses.values()), default=60.0)
    grace = float(getattr(getattr(cfg, "run", None), "kill_grace_seconds", 10.0))
    env_src = os.environ if environ is None else environ
    progs = session_programs(cfg) if programs is None else programs
    env = {k: env_src[k] for k in CAPTURED_ENV if env_src.get(k)}
    env["PATH"] = service_path(progs, rota_path, env_src.get("PATH") or os.defpath).value
    return UnitSettings(
        rota_path=rota_path,
        config_path=config_path,
        on_calendar=calendar_value(sched),
        randomized_delay_sec=int(getattr(sched, "randomized_delay_sec", 120)),
        persistent=bool(getattr(sched, "persistent", True)),
        retry_interval_minutes=float(getattr(sched, "retry_interval_minutes", 10.0)),
        timeout_start_sec=int(longest * 60) + START_TIMEOUT_MARGIN_S,
        timeout_stop_sec=int(grace) + 30,
        system=system,
        user=user,
        environment=env,
    )
