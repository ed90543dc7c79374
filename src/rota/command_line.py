"""The argparse command line: the parser of every command (or of the one being run), its help
formatter, and "did you mean" for a mistyped option or subcommand.

Imported only when a parser is needed: a plain `rota select` is parsed by hand (rota.cli) and
never loads argparse.
"""

from __future__ import annotations

import importlib

from rota import __version__
from rota.commands import COMMANDS, EPILOG
from rota.lean_argparse import argparse
from rota.render import terminal_width

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the select path
if TYPE_CHECKING:
    from typing import NoReturn


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps hand-written line breaks; sizes itself without argparse's `import shutil` (which
    drags lzma and bz2 in)."""

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
            # time). `rota --help` lists them all.
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
