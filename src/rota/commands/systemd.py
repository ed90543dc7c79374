"""`rota systemd install | uninstall | status | adopt`: one timer and one service for every harness.

install    write rota.timer and rota.service (user units by default), reload systemd, enable the timer
uninstall  stop, disable and remove exactly the files install wrote (they carry a marker)
status     installed? active? next and last fire, and the last session's outcome and age
adopt      find the old per-backend timers/services, print the config that reproduces them, and
           optionally disable them (files kept) or list other files that still name them

Where no systemd runs (containers, macOS) each command says so and suggests `rota loop`.
"""

from __future__ import annotations

import argparse
import getpass
import os
import re
import sys
from pathlib import Path
from typing import Any

from rota.commands.common import Formatter, add_json_arg, now
from rota.errors import EXIT_CONFIG, EXIT_OK, ConfigError, RotaError

EXIT_FAILED = 1
LOOP_HINT = (
    "without systemd, run `rota loop` instead (under your init system, cron @reboot, or tmux)"
)


class SystemdCommandError(RotaError):
    exit_code = EXIT_FAILED


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "systemd",
        help="install, inspect or retire systemd timers",
        description=__doc__.split("\n", 2)[2] if __doc__ else None,
        formatter_class=Formatter,
    )
    ssub = p.add_subparsers(dest="systemd_command", metavar="ACTION")

    def common(sp: argparse.ArgumentParser, *, config: bool = True) -> None:
        if config:
            sp.add_argument(
                "--config",
                metavar="PATH",
                help="config file (default: $ROTA_CONFIG, else $XDG_CONFIG_HOME/rota/rota.toml)",
            )
        scope = sp.add_mutually_exclusive_group()
        scope.add_argument(
            "--system", action="store_true", help="system units (/etc/systemd/system)"
        )
        scope.add_argument(
            "--user", dest="system", action="store_false", help="user units (default)"
        )
        sp.add_argument(
            "--unit-dir",
            metavar="DIR",
            type=Path,
            help="write/read units here instead (packaging, tests); systemctl is not called",
        )

    ins = ssub.add_parser(
        "install",
        help="write rota.timer and rota.service and enable the timer",
        description="Write rota.timer and rota.service from the config's [schedule], reload\n"
        "systemd and enable the timer. Re-running is safe: unchanged units are left alone; a\n"
        "changed schedule rewrites them and reloads systemd. Exit 75 (busy) counts as success;\n"
        "exit 76 (all exhausted) is retried after [schedule] retry_interval_minutes.",
        formatter_class=Formatter,
    )
    common(ins)
    ins.add_argument("--no-enable", action="store_true", help="write the units only")
    ins.add_argument(
        "--rota-path", metavar="PATH", help="rota executable for ExecStart (default: this one)"
    )
    ins.add_argument(
        "--run-as", metavar="USER", help="User= for --system units (default: $SUDO_USER or you)"
    )
    ins.add_argument(
        "--force", action="store_true", help="replace rota.timer/rota.service not written by rota"
    )
    ins.set_defaults(func=cmd_install)

    un = ssub.add_parser(
        "uninstall",
        help="stop, disable and remove the units install wrote",
        description="Stop and disable rota.timer, then remove rota.timer and rota.service if\n"
        "(and only if) `rota systemd install` wrote them (they carry a marker line).",
        formatter_class=Formatter,
    )
    common(un, config=False)
    un.set_defaults(func=cmd_uninstall)

    st = ssub.add_parser(
        "status",
        help="installed? active? next and last fire; the last session",
        formatter_class=Formatter,
    )
    common(st)
    add_json_arg(st)
    st.set_defaults(func=cmd_status, system=None)

    ad = ssub.add_parser(
        "adopt",
        help="find old per-backend timers; print the config that replaces them",
        description="Scan user and system unit directories (or --unit-dir DIR...) for timers and\n"
        "services whose ExecStart runs a harness CLI (claude, codex, gptme, copilot, gemini,\n"
        "aider, opencode) directly or through a wrapper script. List them with their schedules\n"
        "and the config lines that reproduce them.\n\n"
        "--disable  stop and disable them; the files are kept and the undo command is printed\n"
        "--grep     list other files (scripts, docs, health checks) that still name them\n\n"
        "Nothing is ever deleted.",
        formatter_class=Formatter,
    )
    ad.add_argument(
        "--unit-dir",
        metavar="DIR",
        type=Path,
        nargs="+",
        action="extend",
        help="scan these directories instead of the standard ones",
    )
    ad.add_argument("--disable", action="store_true", help="stop and disable them (keeps files)")
    ad.add_argument(
        "--grep",
        metavar="PATH",
        type=Path,
        nargs="+",
        action="extend",
        help="list lines in files under PATH… that name those units or their wrapper scripts",
    )
    add_json_arg(ad)
    ad.set_defaults(func=cmd_adopt)

    p.set_defaults(func=lambda args: _no_action(p))


