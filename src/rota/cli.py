"""Thin command-line layer: parse, call, render, exit code.

Only the module of the command being run is imported, so `rota select` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from rota import __version__
from rota.errors import EXIT_USAGE, RotaError

# command -> (module, one-line summary). Each module has register(subparsers) that adds its parser
# and sets `func(args) -> int` as the handler default.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("rota.commands.init", "write a commented starter config"),
    "select": ("rota.commands.select", "choose the harness:model arm for the next session"),
    "run": ("rota.commands.run", "run one session end to end: lock, select, execute, grade, learn"),
    "loop": ("rota.commands.loop", "run sessions back to back (for machines without systemd)"),
    "status": ("rota.commands.status", "posteriors, blocks, quota and recent sessions"),
    "sessions": ("rota.commands.sessions", "list recorded sessions"),
    "grade": ("rota.commands.grade", "set or correct a session's grade"),
    "block": ("rota.commands.block", "block an arm, harness or pool until a time"),
    "unblock": ("rota.commands.block", "remove blocks from an arm, harness or pool"),
    "quota": ("rota.commands.quota", "quota left per harness, pool and window"),
    "doctor": ("rota.commands.doctor", "check that each enabled harness can run"),
    "systemd": ("rota.commands.systemd", "install, inspect or retire systemd timers"),
    "health": ("rota.commands.health", "health check for monitoring"),
    "simulate": ("rota.commands.simulate", "replay scenarios against rota and baseline policies"),
    "store": ("rota.commands.store", "state store maintenance (migrate between stores)"),
    "report": ("rota.commands.report", "write an HTML report of what rota learnt and ran"),
    "metrics": ("rota.commands.metrics", "write Prometheus metrics (text exposition format)"),
}

EPILOG = """\
exit codes:
  0   a session ran (or, for select, an arm was chosen)
  2   command-line usage error
  69  the state store cannot be reached
  70  the harness crashed or timed out; the session is recorded
  75  the workspace is busy: another session holds the lock
  76  every arm is exhausted or blocked; the output says when the earliest resets
  78  configuration error

config: --config PATH, else $ROTA_CONFIG, else $XDG_CONFIG_HOME/rota/rota.toml
state:  $ROTA_STATE_DIR/rota.db, else $XDG_STATE_HOME/rota/rota.db
"""


def _terminal_width() -> int:
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps hand-written line breaks; sizes itself without argparse's `import shutil` (which
    drags lzma and bz2 onto the `rota select` path)."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        super().__init__(prog, indent_increment, max_help_position, width or _terminal_width() - 2)


def _parser(only: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rota",
        description="One timer, one decision: rota picks the best harness:model for the next "
        "agent session by Thompson sampling over graded outcomes, within quota.",
        epilog=EPILOG,
        formatter_class=Formatter,
    )
    parser.add_argument("--version", action="version", version=f"rota {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    registered: set[str] = set()
    only_module = COMMANDS[only][0] if only is not None else None
    for name, (module_name, summary) in COMMANDS.items():
        if only_module is not None and module_name != only_module:
            # Running one command: the others need not even be listed (each subparser costs
            # time on the `rota select` path). `rota --help` lists them all.
            continue
        if module_name in registered:
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            sub.add_parser(name, help=f"{summary} (not available in this build)")
            continue
        module.register(sub)
        registered.add(module_name)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    first = next((a for a in args_list if not a.startswith("-")), None)
    only = first if first in COMMANDS else None
    parser = _parser(only)
    args = parser.parse_args(args_list)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(func(args))
    except RotaError as exc:
        print(f"rota: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
