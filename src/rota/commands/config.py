"""`rota config check`: every problem in the config file at once, in file order."""

from __future__ import annotations

import argparse
import os
import re
import sys
from typing import Any

from rota.commands.common import Formatter, add_config_args, add_json_arg
from rota.config import Config, config_file, load_config
from rota.errors import EXIT_CONFIG, EXIT_OK, ConfigError
from rota.render import paint, print_document, use_colour

HELP = """\
Check the config file and report every problem in it at once, in file order, each with its line,
its key and what was expected; then what the loader cannot see (harness options, the schedule's
calendar, the workspace) as warnings.

Exit 0 when the config loads (warnings allowed), 78 when it does not.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "config",
        help="check the config file: every error at once",
        description="The config file. `rota config check` reports every problem in it at once.",
        formatter_class=Formatter,
    )
    cmds = p.add_subparsers(dest="config_command", metavar="COMMAND")
    c = cmds.add_parser(
        "check",
        help="report every problem in the config, in file order",
        description=HELP,
        formatter_class=Formatter,
    )
    add_config_args(c)
    add_json_arg(c)
    c.set_defaults(func=run_check)
    p.set_defaults(func=lambda args: _usage(p))


def _usage(p: argparse.ArgumentParser) -> int:
    p.print_help(sys.stderr)
    return 2


def _problem(err: ConfigError) -> dict[str, Any]:
    return {"line": err.line, "key": err.key, "message": err.message}


def _toml_line(err: ConfigError) -> ConfigError:
    m = re.search(r"\(at line (\d+), column \d+\)", err.message)
    line = int(m.group(1)) if m else err.line
    return ConfigError(err.message, path=err.path, key=err.key, line=line)


def warnings_for(config: Config) -> list[dict[str, Any]]:
    """What loads but will not work as meant (each with its fix)."""
    from rota.harnesses.registry import config_problems

    out: list[dict[str, Any]] = []
    for hc in config.harnesses.values():
        for problem, fix in config_problems(hc):
            out.append({"key": f"harnesses.{hc.name}", "message": problem, "fix": fix})
    if not config.enabled_arms():
        out.append(
            {
                "key": "harnesses",
                "message": "no arm is enabled: rota select has nothing to choose from",
                "fix": "set enabled = true under a [harnesses.NAME] that has models",
            }
        )
    from rota.systemd.analyze import CalendarError, check

    cal = config.schedule.on_calendar
    for expr in [cal] if isinstance(cal, str) else list(cal):
        try:
            check(expr)  # systemd-analyze decides; where it is missing nothing is said
        except CalendarError as exc:
            out.append(
                {
                    "key": "schedule.on_calendar",
                    "message": str(exc),
                    "fix": 'a systemd calendar, e.g. "*-*-* *:00,30:00"',
                }
            )
    ws = config.workspace.location
    if not os.path.isdir(ws):
        out.append(
            {
                "key": "workspace.path",
                "message": f"{ws} does not exist",
                "fix": "create it (git init) or point [workspace] path at your repository",
            }
        )
    elif not os.path.exists(os.path.join(ws, ".git")):
        out.append(
            {
                "key": "workspace.path",
                "message": f"{ws} is not a git repository: sessions cannot be graded by commits",
                "fix": f"git -C {ws} init, or point [workspace] path at your repository",
            }
        )
    return out


def run_check(args: argparse.Namespace) -> int:
    path = config_file(args.config)
    errors: list[ConfigError] = []
    warnings: list[dict[str, Any]] = []
    config = None
    try:
        config = load_config(path, workspace=args.workspace)
    except ConfigError as exc:
        errors = [_toml_line(e) for e in (getattr(exc, "problems", None) or [exc])]
    if config is not None:
        warnings = warnings_for(config)
    if args.json:
        print_document(
            {
                "config": path,
                "ok": not errors,
                "errors": [_problem(e) for e in errors],
                "warnings": warnings,
            }
        )
        return EXIT_CONFIG if errors else EXIT_OK
    colour = use_colour()
    for e in errors:
        print(paint("error", "red", colour) + f" {e}")
    for w in warnings:
        print(paint("warning", "yellow", colour) + f" {path}: [{w['key']}] {w['message']}")
        print(f"  fix: {w['fix']}")
    if errors:
        n = len(errors)
        print(f"{path}: {n} error{'s' if n > 1 else ''}; rota refuses this config (exit 78)")
        return EXIT_CONFIG
    assert config is not None
    arms = len(config.enabled_arms())
    print(
        f"{path}: ok ({len(config.harnesses)} harness(es), {arms} enabled arm(s)"
        + (f", {len(warnings)} warning(s))" if warnings else ")")
    )
    return EXIT_OK