def _no_action(p: argparse.ArgumentParser) -> int:
    p.print_help(sys.stderr)
    return 2


# ---------------------------------------------------------------------------------------------
# helpers


def _say(msg: str = "") -> None:
    print(msg, flush=True)


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


def _scope_flag(system: bool) -> str:
    return "" if system else " --user"


def _run_systemctl(args: list[str], *, system: bool) -> bool:
    from rota import schedule

    res = schedule.systemctl(args, system=system)
    shown = "systemctl" + _scope_flag(system) + " " + " ".join(args)
    if res.ok:
        _say(f"  ran: {shown}")
        return True
    err = (res.stderr.strip() or res.stdout.strip() or f"exit {res.returncode}").splitlines()
    print(f"rota: `{shown}` failed: {err[-1] if err else ''}", file=sys.stderr)
    return False


def _load_config(args: argparse.Namespace) -> Any:
    from rota.config import load_config

    return load_config(getattr(args, "config", None))


# ---------------------------------------------------------------------------------------------
# install


def cmd_install(args: argparse.Namespace) -> int:
    from rota import schedule

    config = _load_config(args)
    cfg_path = Path(config.path or "").expanduser().resolve()
    try:
        schedule.validate_calendar(config.schedule.on_calendar)
    except schedule.CalendarError as exc:
        raise ConfigError(
            f"invalid calendar expression {config.schedule.on_calendar!r}: {exc} "
            '(see `man systemd.time`; e.g. "*-*-* *:00,30:00")',
            path=str(cfg_path),
            key="schedule.on_calendar",
        ) from None

    rota_path = args.rota_path or schedule.resolve_rota_path()
    if not rota_path:
        raise SystemdCommandError(
            "cannot find the rota executable on PATH; pass --rota-path /path/to/rota"
        )
    rota_path = str(Path(rota_path).expanduser().resolve())
    if not (Path(rota_path).is_file() and os.access(rota_path, os.X_OK)):
        raise SystemdCommandError(f"{rota_path} is not an executable file (--rota-path)")

    system = bool(args.system)
    run_as = None
    if system:
        run_as = args.run_as or os.environ.get("SUDO_USER") or getpass.getuser()
        if run_as == "root" and not args.run_as:
            run_as = None
    settings = schedule.settings_from_config(
        config, rota_path=rota_path, config_path=str(cfg_path), system=system, user=run_as
    )
    try:
        units = schedule.render_units(settings)
    except ValueError as exc:
        raise SystemdCommandError(f"cannot write the units: {exc}") from None

    manage = args.unit_dir is None
    target = (args.unit_dir or schedule.unit_dir(system=system)).expanduser()
    changed: list[str] = []
    try:
        target.mkdir(parents=True, exist_ok=True, mode=0o700)
        for name, text in units.items():
            path = target / name
            if path.exists() and not schedule.is_generated(path) and not args.force:
                raise SystemdCommandError(
                    f"{path} exists and was not written by rota; move it away or pass --force"
                )
            try:
                current = path.read_text(encoding="utf-8")
            except OSError:
                current = None
            if current == text:
                _say(f"{name}: unchanged ({path})")
                continue
            _write_owner_only(path, text)
            changed.append(name)
            _say(f"{name}: {'updated' if current is not None else 'written'} ({path})")
    except PermissionError as exc:
        hint = "run it with sudo" if system else "check the directory's permissions"
        raise SystemdCommandError(
            f"cannot write {exc.filename or target}: permission denied; {hint}"
        ) from None
    except OSError as exc:
        raise SystemdCommandError(f"cannot write units in {target}: {exc.strerror}") from None

    delay = (
        f" + up to {settings.randomized_delay_sec} s random delay"
        if settings.randomized_delay_sec
        else ""
    )
    _say(
        f"schedule: OnCalendar={settings.on_calendar}{delay}"
        f"{', catches up missed runs' if settings.persistent else ''}; exit 76 retried after "
        f"{settings.restart_sec / 60:g} min"
    )
    try:
        nxt = schedule.next_elapse(settings.on_calendar, now())
        _say(f"next fire: {schedule.format_when(nxt.at, now())}")
    except schedule.CalendarError:
        pass

    if os.environ.get("ROTA_STORE_URL"):
        # It may hold a database password: never copied into a unit file.
        _say(
            "note: $ROTA_STORE_URL is set here but not copied into rota.service (it may hold a "
            "password): set [store] url in the config, or add an EnvironmentFile= drop-in."
        )
    if not manage:
        flag = "" if system else " --user"
        _say(
            f"custom --unit-dir: systemd was not told. To use these units: "
            f"`systemctl{flag} link {target / schedule.SERVICE_NAME} {target / schedule.TIMER_NAME}`"
            f" then `systemctl{flag} enable --now rota.timer`"
        )
        return EXIT_OK

    state = schedule.systemd_state(system=system)
    if not state.running:
        _say(
            f"systemd is not running here ({state.detail}): the units were written but not enabled."
        )
        _say(LOOP_HINT)
        return EXIT_OK

    ok = True
    if changed:
        ok &= _run_systemctl(["daemon-reload"], system=system)
    if not args.no_enable:
        ok &= _run_systemctl(["enable", schedule.TIMER_NAME], system=system)
        # A running timer keeps its old schedule until restarted.
        ok &= _run_systemctl(
            ["restart" if changed else "start", schedule.TIMER_NAME], system=system
        )
    else:
        _say(f"not enabled (--no-enable): `systemctl{_scope_flag(system)} enable --now rota.timer`")
    if not system:
        _linger_hint()
    return EXIT_OK if ok else EXIT_FAILED


