"""`rota loop`: sessions back to back, for machines without systemd."""

from __future__ import annotations

import argparse
import sys
import time

from rota.commands.common import Formatter, add_config_args, add_json_arg, category_arg, load
from rota.errors import EXIT_BUSY, EXIT_EXHAUSTED, EXIT_OK, RotaError
from rota.session.stop import Interrupted, StopFlag

HELP = """\
Run `rota run` again and again in this process, with [run] loop_gap_seconds (or --gap) between
sessions. When every arm is exhausted (76) it sleeps until the earliest reset, at most [run]
retry_interval_minutes (default 10); when the workspace is busy (75) it waits the gap. The
config is re-read before each session; an edit that does not load keeps the previous config.

SIGTERM or SIGINT stops the current session properly (it is recorded as interrupted) and ends
the loop with exit 0.
"""


def register(sub: argparse._SubParsersAction) -> None:
    from rota.commands.run import add_run_args

    p = sub.add_parser(
        "loop",
        help="run sessions back to back (for machines without systemd)",
        description=HELP,
        formatter_class=Formatter,
    )
    add_config_args(p)
    add_run_args(p)
    p.add_argument(
        "--gap",
        type=_non_negative,
        metavar="SECONDS",
        help="seconds between sessions (default: [run] loop_gap_seconds)",
    )
    p.add_argument(
        "--max-sessions",
        type=_positive_int,
        metavar="N",
        help="stop after N sessions have run (default: run until stopped)",
    )
    add_json_arg(p)
    p.set_defaults(func=run)


def _non_negative(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not v >= 0:
        raise argparse.ArgumentTypeError(f"expected seconds >= 0, got {text!r}")
    return v


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {text!r}")
    return v


def _say(text: str) -> None:
    from rota import journal

    journal.log_event("loop", reason=text)


def run(args: argparse.Namespace) -> int:
    from rota.commands.run import report
    from rota.session.run import RunOptions, run_once

    config = load(args)  # a broken config at start is exit 78; later edits are retried
    category_arg(config, args.category)  # a typo ends the loop before its first lock
    stop = StopFlag()
    sessions = 0
    first = True
    with stop.handling():
        while not stop.is_set():
            if not first:
                try:
                    config = load(args)
                except RotaError as exc:
                    print(f"rota: {exc} (keeping the previous config)", file=sys.stderr)
            first = False
            gap = args.gap if args.gap is not None else config.run.loop_gap_seconds
            retry_s = config.run.retry_interval_minutes * 60.0
            opts = RunOptions(category=args.category, prompt_file=args.prompt_file)
            try:
                result = run_once(config, opts, stop)
            except Interrupted:
                break
            except RotaError as exc:
                # A failing prompt command or an unreachable store may pass: retry later.
                print(f"rota: {exc}", file=sys.stderr)
                _say(f"error (exit {exc.exit_code}); retrying in {retry_s:.0f}s")
                stop.wait(retry_s)
                continue
            report(result, as_json=args.json)
            if result.session is not None:
                sessions += 1
            if stop.is_set():
                break
            if args.max_sessions is not None and sessions >= args.max_sessions:
                break
            if result.exit_code == EXIT_EXHAUSTED:
                wait = retry_s
                if result.earliest_reset is not None:
                    wait = min(retry_s, max(1.0, result.earliest_reset - time.time()))
                _say(f"every arm is exhausted or blocked; sleeping {wait:.0f}s")
            elif result.exit_code == EXIT_BUSY:
                wait = max(gap, 1.0)
                _say(f"workspace busy; retrying in {wait:.0f}s")
            else:
                wait = gap
            if wait > 0:
                stop.wait(wait)
    return EXIT_OK
