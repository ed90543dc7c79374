"""Thin command-line layer: parse, call, render, exit code.

Only the module of the command being run is imported, so `rota select` stays fast.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

from rota import __version__
from rota.errors import EXIT_USAGE, RotaError
from rota.lean_argparse import argparse
from rota.render import terminal_width

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the select path
if TYPE_CHECKING:
    from typing import NoReturn

# command -> (module, one-line summary). Each module has register(subparsers) that adds its parser
# and sets `func(args) -> int` as the handler default.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("rota.commands.init", "write a commented starter config"),
    "select": ("rota.commands.select", "choose the harness:model arm for the next session"),
    "run": ("rota.commands.run", "run one session end to end: lock, select, execute, grade, learn"),
    "loop": ("rota.commands.loop", "run sessions back to back (for machines without systemd)"),
    "status": ("rota.commands.status", "posteriors, blocks, quota and recent sessions"),
    "sessions": ("rota.commands.sessions", "list recorded sessions, or show one"),
    "grade": ("rota.commands.grade", "set or correct a session's grade"),
    "block": ("rota.commands.block", "block an arm, harness or pool until a time"),
    "unblock": ("rota.commands.block", "remove blocks from an arm, harness or pool"),
    "quota": ("rota.commands.quota", "quota left per harness, pool and window, and why"),
    "doctor": ("rota.commands.doctor", "can a session run? workspace, store, timer, harnesses"),
    "systemd": ("rota.commands.systemd", "install, inspect or retire systemd timers"),
    "health": ("rota.commands.health", "health check for monitoring"),
    "simulate": ("rota.commands.simulate", "replay scenarios against rota and baseline policies"),
    "store": ("rota.commands.store", "state store maintenance (migrate between stores)"),
    "report": ("rota.commands.report", "write an HTML report of what rota learnt and ran"),
    "metrics": ("rota.commands.metrics", "write Prometheus metrics (text exposition format)"),
    "config": ("rota.commands.config", "check the config file: every error at once"),
    "completion": ("rota.commands.completion", "shell completion for bash, zsh and fish"),
    "man": ("rota.commands.man", "the manual page, generated from this command line"),
}

EPILOG = """\
global options (before or after the command): --config PATH, --json, --workspace DIR

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
        super().__init__(prog, indent_increment, max_help_position, width or terminal_width() - 2)


class Parser(argparse.ArgumentParser):
    """argparse, with a suggestion for a mistyped option or subcommand."""

    def error(self, message: str) -> NoReturn:  # type: ignore[override]
        hint = _suggestion(self, message)
        super().error(message + (f"; did you mean {hint}?" if hint else ""))


def _suggestion(parser: argparse.ArgumentParser, message: str) -> str | None:
    import difflib  # only on this error path
    import re

    m = re.search(r"unrecognized arguments: (\S+)", message)
    if m and m.group(1).startswith("-"):
        word, known = m.group(1).split("=", 1)[0], _option_strings(parser)
    else:
        m = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if not m:
            return None
        word, known = m.group(1), re.findall(r"'([^']*)'", m.group(2))
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    return close[0] if close else None


def _option_strings(parser: argparse.ArgumentParser) -> list[str]:
    """Every long option of the parser and of the subcommands it has built."""
    out: list[str] = []
    for action in parser._actions:
        out += [o for o in action.option_strings if o.startswith("--")]
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                out += _option_strings(sub)
    return out


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line (every command), or only the parser of `only` and its module."""
    return _parser(only)


def _parser(only: str | None) -> argparse.ArgumentParser:
    parser = Parser(
        prog="rota",
        description="One timer, one decision: rota picks the best harness:model for the next\n"
        "agent session by Thompson sampling over graded outcomes, within quota.",
        epilog=EPILOG,
        formatter_class=Formatter,
    )
    parser.add_argument("--version", action="version", version=f"rota {__version__}")
    if only is None:  # documented for --help and completion; main() moves them behind the command
        _global_options(parser)
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


def _global_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", metavar="PATH", dest="global_config", help="config file (any command)"
    )
    parser.add_argument(
        "--json", action="store_true", dest="global_json", help="JSON for scripts (most commands)"
    )
    parser.add_argument(
        "--workspace",
        metavar="DIR",
        dest="global_workspace",
        help="the workspace, where a command uses one",
    )


# Options every command takes in the same meaning, accepted before or after the command word
# (`rota --json status` = `rota status --json`): moved behind the command before parsing.
GLOBAL_VALUE_OPTIONS = ("--config", "--workspace")
GLOBAL_FLAG_OPTIONS = ("--json",)


def split_globals(args: list[str]) -> tuple[list[str], str | None, list[str]]:
    """-> (arguments for the command line with the global options moved behind the command word,
    the command word or None, the global options that were moved)."""
    lead: list[str] = []
    moved: list[str] = []
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "--":
        a = args[i]
        name = a.split("=", 1)[0]
        if a in GLOBAL_VALUE_OPTIONS and i + 1 < len(args):
            moved += [a, args[i + 1]]
            i += 2
            continue
        if name in GLOBAL_VALUE_OPTIONS or a in GLOBAL_FLAG_OPTIONS:
            moved.append(a)
        else:
            lead.append(a)  # --help, --version: the top-level parser's own
        i += 1
    if i >= len(args) or args[i] == "--":
        return lead + moved + args[i:], None, moved
    command, rest = args[i], args[i + 1 :]
    if "--" in rest:  # everything after `--` is data: the options go before it
        cut = rest.index("--")
        rest = rest[:cut] + moved + rest[cut:]
    else:
        rest = rest + moved
    return [*lead, command, *rest], command, moved


def suggest_command(word: str) -> str | None:
    import difflib  # only on this error path

    close = difflib.get_close_matches(word, list(COMMANDS), n=1, cutoff=0.6)
    if close:
        return close[0]
    prefixed = [c for c in COMMANDS if c.startswith(word)]
    return prefixed[0] if len(prefixed) == 1 else None


def main(argv: Sequence[str] | None = None) -> int:
    args_list, command, _ = split_globals(list(sys.argv[1:] if argv is None else argv))
    if command is not None and command not in COMMANDS:
        guess = suggest_command(command)
        hint = f"; did you mean {guess}?" if guess else ""
        print(
            f"rota: unknown command {command!r}{hint} (`rota --help` lists the commands)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    parser = _parser(command)
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
