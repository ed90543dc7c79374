"""`rota sessions`: the recorded sessions, newest first, with the signals behind each grade."""

from __future__ import annotations

import argparse

from rota.commands.common import Formatter, add_config_args, add_json_arg, load, now, store_for
from rota.commands.status import session_table
from rota.errors import EXIT_OK
from rota.render import print_json, use_colour
from rota.store.base import SESSION_STATES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sessions",
        help="list recorded sessions",
        description="List recorded sessions, newest first. --json includes each session's grading "
        "signals, the arm that actually ran, its log file and its decision id.",
        formatter_class=Formatter,
    )
    add_config_args(p, workspace=False)
    add_json_arg(p)
    p.add_argument("--limit", "-n", type=int, default=20, help="how many (default 20)")
    p.add_argument("--status", choices=SESSION_STATES, help="only sessions in this state")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = load(args)
    with store_for(config) as store:
        records = [s.to_dict() for s in store.recent_sessions(args.limit, status=args.status)]
    if args.json:
        print_json(records)
    elif records:
        print(session_table(records, now(), use_colour()))
    else:
        print("no sessions recorded yet")
    return EXIT_OK
