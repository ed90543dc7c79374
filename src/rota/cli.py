"""Thin command-line layer: parse, call, render, exit code.

Only the module of the command being run is imported, and a plain `rota select` (which runs
before every session) is parsed by hand: argparse, and the parser it would build, are loaded only
for the other commands, for help and for anything the hand parser does not take
(rota.commands.select.plain_args), so help, errors and suggestions are argparse's own.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from rota.commands import COMMANDS as COMMANDS  # re-exported: the command table
from rota.commands import EPILOG as EPILOG
from rota.errors import EXIT_USAGE, RotaError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the select path
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable
    from typing import Any


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line (every command), or only the parser of `only` and its module."""
    from rota.command_line import build_parser as build  # argparse: not on a plain select's path

    return build(only)


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
    import _signal

    import rota

    if _signal.getsignal(_signal.SIGINT) is rota._exit_quietly:  # started: Ctrl-C as usual
        _signal.signal(_signal.SIGINT, _signal.default_int_handler)
    try:
        return _dispatch(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:  # also while the command's modules were still loading
        return 130
    except BrokenPipeError:
        return 0


def _dispatch(argv: list[str]) -> int:
    args_list, command, _ = split_globals(argv)
    if command is not None and command not in COMMANDS:
        guess = suggest_command(command)
        hint = f"; did you mean {guess}?" if guess else ""
        print(
            f"rota: unknown command {command!r}{hint} (`rota --help` lists the commands)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if command == "select" and args_list[0] == command:
        from rota.commands.select import plain_args

        plain = plain_args(args_list[1:])
        if plain is not None:
            return _call(plain.func, plain)
    parser = build_parser(command)
    args = parser.parse_args(args_list)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    return _call(func, args)


def _call(func: Callable[[Any], int], args: Any) -> int:
    """The command's handler, with rota's errors as their exit codes."""
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
