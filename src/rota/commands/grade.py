"""`rota grade SESSION_ID REWARD`: set or correct a session's grade."""

from __future__ import annotations

import argparse
import math

from rota.commands.common import Formatter, add_config_args, add_json_arg, load, now, store_for
from rota.errors import EXIT_OK, UsageError
from rota.render import print_document


def _reward(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {text!r}") from None
    if math.isnan(v) or not 0.0 <= v <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {text!r}")
    return v


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "grade",
        help="set or correct a session's grade",
        description="Set or correct the grade (0..1) of a finished session. The posterior of the "
        "arm that ran is updated consistently: a correction replaces the old grade's effect, it "
        "does not add a second observation.",
        formatter_class=Formatter,
    )
    add_config_args(p, workspace=False)
    add_json_arg(p)
    p.add_argument("session_id", type=int, metavar="SESSION_ID")
    p.add_argument("reward", type=_reward, metavar="REWARD", help="grade from 0 (useless) to 1")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = load(args)
    with store_for(config) as store:
        try:
            rec = store.set_grade(
                args.session_id,
                args.reward,
                now=now(),
                half_life_s=config.bandit.half_life_s,
            )
        except KeyError:
            raise UsageError(f"no session {args.session_id}; see `rota sessions`") from None
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    if args.json:
        print_document(rec.to_dict())
    else:
        hist = rec.signals.get("grade_history", [])
        prev = hist[-1]["previous"] if hist else None
        was = "ungraded" if prev is None else f"{prev:.2f}"
        print(
            f"session {rec.id} ({rec.credited_arm}, {rec.category}): grade {was} -> {rec.reward:.2f}"
        )
    return EXIT_OK
