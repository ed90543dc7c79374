"""`rota select`: choose the arm for the next session, and explain why."""

from __future__ import annotations

import sys
from types import SimpleNamespace

from rota.commands.common import category_arg, load, now, store_for
from rota.errors import EXIT_EXHAUSTED, EXIT_OK
from rota.learning.bandit import DEFAULT_WEIGHT
from rota.render import fmt, paint, print_document, table, use_colour
from rota.session.decide import decide
from rota.timefmt import iso, when

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the select path
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from rota.learning.policy import Decision

HELP = """\
Choose the harness:model arm for the next session of a category of work.

For every configured arm rota checks blocks and quota, applies the category's rules, draws from
the arm's posterior for the category (pulled toward its record over all categories while the
category has few observations), adjusts for cost and quota pacing, and takes the best score.

Exit 0 with the chosen arm on stdout; exit 76 when every arm is exhausted or blocked (the message
names the earliest reset; --json gives it as earliest_reset).
"""


def register(sub: argparse._SubParsersAction) -> None:
    from rota.commands.common import Formatter, add_config_args, add_json_arg

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


# A plain `rota select` (what a timer runs before every session) is parsed by hand, without
# building a parser: these options, each once or more (the last one counts), as `--opt VALUE`
# (or `--opt=VALUE`, `-c VALUE`), with a VALUE that is not empty and does not start with "-".
# Anything else (help, an error, an abbreviation, a negative --seed) goes to argparse, which
# says what it always says. tests/test_select_plain_args.py holds the two to the same answers.
PLAIN_VALUES = {
    "--config": "config",
    "--workspace": "workspace",
    "--category": "category",
    "-c": "category",
    "--seed": "seed",
}
PLAIN_FLAGS = {"--json": "json", "--explain": "explain"}


def plain_args(args: list[str]) -> SimpleNamespace | None:
    """The namespace argparse would make of `rota select ARGS`, or None to leave it to argparse."""
    out: dict[str, Any] = {
        "command": "select",
        "config": None,
        "workspace": None,
        "category": None,
        "seed": None,
        "json": False,
        "explain": False,
    }
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in PLAIN_FLAGS:
            out[PLAIN_FLAGS[arg]] = True
            i += 1
            continue
        name, eq, value = arg.partition("=")
        if eq and name.startswith("--") and name in PLAIN_VALUES:
            i += 1
        elif arg in PLAIN_VALUES and i + 1 < len(args):
            name, value = arg, args[i + 1]
            i += 2
        else:
            return None
        if not value or value.startswith("-"):
            return None
        dest = PLAIN_VALUES[name]
        if dest == "seed":
            try:
                out[dest] = int(value)
            except ValueError:
                return None
        else:
            out[dest] = value
    out["func"] = run
    return SimpleNamespace(**out)


def run(args: Any) -> int:
    config = load(args)
    category = category_arg(config, args.category)
    t = now()
    with store_for(config) as store:
        decision = decide(config, store, category=category, now=t, seed=args.seed)
    if args.json:
        d = decision.to_dict()
        d["earliest_reset_iso"] = iso(decision.earliest_reset)
        for c in d["candidates"]:
            c["until_iso"] = iso(c["until"])
            if c["reason"] == DISABLED:
                c["sample"] = None  # drawn only to keep seeded draws stable; not a contender
        print_document(d)
    else:
        if args.explain:
            print(explain(decision, t, config.bandit.observation_weight is None))
        if decision.arm:
            print(decision.arm)
        else:
            when_text = (
                f"earliest reset {when(decision.earliest_reset, t)}"
                if decision.earliest_reset
                else "no reset time is known"
            )
            print(f"rota: every arm is exhausted or blocked; {when_text}", file=sys.stderr)
    return EXIT_OK if decision.arm else EXIT_EXHAUSTED


DISABLED = "disabled in config"
AUTO_WEIGHT = (
    f"auto: {DEFAULT_WEIGHT:g} until enough grades are recorded, then measured from their spread"
)

LEGEND = (
    "draw: a sample from the arm's posterior for this category (Thompson sampling: uncertain arms "
    "spread wider). score: the draw less the cost penalty (cost_weight x cost / dearest cost), "
    "plus or minus quota pacing, plus 1 while an arm has fewer than explore_min_trials "
    "observations; the highest score wins, so the best draw can lose to a cheaper or "
    "better-paced arm close behind it.",
    "observation weight {weight:.2f}: one graded session counts as {weight:.2f} observations of "
    "a coin flip ({how}); a higher weight moves the posteriors faster.",
)


def legend(weight: float, how: str, width: int = 100) -> str:
    import textwrap

    return "\n".join(
        textwrap.fill(p.format(weight=weight, how=how), width, subsequent_indent="  ")
        for p in LEGEND
    )


def explain(decision: Decision, t: float, weight_auto: bool = True) -> str:
    colour = use_colour()
    rows = []
    order = sorted(
        decision.candidates,
        key=lambda c: (c.reason == DISABLED, not c.eligible, -(c.score or -9), c.arm),
    )
    for c in order:
        mark = "*" if c.arm == decision.arm else ""
        disabled = c.reason == DISABLED
        status = (
            paint("ok", "green", colour)
            if c.eligible
            else paint("disabled" if disabled else c.reason.split(" ", 1)[0], "yellow", colour)
        )
        interval = f"[{fmt(c.low)}, {fmt(c.high)}]" if c.low is not None else "-"
        why = "; ".join(c.notes) if c.eligible else c.reason
        if c.until is not None:
            why = why.replace(f"until {iso(c.until)}", f"until {when(c.until, t)}")
        if c.eligible and c.score is not None and c.sample is not None and not c.notes:
            why = "score = draw"
        rows.append(
            [
                mark + c.arm,
                c.tier,
                fmt(c.cost, 1),
                status,
                fmt(c.mean),
                interval,
                c.n,
                "-" if disabled else fmt(c.sample, 3),
                fmt(c.score, 3) if c.eligible else "-",
                why,
            ]
        )
    head = (
        f"category {decision.category}: "
        + (f"chose {decision.arm}, {decision.why}" if decision.arm else decision.why)
        + f"  (observation weight {decision.weight:.2f})"
    )
    how = AUTO_WEIGHT if weight_auto else "set in [bandit] observation_weight"
    from rota.render import terminal_width

    return (
        head
        + "\n"
        + table(
            ["arm", "tier", "cost", "status", "mean", "90% interval", "n", "draw", "score", "why"],
            rows,
        )
        + "\n"
        + paint(legend(decision.weight, how, min(100, terminal_width())), "dim", colour)
    )
