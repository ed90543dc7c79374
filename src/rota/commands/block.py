"""`rota block` / `rota unblock`: keep an arm, harness or pool out of selection until a time."""

from __future__ import annotations

import argparse

from rota.commands.common import Formatter, add_config_args, add_json_arg, load, now, store_for
from rota.config import Config
from rota.errors import EXIT_OK, UsageError
from rota.quota.state import Block
from rota.render import print_document
from rota.timefmt import iso, parse_duration, parse_time, when

TARGET_HELP = "an arm (harness:model), a harness name, or pool:NAME"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "block",
        help="block an arm, harness or pool until a time",
        description="Keep an arm, a whole harness or a quota pool out of selection until a time.\n"
        "Times and durations are read as rota reads them in harness output, so what a limit "
        "message said can be typed as it is.\n"
        "examples:\n  rota block codex --for 3d --reason 'account restricted'\n"
        "  rota block codex --for '2 days 17 hours'\n"
        "  rota block claude-code:opus --until 2026-12-01T08:00Z\n"
        "  rota block claude-code --until '11pm (UTC)'\n  rota block pool:chatgpt --until 'in 90m'",
        formatter_class=Formatter,
    )
    add_config_args(p, workspace=False)
    add_json_arg(p)
    p.add_argument("target", metavar="TARGET", help=TARGET_HELP)
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument(
        "--until",
        metavar="TIME",
        help="an ISO time (local if no zone), a wall time (23:30, 11pm, '2:57 PM (UTC)', "
        "'Dec 1, 8am'), 'in DURATION', or an epoch",
    )
    g.add_argument(
        "--for",
        dest="duration",
        metavar="DURATION",
        help="e.g. 90m, 2h, 1d12h, 1h30m, '2 days 17 hours'",
    )
    p.add_argument("--reason", default="", help="shown in select --explain and status")
    p.set_defaults(func=run_block)

    u = sub.add_parser(
        "unblock",
        help="remove blocks from an arm, harness or pool",
        description="Remove every block on an arm, a harness or a pool.",
        formatter_class=Formatter,
    )
    add_config_args(u, workspace=False)
    add_json_arg(u)
    u.add_argument("target", metavar="TARGET", help=TARGET_HELP)
    u.set_defaults(func=run_unblock)


def resolve_target(config: Config, target: str) -> tuple[str, str]:
    if target.startswith("pool:"):
        name = target[5:]
        if name not in config.pools:
            raise UsageError(
                f"unknown pool {name!r}; configured pools: {', '.join(config.pools) or 'none'}"
            )
        return "pool", name
    if ":" in target:
        if target not in config.arms:
            raise UsageError(
                f"unknown arm {target!r}; configured arms: {', '.join(config.arms) or 'none'}"
            )
        return "arm", target
    if target not in config.harnesses:
        raise UsageError(
            f"unknown harness {target!r}; configured harnesses: {', '.join(config.harnesses) or 'none'}"
        )
    return "harness", target


def run_block(args: argparse.Namespace) -> int:
    config = load(args)
    kind, scope = resolve_target(config, args.target)
    t = now()
    try:
        until = parse_time(args.until, t) if args.until else t + parse_duration(args.duration)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if until <= t:
        raise UsageError(f"{args.until or args.duration} is not in the future")
    block = Block(kind, scope, until, args.reason, "manual", t)
    with store_for(config) as store:
        store.add_block(block)
    if args.json:
        print_document({"scope_kind": kind, "scope": scope, "until": iso(until), "reason": args.reason})
    else:
        print(f"blocked {kind} {scope} until {when(until, t)}")
    return EXIT_OK


def run_unblock(args: argparse.Namespace) -> int:
    config = load(args)
    kind, scope = resolve_target(config, args.target)
    with store_for(config) as store:
        n = store.remove_blocks(kind, scope)
    if args.json:
        print_document({"scope_kind": kind, "scope": scope, "removed": n})
    else:
        print(f"removed {n} block(s) on {kind} {scope}")
    return EXIT_OK
