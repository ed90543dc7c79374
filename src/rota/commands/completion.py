"""`rota completion SHELL`: the completion script for bash, zsh or fish, from the parser."""

from __future__ import annotations

import argparse
import os
import sys

from rota.commands.common import Formatter, add_json_arg
from rota.errors import EXIT_OK
from rota.render import print_document

HELP = """\
Print the completion script for bash, zsh or fish, generated from rota's own command line (every
command, option and fixed choice), or install it where the shell finds it:

  rota completion bash --install   ~/.local/share/bash-completion/completions/rota
  rota completion zsh --install    ~/.local/share/zsh/site-functions/_rota (add it to fpath)
  rota completion fish --install   ~/.config/fish/completions/rota.fish

Or load it by hand: `source <(rota completion bash)` in ~/.bashrc.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "completion",
        help="shell completion for bash, zsh and fish",
        description=HELP,
        formatter_class=Formatter,
    )
    p.add_argument("shell", choices=("bash", "zsh", "fish"), help="the shell")
    p.add_argument(
        "--install", action="store_true", help="write the script where the shell loads it"
    )
    add_json_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rota import completion
    from rota.cli import build_parser

    text = completion.script(args.shell, build_parser())
    if not args.install:
        if args.json:
            print_document({"shell": args.shell, "script": text})
        else:
            sys.stdout.write(text)
        return EXIT_OK
    path = completion.install_path(args.shell)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    hint = completion.activation_hint(args.shell, path)
    if args.json:
        print_document({"shell": args.shell, "path": str(path), "hint": hint})
    else:
        print(f"wrote {path}")
        print(hint)
    return EXIT_OK
