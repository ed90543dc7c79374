"""`rota health [--json]`: a check for monitoring (cron, a systemd OnFailure= unit, a dashboard)."""

from __future__ import annotations

import argparse
import sys

from rota.commands.common import Formatter, add_config_args, add_json_arg, load, now
from rota.errors import EXIT_OK

EXIT_UNHEALTHY = 1

HELP = """\
Exit 0 when healthy; otherwise exit 1 and name each problem:
  store_readable   the state store cannot be read
  recent_success   no session completed within [health] max_hours_without_success (24)
  crash_streak     the last [health] crash_streak (3) sessions all crashed or timed out
  arms_available   every enabled arm has been blocked for over [health] blocked_all_hours (6)
  timer_active     rota.timer is installed but inactive (checked only where systemd runs)

A check that cannot be judged (no sessions yet, no systemd here) is "unknown", not a problem;
--require-timer makes an unknown or missing timer a problem too. A bad config exits 78.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "health",
        help="health check for monitoring",
        description=HELP,
        formatter_class=Formatter,
    )
    add_config_args(p, workspace=False)
    add_json_arg(p)
    p.add_argument(
        "--require-timer",
        action="store_true",
        help="a timer that is not installed, or whose state is unknown, is a problem",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="print only the problems")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rota import health
    from rota.render import paint, print_document, use_colour
    from rota.report.hooks import health_changed

    config = load(args)
    t = now()
    inp = health.gather(config, now=t, timer=health.timer_facts())
    thresholds = health.HealthThresholds.of(config.health, require_timer=args.require_timer)
    report = health.evaluate(inp, thresholds)
    # [notify]: turning unhealthy, and healthy again, is announced once each
    health_changed(
        config, healthy=report.healthy, problems=[f"{c.name}: {c.detail}" for c in report.problems]
    )
    if args.json:
        print_document(report.to_dict(), sys.stdout)
    else:
        colour = use_colour(sys.stdout)
        if report.healthy:
            print(paint("healthy", "green", colour))
        else:
            n = len(report.problems)
            print(paint(f"unhealthy: {n} problem{'s' if n != 1 else ''}", "red", colour))
        marks = {health.OK: "ok", health.PROBLEM: "PROBLEM", health.UNKNOWN: "unknown"}
        paints = {health.OK: "green", health.PROBLEM: "red", health.UNKNOWN: "dim"}
        for c in report.checks:
            if args.quiet and c.status != health.PROBLEM:
                continue
            mark = paint(f"{marks[c.status]:<8}", paints[c.status], colour)
            print(f"  {mark} {c.name}: {c.detail}")
    return EXIT_OK if report.healthy else EXIT_UNHEALTHY
