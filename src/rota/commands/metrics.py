"""`rota metrics`: Prometheus metrics in the text exposition format, to stdout or a text file."""

from __future__ import annotations

import argparse
import sys

from rota.commands.common import Formatter, add_config_args, load, now, store_for
from rota.errors import EXIT_OK, RotaError

HELP = """\
Print rota's metrics in the Prometheus text exposition format, or write them to --textfile
(else [metrics] textfile) for node_exporter's textfile collector: written to a temporary file
and renamed, so the collector never reads half a file; mode 0644, so it can read it. `rota run`
and `rota loop` rewrite the file after each session when [metrics] textfile is set.

  rota_sessions_total{category,arm,outcome}        sessions recorded (arm: the one that ran)
  rota_grade_sum / rota_grade_count{category,arm}  grades of graded sessions
  rota_last_success_timestamp_seconds              when the newest completed session ended
  rota_last_decision_timestamp_seconds             when the newest decision was made
  rota_seconds_since_last_decision                 its age when the file was written
  rota_blocks_active{scope_kind}                   blocks in force per kind of scope
  rota_block_until_timestamp_seconds{scope_kind,scope,source}
  rota_quota_used_ratio / rota_quota_available / rota_quota_resets_timestamp_seconds
                                                   {scope_kind,scope,window,source}
  rota_posterior_mean / _interval90_low / _interval90_high / rota_posterior_observations
                                                   {category,arm}, as `rota status` shows them
  rota_sessions_running, rota_metrics_generated_timestamp_seconds

Alert on age, e.g. `time() - rota_last_success_timestamp_seconds > 86400`.
Exit 0, 1 when the file cannot be written, 69 when the store cannot be read, 78 for a bad config.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "metrics",
        help="write Prometheus metrics (text exposition format)",
        description=HELP,
        formatter_class=Formatter,
    )
    add_config_args(p, workspace=False)
    p.add_argument(
        "--textfile",
        metavar="PATH",
        help="write here (default: [metrics] textfile; stdout when neither is set); "
        "node_exporter reads *.prom files from its --collector.textfile.directory",
    )
    p.add_argument("--stdout", action="store_true", help="print to stdout even if a file is set")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rota.report import metrics

    config = load(args)
    path = "" if args.stdout else metrics.textfile_path(config, args.textfile)
    t = now()
    with store_for(config) as store:
        if not path:
            sys.stdout.write(metrics.render(config, store, t))
            return EXIT_OK
        try:
            metrics.write(config, store, t, path)
        except OSError as exc:
            raise RotaError(
                f"cannot write the metrics file {path}: {exc.strerror or exc}; check that its "
                "directory exists and is writable, or set [metrics] textfile elsewhere"
            ) from None
    print(f"wrote {path}")
    return EXIT_OK
