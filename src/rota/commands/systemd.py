"""`rota systemd install | uninstall | status | adopt`: one timer and one service for every harness.

install    write rota.timer and rota.service (user units by default), reload systemd, enable the timer
uninstall  stop, disable and remove exactly the files install wrote (they carry a marker)
status     installed? active? next and last fire, and the last session's outcome and age
adopt      find the old per-backend timers/services, print the config that reproduces them, and
           optionally disable them (files kept) or list other files that still name them

--unit-dir DIR means the same on every action: work on the unit files in DIR instead of the
standard directories. systemctl is told (and asked) only when a systemd manager reads DIR.
Where no systemd runs (containers, macOS) each action says so and suggests `rota loop`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from rota.commands.common import Formatter, add_json_arg, now
from rota.errors import EXIT_CONFIG, EXIT_OK, ConfigError

EXIT_FAILED = 1
SCHEMA_VERSION = 1
LOOP_HINT = (
    "without systemd, run `rota loop` instead (under your init system, cron @reboot, or tmux)"
)
UNIT_DIR_HELP = (
    "work on the unit files in DIR instead of the standard directories; systemctl is used only "
    "when a systemd manager reads DIR (e.g. ~/.config/systemd/user, /etc/systemd/system)"
)


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
            "--system", action="store_true", default=None, help="system units (/etc/systemd/system)"
        )
        scope.add_argument(
            "--user",
            dest="system",
            action="store_false",
            default=None,
            help="user units (the default)",
        )
        sp.add_argument("--unit-dir", metavar="DIR", type=Path, help=UNIT_DIR_HELP)
        add_json_arg(sp)

    ins = ssub.add_parser(
        "install",
        help="write rota.timer and rota.service and enable the timer",
        description="Write rota.timer and rota.service from the config's [schedule], reload\n"
        "systemd and enable the timer. Re-running is safe: unchanged units are left alone; a\n"
        "changed schedule rewrites them and reloads systemd. Exit 75 (busy) counts as success;\n"
        "exit 76 (all exhausted) is retried after [schedule] retry_interval_minutes.\n\n"
        "[schedule] on_calendar is one calendar expression or a list of them (one OnCalendar=\n"
        "line each), checked by `systemd-analyze calendar` where it is installed. The service's\n"
        "PATH holds the directories of the programs rota starts (the enabled harnesses, the\n"
        "[run] commands, git), of rota, then /usr/bin:/bin: not this shell's PATH.",
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
        description="Whether rota's units are installed (user units, else system units, or in\n"
        "--unit-dir), the timer's state, the next fire (from systemd, else computed by\n"
        "systemd-analyze, else unknown), the last fire, and the last session recorded.",
        formatter_class=Formatter,
    )
    common(st)
    st.set_defaults(func=cmd_status)

    ad = ssub.add_parser(
        "adopt",
        help="find old per-backend timers; print the config that replaces them",
        description="Scan user and system unit directories (or --unit-dir DIR...) for timers and\n"
        "services whose ExecStart runs a harness CLI (claude, codex, gptme, copilot, gemini,\n"
        "aider, opencode) directly or through a wrapper script. List them with their schedules\n"
        "and the config lines that reproduce them: the models with the tiers and costs\n"
        "`rota init` writes, and the old OnCalendar= lines as [schedule] on_calendar.\n\n"
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
        help=UNIT_DIR_HELP + " (several may be given)",
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


def _say(msg: str = "") -> None:
    print(msg, flush=True)


def _json(obj: dict[str, Any]) -> None:
    from rota.render import print_json

    print_json({"schema_version": SCHEMA_VERSION, **obj}, sys.stdout)


def _human_duration(seconds: float) -> str:
    """`45 s`, `14 min`, `1 h 30 min`, `2 d 3 h` (rota.timefmt's form is `1h 30m`; status has
    said it this way since it shipped)."""
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


def _when(ts: float | None, t: float) -> str:
    """`2026-11-27 23:00:00 CET (in 14 min)`: local time with the zone, and how far off."""
    if ts is None:
        return "never"
    rel = _human_duration(abs(ts - t))
    stamp = time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(ts))
    return f"{stamp} ({f'in {rel}' if ts >= t else f'{rel} ago'})"


def _show_step(step: Any) -> None:
    if step.quiet:
        return
    if step.action == "remove":
        if step.ok:
            _say(f"removed {step.what}")
        else:
            print(f"rota: cannot remove {step.what}: {step.error}", file=sys.stderr)
    elif step.ok:
        _say(f"  ran: {step.what}")
    else:
        print(f"rota: `{step.what}` failed: {step.error}", file=sys.stderr)


def _scope_flag(system: bool) -> str:
    return "" if system else " --user"


# ---------------------------------------------------------------------------------------------
# install


def cmd_install(args: argparse.Namespace) -> int:
    from rota.config import load_config
    from rota.systemd.install import InstallOptions, install

    opts = InstallOptions(
        unit_dir=args.unit_dir,
        system=args.system,
        enable=not args.no_enable,
        rota_path=args.rota_path,
        run_as=args.run_as,
        force=args.force,
    )
    t = now()
    result = install(load_config(args.config), opts, now=t)
    if args.json:
        _json(result.to_dict())
    else:
        _show_install(result, opts, t)
    return EXIT_OK if result.ok else EXIT_FAILED


def _show_install(r: Any, opts: Any, t: float) -> None:
    from rota.systemd.units import SERVICE_NAME, TIMER_NAME

    s = r.settings
    for u in r.units:
        _say(f"{u.name}: {u.action} ({u.path})")
    delay = f" + up to {s.randomized_delay_sec} s random delay" if s.randomized_delay_sec else ""
    _say(
        f"schedule: {', '.join(f'OnCalendar={c}' for c in s.calendars)}{delay}"
        f"{', catches up missed runs' if s.persistent else ''}; exit 76 retried after "
        f"{s.restart_sec / 60:g} min"
    )
    if not r.calendar_checked:
        _say(
            "  not checked: systemd-analyze is not installed here; "
            "`systemd-analyze calendar EXPR` checks it where the timer runs"
        )
    nf = r.next_fire
    _say(f"next fire: {_when(nf.at, t)}" if nf.known else f"next fire: unknown ({nf.reason})")
    if r.missing:
        names = ", ".join(f"{p.name} ({p.owner})" for p in r.missing)
        _say(
            f"note: not on PATH here, so not on the service's either: {names}. Install them, or "
            'give their full paths (e.g. executable = "/path/to/claude" under [harnesses.NAME]).'
        )
    _say(f"service PATH: {s.environment.get('PATH', '')}")
    if r.store_url_in_env:
        # It may hold a database password: never copied into a unit file.
        _say(
            "note: $ROTA_STORE_URL is set here but not copied into rota.service (it may hold a "
            "password): set [store] url in the config, or add an EnvironmentFile= drop-in."
        )
    flag = _scope_flag(r.target.system)
    if not r.target.managed:
        d = r.target.unit_dir
        _say(
            f"custom --unit-dir: systemd was not told. To use these units: "
            f"`systemctl{flag} link {d / SERVICE_NAME} {d / TIMER_NAME}`"
            f" then `systemctl{flag} enable --now rota.timer`"
        )
        return
    if r.systemd is not None and not r.systemd.running:
        _say(
            f"systemd is not running here ({r.systemd.detail}): "
            "the units were written but not enabled."
        )
        _say(LOOP_HINT)
        return
    for step in r.steps:
        _show_step(step)
    if not opts.enable:
        _say(f"not enabled (--no-enable): `systemctl{flag} enable --now rota.timer`")
    if r.linger is False:
        import getpass

        user = getpass.getuser()
        _say(
            f"note: lingering is off for {user}: the timer only runs while you are logged in. "
            f"`loginctl enable-linger {user}` keeps it running."
        )


# ---------------------------------------------------------------------------------------------
# uninstall


def cmd_uninstall(args: argparse.Namespace) -> int:
    from rota.systemd.install import uninstall

    r = uninstall(args.unit_dir, args.system)
    if args.json:
        _json(r.to_dict())
        return EXIT_OK if r.ok else EXIT_FAILED
    for path in r.left_alone:
        _say(f"{path.name}: left alone: {path} was not written by `rota systemd install`")
    if not r.ours:
        _say(f"nothing to remove: no rota-generated units in {r.target.unit_dir}")
        return EXIT_OK
    if r.systemd is not None and not r.systemd.running:
        _say(f"systemd is not running here ({r.systemd.detail}): removing the files only.")
    for step in r.steps:
        _show_step(step)
    return EXIT_OK if r.ok else EXIT_FAILED


# ---------------------------------------------------------------------------------------------
# status


def cmd_status(args: argparse.Namespace) -> int:
    from rota.config import load_config
    from rota.systemd.status import report

    config, config_error = None, None
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        config_error = str(exc)
    data = report(config, unit_dir=args.unit_dir, system=args.system, now=now())
    if config_error:
        data["config_error"] = config_error
    if args.json:
        from rota.render import print_json

        print_json(data, sys.stdout)
        return EXIT_CONFIG if config_error else EXIT_OK
    _show_status(data)
    if config_error:
        print(f"rota: {config_error}", file=sys.stderr)
        return EXIT_CONFIG
    return EXIT_OK


def _show_status(data: dict[str, Any]) -> None:
    from rota.systemd.units import TIMER_NAME

    t = data["now"]
    if data["installed"]:
        _say(f"installed: yes ({data['scope']} units in {data['unit_dir']})")
    else:
        partial = [n for n, present in data["units"].items() if present]
        extra = f" (only {', '.join(partial)})" if partial else ""
        _say(f"installed: no{extra}: `rota systemd install` writes rota.timer and rota.service")
    sd = data["systemd"]
    if not data["managed"]:
        _say(f"timer: unknown: systemd does not read {data['unit_dir']} (--unit-dir)")
    elif sd["running"] and not data["units"][TIMER_NAME]:
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
    if sch["expressions"]:
        exprs = ", ".join(f"OnCalendar={c}" for c in sch["expressions"])
        line = f"schedule: {exprs} (from the {sch['source']})"
        if sch.get("matches_config") is False:
            line += "; the config's [schedule] differs: re-run `rota systemd install`"
        _say(line)
    nf, lf = data["next_fire"], data["last_fire"]
    if nf.get("error"):
        _say(f"next fire: cannot compute: {nf['error']}")
    elif nf["source"]:
        how = {"systemd": "systemd", "systemd-analyze": "computed by systemd-analyze"}
        _say(f"next fire: {_when(nf['at'], t)} [{how.get(nf['source'], nf['source'])}]")
    elif nf.get("unknown"):
        _say(f"next fire: unknown (not computed: {nf['unknown']})")
    if lf["at"]:
        _say(f"last fire: {_when(lf['at'], t)}")
    else:
        _say("last fire: unknown" + ("" if sd["running"] else " (ask systemd where it runs)"))
    ls = data["last_session"]
    if ls:
        grade = "" if ls["reward"] is None else f", grade {ls['reward']:.2f}"
        code = "" if ls["exit_code"] is None else f", exit {ls['exit_code']}"
        _say(
            f"last session: #{ls['id']} {ls['status']} {_human_duration(ls['age_s'])} ago "
            f"({ls['arm']}{grade}{code})"
        )
    elif data.get("store_error"):
        _say(f"last session: unknown: {data['store_error']}")
    elif not data.get("config_error"):
        _say("last session: none recorded yet")


# ---------------------------------------------------------------------------------------------
# adopt


def cmd_adopt(args: argparse.Namespace) -> int:
    from rota.systemd.adopt import adopt

    r = adopt(args.unit_dir, disable_found=args.disable, grep=args.grep or ())
    if args.json:
        _json(r.to_dict())
    else:
        _show_adopt(r, args)
    return EXIT_OK if r.ok else EXIT_FAILED


def _show_adopt(r: Any, args: argparse.Namespace) -> None:
    from rota.systemd.adopt import redact

    lines: list[str] = []
    if not r.units:
        existing = [str(d) for d, _ in r.scanned if d.is_dir()]
        lines.append(
            "no per-backend units found in: " + ", ".join(existing)
            if existing
            else "no per-backend units found (none of the unit directories exists)"
        )
        _say("\n".join(lines))
        return
    lines.append(f"found {len(r.units)} per-backend unit{'s' if len(r.units) != 1 else ''}:")
    for u in r.units:
        via = f" via {u.call.via}" if u.call.via else ""
        model = f", model {u.call.model}" if u.call.model else ", model not given"
        lines.append(f"  {u.name} ({u.scope}: {u.path})")
        lines.append(f"    runs: {u.call.harness}{model}{via}")
        lines.append(f"    exec: {redact(u.exec_start)}")
        if not u.timers:
            lines.append("    timer: none found (started some other way?)")
        for tmr in u.timers:
            sched = "  ".join(f"{k}={v}" for k, v in tmr.settings) or "no schedule"
            en = " (enabled)" if tmr.enabled else ""
            lines.append(f"    timer: {tmr.name}{en}: {sched}")
    lines += ["", "config lines that reproduce them (merge into your rota config):", ""]
    lines.extend("  " + line if line else "" for line in r.snippet.splitlines())
    if r.disabled is not None:
        lines += ["", "disabling (unit files are kept):"]
        for d in r.disabled:
            lines.append(f"  {d.unit}: {'disabled' if d.disabled else f'not disabled: {d.detail}'}")
            if d.disabled:
                lines.append(f"    undo: {d.undo}")
        if not r.ok:
            lines.append(
                "  run `rota systemd adopt --disable` where systemd manages these units, or "
                "disable them by hand: systemctl [--user] disable --now NAME.timer"
            )
    if r.references is not None:
        lines.append("")
        if r.references:
            n = len(r.references)
            lines.append(f"other files that still name them ({n} line{'s' if n != 1 else ''}):")
            for ref in r.references:
                lines.append(f"  {ref.path}:{ref.line_no}: {redact(ref.line)}")
        else:
            lines.append("no other files under " + ", ".join(map(str, args.grep)) + " name them")
    if r.disabled is None:
        install, disable = r.next_steps
        lines += [
            "",
            f"next: add the lines above to your config, `{install}`, then `{disable}` to stop "
            "the old timers (files are kept).",
        ]
    _say("\n".join(lines))