def _linger_hint() -> None:
    """User timers stop when the user logs out unless lingering is on."""
    import shutil
    import subprocess

    exe = shutil.which("loginctl")
    if not exe:
        return
    user = getpass.getuser()
    try:
        proc = subprocess.run(
            [exe, "show-user", user, "--property=Linger", "--value"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return
    if proc.returncode == 0 and proc.stdout.strip() == "no":
        _say(
            f"note: lingering is off for {user}: the timer only runs while you are logged in. "
            f"`loginctl enable-linger {user}` keeps it running."
        )


# ---------------------------------------------------------------------------------------------
# uninstall


def cmd_uninstall(args: argparse.Namespace) -> int:
    from rota import schedule

    system = bool(args.system)
    manage = args.unit_dir is None
    target = (args.unit_dir or schedule.unit_dir(system=system)).expanduser()
    ours: list[Path] = []
    for name in schedule.UNIT_NAMES:
        path = target / name
        if not path.exists():
            continue
        if schedule.is_generated(path):
            ours.append(path)
        else:
            _say(f"{name}: left alone: {path} was not written by `rota systemd install`")
    if not ours:
        _say(f"nothing to remove: no rota-generated units in {target}")
        return EXIT_OK

    ok = True
    running = False
    if manage:
        state = schedule.systemd_state(system=system)
        running = state.running
        if running:
            if any(p.name == schedule.TIMER_NAME for p in ours):
                ok &= _run_systemctl(["disable", "--now", schedule.TIMER_NAME], system=system)
            if any(p.name == schedule.SERVICE_NAME for p in ours):
                # Stops a session in progress (rota records it as interrupted).
                ok &= _run_systemctl(["stop", schedule.SERVICE_NAME], system=system)
        else:
            _say(f"systemd is not running here ({state.detail}): removing the files only.")
    for path in ours:
        try:
            path.unlink()
            _say(f"removed {path}")
        except OSError as exc:
            print(f"rota: cannot remove {path}: {exc.strerror}", file=sys.stderr)
            ok = False
        # The enable symlink, when systemd could not remove it itself.
        link = target / "timers.target.wants" / path.name
        if link.is_symlink() and Path(os.readlink(link)).name == path.name:
            try:
                link.unlink()
                _say(f"removed {link}")
            except OSError:
                pass
    if running:
        ok &= _run_systemctl(["daemon-reload"], system=system)
        schedule.systemctl(["reset-failed", schedule.SERVICE_NAME], system=system)
    return EXIT_OK if ok else EXIT_FAILED


# ---------------------------------------------------------------------------------------------
# status


def status_data(args: argparse.Namespace) -> tuple[dict[str, Any], str | None]:
    """Everything `status` shows; the second item is a config error message, if any."""
    from rota import schedule

    t = now()
    config_error = None
    config = None
    try:
        config = _load_config(args)
    except ConfigError as exc:
        config_error = str(exc)

    inst = schedule.find_installation(unit_dir_override=args.unit_dir, system=args.system)
    system = inst.system if inst else bool(args.system)
    data: dict[str, Any] = {
        "now": t,
        "installed": bool(inst and inst.installed),
        "unit_dir": str(inst.unit_dir)
        if inst
        else str(args.unit_dir or schedule.unit_dir(system=system)),
        "scope": "system" if system else "user",
        "units": {
            schedule.TIMER_NAME: bool(inst and inst.timer),
            schedule.SERVICE_NAME: bool(inst and inst.service),
        },
    }
    state = schedule.systemd_state(system=system)
    data["systemd"] = {"running": state.running, "detail": state.detail}

    on_calendar = None
    installed_timer_text = None
    if inst and inst.timer:
        try:
            installed_timer_text = (inst.unit_dir / schedule.TIMER_NAME).read_text(encoding="utf-8")
            on_calendar = schedule.read_unit_setting(installed_timer_text, "OnCalendar")
        except OSError:
            pass
    schedule_source = "installed timer" if on_calendar else "config"
    if not on_calendar and config is not None:
        on_calendar = config.schedule.on_calendar
    data["schedule"] = {"on_calendar": on_calendar, "source": schedule_source}
    if config is not None and installed_timer_text is not None:
        wanted = schedule.render_timer(
            schedule.settings_from_config(config, rota_path="", config_path="")
        )
        data["schedule"]["matches_config"] = _strip_comments(wanted) == _strip_comments(
            installed_timer_text
        )

    timer = None
    if state.running and inst and inst.timer and args.unit_dir is None:
        timer = schedule.timer_status(system=system)
    data["timer"] = {
        "active_state": timer.active_state if timer else "unknown",
        "sub_state": timer.sub_state if timer else "",
        "unit_file_state": timer.unit_file_state if timer else "",
    }
    next_fire: dict[str, Any] = {"at": None, "source": None}
    last_fire: dict[str, Any] = {"at": None, "source": None}
    if timer is not None and timer.next_at:
        next_fire = {"at": timer.next_at, "source": "systemd"}
    elif on_calendar:
        try:
            el = schedule.next_elapse(on_calendar, t)
            next_fire = {"at": el.at, "source": el.source}
        except schedule.CalendarError as exc:
            next_fire = {"at": None, "source": None, "error": str(exc)}
    if timer is not None and timer.last_at:
        last_fire = {"at": timer.last_at, "source": "systemd"}
    data["next_fire"] = next_fire
    data["last_fire"] = last_fire

    data["last_session"] = None
    if config is not None:
        try:
            from rota.store import open_store

            with open_store(config) as store:
                recent = store.recent_sessions(1)
            if recent:
                s = recent[0]
                data["last_session"] = {
                    "id": s.id,
                    "status": s.status,
                    "arm": s.credited_arm,
                    "started_at": s.started_at,
                    "ended_at": s.ended_at,
                    "exit_code": s.exit_code,
                    "reward": s.reward,
                    "age_s": t - (s.ended_at or s.started_at),
                }
        except Exception as exc:
            data["store_error"] = f"{type(exc).__name__}: {exc}"
    return data, config_error


def _strip_comments(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith("#"))


def cmd_status(args: argparse.Namespace) -> int:
    from rota import schedule
    from rota.render import print_json

    data, config_error = status_data(args)
    if config_error:
        data["config_error"] = config_error
    if args.json:
        print_json(data, sys.stdout)
        return EXIT_CONFIG if config_error else EXIT_OK
    t = data["now"]
    if data["installed"]:
        _say(f"installed: yes ({data['scope']} units in {data['unit_dir']})")
    else:
        partial = [n for n, present in data["units"].items() if present]
        extra = f" (only {', '.join(partial)})" if partial else ""
        _say(f"installed: no{extra}: `rota systemd install` writes rota.timer and rota.service")
    sd = data["systemd"]
    if sd["running"] and not data["units"][schedule.TIMER_NAME]:
        _say("timer: not installed")
    elif sd["running"]:
        tm = data["timer"]
        enabled = f", {tm['unit_file_state']}" if tm["unit_file_state"] else ""
        sub = f" ({tm['sub_state']})" if tm["sub_state"] else ""
        _say(f"timer: {tm['active_state']}{sub}{enabled}")
    else:
        _say(f"timer: unknown: systemd is not running here ({sd['detail']})")
        _say(f"  {LOOP_HINT}")
    sch = data["schedule"]
    if sch["on_calendar"]:
        line = f"schedule: OnCalendar={sch['on_calendar']} (from the {sch['source']})"
        if sch.get("matches_config") is False:
            line += "; the config's [schedule] differs: re-run `rota systemd install`"
        _say(line)
    nf, lf = data["next_fire"], data["last_fire"]
    if nf.get("error"):
        _say(f"next fire: cannot compute: {nf['error']}")
    elif nf["source"]:
        how = {
            "systemd": "systemd",
            "systemd-analyze": "computed by systemd-analyze",
            "rota": "computed",
        }
        _say(
            f"next fire: {schedule.format_when(nf['at'], t)} [{how.get(nf['source'], nf['source'])}]"
        )
    if lf["at"]:
        _say(f"last fire: {schedule.format_when(lf['at'], t)}")
    else:
        _say("last fire: unknown" + ("" if sd["running"] else " (ask systemd where it runs)"))
    ls = data["last_session"]
    if ls:
        grade = "" if ls["reward"] is None else f", grade {ls['reward']:.2f}"
        code = "" if ls["exit_code"] is None else f", exit {ls['exit_code']}"
        _say(
            f"last session: #{ls['id']} {ls['status']} {schedule.human_duration(ls['age_s'])} ago "
            f"({ls['arm']}{grade}{code})"
        )
    elif data.get("store_error"):
        _say(f"last session: unknown: {data['store_error']}")
    elif not config_error:
        _say("last session: none recorded yet")
    if config_error:
        print(f"rota: {config_error}", file=sys.stderr)
        return EXIT_CONFIG
    return EXIT_OK


# ---------------------------------------------------------------------------------------------
# adopt

_SECRET_ASSIGN = re.compile(
    r"\b([A-Za-z_]*(?:KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL)[A-Za-z_]*)=(\S+)", re.IGNORECASE
)


def _safe(text: str) -> str:
    """ExecStart lines can carry inline credentials: never print them."""
    from rota.journal import redact

    return redact(_SECRET_ASSIGN.sub(lambda m: f"{m.group(1)}=[redacted]", text))


def cmd_adopt(args: argparse.Namespace) -> int:
    from rota import schedule
    from rota import systemd_adopt as adopt
    from rota.render import print_json

    if args.unit_dir:
        dirs = [(d.expanduser(), adopt.scope_of_dir(d.expanduser())) for d in args.unit_dir]
        missing = [str(d) for d, _ in dirs if not d.is_dir()]
        if missing:
            raise SystemdCommandError(f"not a directory: {', '.join(missing)}")
    else:
        dirs = adopt.default_unit_dirs()
    units = adopt.scan(dirs)
    snippet = adopt.config_snippet(units) if units else ""
    out: dict[str, Any] = {
        "scanned": [str(d) for d, _ in dirs],
        "units": [_unit_dict(u) for u in units],
        "config": snippet,
    }
    ok = True
    text_lines: list[str] = []
    if not units:
        existing = [str(d) for d, _ in dirs if d.is_dir()]
        text_lines.append(
            "no per-backend units found in: " + ", ".join(existing)
            if existing
            else "no per-backend units found (none of the unit directories exists)"
        )
    else:
        text_lines.append(f"found {len(units)} per-backend unit{'s' if len(units) != 1 else ''}:")
        for u in units:
            via = f" via {u.call.via}" if u.call.via else ""
            model = f", model {u.call.model}" if u.call.model else ", model not given"
            text_lines.append(f"  {u.name} ({u.scope}: {u.path})")
            text_lines.append(f"    runs: {u.call.harness}{model}{via}")
            text_lines.append(f"    exec: {_safe(u.exec_start)}")
            if not u.timers:
                text_lines.append("    timer: none found (started some other way?)")
            for tmr in u.timers:
                sched = "  ".join(f"{k}={v}" for k, v in tmr.settings) or "no schedule"
                en = " (enabled)" if tmr.enabled else ""
                text_lines.append(f"    timer: {tmr.name}{en}: {sched}")
        text_lines.append("")
        text_lines.append("config lines that reproduce them (merge into your rota config):")
        text_lines.append("")
        text_lines.extend("  " + line if line else "" for line in snippet.splitlines())

    if args.disable and units:
        results = []
        text_lines.append("")
        text_lines.append("disabling (unit files are kept):")
        for u in units:
            r = {"unit": u.name, "disabled": False, "undo": adopt.undo_hint(u), "detail": ""}
            if u.scope == "dir":
                r["detail"] = "not in a directory systemd reads; nothing to disable"
                ok = False
            else:
                system = u.scope == "system"
                state = schedule.systemd_state(system=system)
                if not state.running:
                    r["detail"] = f"systemd is not running here ({state.detail})"
                    ok = False
                else:
                    done = True
                    for argv in adopt.disable_argvs(u):
                        res = schedule.systemctl(argv, system=system)
                        if not res.ok:
                            done = False
                            r["detail"] = (res.stderr.strip() or f"exit {res.returncode}")[:200]
                    r["disabled"] = done
                    ok &= done
            results.append(r)
            status = "disabled" if r["disabled"] else f"not disabled: {r['detail']}"
            text_lines.append(f"  {u.name}: {status}")
            if r["disabled"]:
                text_lines.append(f"    undo: {r['undo']}")
        out["disable"] = results
        if not ok:
            text_lines.append(
                "  run `rota systemd adopt --disable` where systemd manages these units, or "
                "disable them by hand: systemctl [--user] disable --now NAME.timer"
            )
    if args.grep and units:
        refs = adopt.grep_references(units, args.grep)
        out["references"] = [
            {"path": str(r.path), "line": r.line_no, "text": _safe(r.line), "names": list(r.names)}
            for r in refs
        ]
        text_lines.append("")
        if refs:
            n = len(refs)
            text_lines.append(
                f"other files that still name them ({n} line{'s' if n != 1 else ''}):"
            )
            for r in refs:
                text_lines.append(f"  {r.path}:{r.line_no}: {_safe(r.line)}")
        else:
            text_lines.append(
                "no other files under " + ", ".join(map(str, args.grep)) + " name them"
            )
    if args.json:
        print_json(out, sys.stdout)
    else:
        _say("\n".join(text_lines))
        if units and not args.disable:
            _say("")
            _say(
                "next: add the lines above to your config, `rota systemd install`, then "
                "`rota systemd adopt --disable` to stop the old timers (files are kept)."
            )
    return EXIT_OK if ok else EXIT_FAILED


def _unit_dict(u: Any) -> dict[str, Any]:
    return {
        "name": u.name,
        "path": str(u.path),
        "scope": u.scope,
        "harness": u.call.harness,
        "executable": u.call.executable,
        "model": u.call.model,
        "via": u.call.via,
        "timeout_s": u.call.timeout_s,
        "exec_start": _safe(u.exec_start),
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
