"""`rota man`: the rota(1) manual page, generated from the command line."""

from __future__ import annotations

import argparse
import os
import sys

from rota.commands.common import Formatter, add_json_arg
from rota.errors import EXIT_OK
from rota.render import print_document

HELP = """\
Print the rota(1) manual page (roff), generated from the same parser as --help and the shell
completion, or install it:

  rota man | man -l -                 read it now
  rota man --install                  ~/.local/share/man/man1/rota.1, then `man rota`
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "man",
        help="the manual page, generated from this command line",
        description=HELP,
        formatter_class=Formatter,
    )
    p.add_argument(
        "--install",
        action="store_true",
        help="write it to $XDG_DATA_HOME/man/man1/rota.1 (default ~/.local/share/man/man1)",
    )
    add_json_arg(p)
    p.set_defaults(func=run)


def install_path() -> str:
    data = os.environ.get("XDG_DATA_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "share"
    )
    return os.path.join(data, "man", "man1", "rota.1")


def run(args: argparse.Namespace) -> int:
    from rota import __version__, manpage
    from rota.cli import EPILOG, build_parser

    text = manpage.render(build_parser(), __version__, EPILOG)
    if not args.install:
        if args.json:
            print_document({"page": text})
        else:
            sys.stdout.write(text)
        return EXIT_OK
    path = install_path()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(path + ".tmp", path)
    manpath = os.path.dirname(os.path.dirname(path))
    hint = f"`man rota` finds it when ~/.local/bin is on PATH; else: MANPATH={manpath}: man rota"
    if args.json:
        print_document({"path": path, "hint": hint})
    else:
        print(f"wrote {path}")
        print(hint)
    return EXIT_OK
