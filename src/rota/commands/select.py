"""`rota select`: choose the arm for the next session, and explain why."""

from __future__ import annotations

import argparse
import sys

from rota.commands.common import (
    Formatter,
    add_config_args,
    add_json_arg,
    category_arg,
    load,
    now,
    store_for,
)
from rota.errors import EXIT_EXHAUSTED, EXIT_OK
from rota.learning.policy import Decision
from rota.render import fmt, paint, print_json, table, use_colour
from rota.session.decide import decide
from rota.timefmt import iso, local, relative

HELP = """\
Choose the harness:model arm for the next session of a category of work.

For every configured arm rota checks blocks and quota, applies the category's rules, draws from
the arm's posterior for the category (pulled toward its record over all categories while the
category has few observations), adjusts for cost and quota pacing, and takes the best score.

Exit 0 with the chosen arm on stdout; exit 76 when every arm is exhausted or blocked (the message
names the earliest reset; --json gives it as earliest_reset).
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "select",
        help="choose the harness:model arm for the next session",
        description=HELP,
        formatter_class=Formatter,
    )
    add_config_args(p)
    p.add_argument("--category", "-c", help="work category (default: the configured default)")
    p.add_argument("--seed", type=int, help="seed the draws, for a reproducible choice")
    add_json_arg(p)
    p.add_argument(
        "--explain", action="store_true", help="show every arm: eligibility, posterior, draw"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = load(args)
    category = category_arg(config, args.category)
    t = now()
    with store_for(config) as store:
        decision = decide(config, store, category=category, now=t, seed=args.seed)
    if args.json:
        d = decision.to_dict()
        d["earliest_reset_iso"] = iso(decision.earliest_reset)
        print_json(d)
    else:
        if args.explain:
            print(explain(decision, t))
        if decision.arm:
            print(decision.arm)
        else:
            when = (
                f"earliest reset {local(decision.earliest_reset)} "
                f"({relative(decision.earliest_reset, t)})"
                if decision.earliest_reset
                else "no reset time is known"
            )
            print(f"rota: every arm is exhausted or blocked; {when}", file=sys.stderr)
    return EXIT_OK if decision.arm else EXIT_EXHAUSTED


def explain(decision: Decision, t: float) -> str:
    colour = use_colour()
    rows = []
    for c in sorted(decision.candidates, key=lambda c: (not c.eligible, -(c.score or -9), c.arm)):
        mark = "*" if c.arm == decision.arm else ""
        status = (
            paint("ok", "green", colour)
            if c.eligible
            else paint(c.reason.split(" ", 1)[0], "yellow", colour)
        )
        interval = f"[{fmt(c.low)}, {fmt(c.high)}]" if c.low is not None else "-"
        rows.append(
            [
                mark + c.arm,
                c.tier,
                fmt(c.cost, 1),
                status,
                fmt(c.mean),
                interval,
                c.n,
                fmt(c.sample, 3),
                fmt(c.score, 3) if c.eligible else "-",
                "; ".join(c.notes) if c.eligible else c.reason,
            ]
        )
    head = (
        f"category {decision.category}: "
        + (f"chose {decision.arm}, {decision.why}" if decision.arm else decision.why)
        + f"  (observation weight {decision.weight:.2f})"
    )
    return (
        head
        + "\n"
        + table(
            ["arm", "tier", "cost", "status", "mean", "90% interval", "n", "draw", "score", "why"],
            rows,
        )
    )
