"""`rota report`: one self-contained HTML file showing what rota learnt, what ran and what it spent."""

from __future__ import annotations

import argparse
import sys

from rota.commands.common import Formatter, add_config_args, add_json_arg, load, now, store_for
from rota.errors import EXIT_OK, RotaError, UsageError

HELP = """\
Write one HTML file (inline CSS and SVG: no script, nothing fetched; it opens from disk or as an
e-mail attachment) built from the store:
  - per category, each arm's posterior mean with its 90% interval over time, rebuilt from the
    graded sessions with rota's own learning code, with detected changes, new arms and long
    blocks marked; next to it every grade with each arm's trend;
  - each arm's share of sessions per hour, day or week (by the length of the period);
  - each probed quota window's use over time (from the levels recorded with every session),
    with blocks and limit hits as bands, and every block on its scope's lane;
  - the newest sessions (time, category, arm, outcome, grade and its signals, duration, cost)
    with the decision behind each;
  - what changed since the last report (its time is kept in $ROTA_STATE_DIR/report-state.json).

Exit 0 when the file was written, 1 when it could not be, 2 for a bad --since, 69 when the
store cannot be read, 78 for a bad config.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="write an HTML report: posteriors, shares, grades, quota, sessions, changes",
        description=HELP,
        formatter_class=Formatter,
    )
    add_config_args(p, workspace=False)
    add_json_arg(p)
    p.add_argument(
        "--out",
        "-o",
        metavar="FILE.html",
        default="rota-report.html",
        help="where to write the report (default: ./rota-report.html; replaced atomically)",
    )
    p.add_argument(
        "--since",
        metavar="DURATION|TIME",
        default="30d",
        help="the period shown: a duration back from now (30d, 12h, 1d12h) or a time "
        "(2026-11-01, 2026-11-01T09:00Z); default 30d",
    )
    p.set_defaults(func=run)


def since_arg(text: str, t: float) -> float:
    from rota.timefmt import parse_duration, parse_time

    try:
        return t - parse_duration(text)
    except ValueError:
        pass
    try:
        since = parse_time(text, t)
    except ValueError:
        raise UsageError(
            f"--since {text!r}: expected a duration (30d, 12h) or a time (2026-11-01T09:00Z)"
        ) from None
    if since >= t:
        raise UsageError(f"--since {text!r} is not in the past")
    return since


def run(args: argparse.Namespace) -> int:
    from rota.render import print_json
    from rota.report.generate import generate

    config = load(args)
    t = now()
    since = since_arg(args.since, t)
    with store_for(config) as store:
        try:
            data = generate(config, store, now=t, since=since, out=args.out)
        except OSError as exc:
            raise RotaError(
                f"cannot write the report to {args.out}: {exc.strerror or exc}; "
                "choose another path with --out"
            ) from None
    if args.json:
        print_json(data)
    else:
        print(f"wrote {data['out']} ({data['sessions']:,} sessions, {len(data['charts'])} charts)")
        for c in data["changes"]:
            print(f"  {c['text']}")
    for w in data["warnings"]:
        print(f"rota: warning: {w}", file=sys.stderr)
    return EXIT_OK
