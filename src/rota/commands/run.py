"""`rota run`: one session end to end (what the timer calls)."""

from __future__ import annotations

import argparse
import json
import sys

from rota.commands.common import Formatter, add_config_args, add_json_arg, load, now
from rota.errors import UsageError
from rota.render import print_document
from rota.session.stop import StopFlag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from rota.config import Config
    from rota.session.live import Watcher
    from rota.session.plan import Forced
    from rota.session.record import Started

HELP = """\
Run one agent session end to end:

  1. take the workspace lock without waiting (held: exit 75, naming the holder)
  2. mark sessions left `running` by dead processes as abandoned (no grade)
  3. category: --category, else [run] category_command, else default_category
  4. choose the arm (quota, blocks, rules, Thompson sampling); none usable: exit 76
  5. prompt: --prompt-file, else [run] prompt_command, else [run] prompt_file, else [run] prompt
  6. run the harness in the workspace, in its own process group, with its timeout, logging to
     $ROTA_STATE_DIR/logs/ (owner-only)
  7. classify: completed, rate_limited, crashed, timed_out or interrupted; credit the model that
     actually ran
  8. grade (exit status, commits, files changed, test_command, the harness's own verdict,
     grader_command) and update the posterior in the same transaction as the session record;
     a rate limit blocks the harness (or pool, or model) until its reset instead

SIGTERM or SIGINT stops the harness's process group (TERM, then KILL after [run]
kill_grace_seconds; a second signal skips the wait) and records the session as interrupted.

At a terminal, one line shows the session as it runs: the arm, the time since it started and the
last thing the harness did (the log's path is printed first). --follow streams the harness's own
output instead. Under systemd (no terminal, or $JOURNAL_STREAM set) neither: the journal lines
stay as they are.

--arm ARM or --harness H runs this session on a chosen arm (or the best arm of a chosen harness):
the category's rules do not apply, quota and blocks still do; the session is recorded, graded and
learnt from like any other, and its decision is marked as forced.
"""

EPILOG = """\
exit codes:
  0    the session ran to its end (whatever its grade), or it stopped on a rate limit
  70   the harness crashed, could not start, or timed out; the session is recorded
  75   the workspace is busy: another session holds the lock
  76   every arm is exhausted or blocked (--json: earliest_reset)
  78   configuration error, or the category/prompt command failed (no session started)
  130  interrupted by SIGINT, 143 by SIGTERM (the session is recorded as interrupted)
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="run one session end to end: lock, select, execute, grade, learn",
        description=HELP,
        epilog=EPILOG,
        formatter_class=Formatter,
    )
    add_config_args(p)
    add_run_args(p)
    p.add_argument("--seed", type=int, help="seed the draws, for a reproducible choice")
    forced = p.add_mutually_exclusive_group()
    forced.add_argument("--arm", metavar="ARM", help="run this arm (harness:model), forced")
    forced.add_argument("--harness", metavar="H", help="run the best arm of this harness, forced")
    p.add_argument("--follow", action="store_true", help="stream the harness's output as it runs")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="show the decision and the exact argv; run nothing, take no lock, record nothing",
    )
    add_json_arg(p)
    p.set_defaults(func=run)


def add_run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--category", "-c", help="work category (default: category_command or default)")
    p.add_argument("--prompt-file", metavar="FILE", help="read the prompt from FILE")


def run(args: argparse.Namespace) -> int:
    from rota import journal
    from rota.commands.common import category_arg
    from rota.session.run import RunOptions, run_once

    config = load(args)
    category_arg(
        config, args.category
    )  # before the lock: a typo takes nothing and recovers nothing
    if args.follow and args.json:
        raise UsageError("--follow streams the harness's output; it cannot go with --json")
    stop = StopFlag()
    opts = RunOptions(
        category=args.category,
        prompt_file=args.prompt_file,
        seed=args.seed,
        dry_run=args.dry_run,
        forced=forced_arg(config, args.arm, args.harness),
        watch=watchers(follow=args.follow, quiet=args.json),
    )
    with stop.handling():
        result = run_once(config, opts, stop)
    report(result, as_json=args.json, explain=args.dry_run)
    if not args.dry_run:
        journal.exit_code(result.exit_code, reason=result.status)
    return result.exit_code


def forced_arg(config: Config, arm: str | None, harness: str | None) -> Forced | None:
    """--arm / --harness, checked against the config (a usage error names what exists)."""
    from rota.session.plan import Forced

    if arm is not None:
        if arm not in config.arms:
            raise UsageError(f"--arm: unknown arm {arm!r}{_guess(arm, list(config.arms))}")
        return Forced(arm=arm)
    if harness is not None:
        arms = [a for a in config.arms.values() if a.harness == harness]
        if not arms:
            names = [h for h, hc in config.harnesses.items() if hc.models]
            raise UsageError(
                f"--harness: no arms configured for {harness!r}{_guess(harness, names)}"
            )
        return Forced(harness=harness)
    return None


def _guess(word: str, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(word, known, n=1, cutoff=0.5)
    listed = ", ".join(sorted(known)) or "none configured"
    return f"; did you mean {close[0]}?" if close else f" (configured: {listed})"


def watchers(*, follow: bool, quiet: bool) -> Callable[[Started], list[Watcher]]:
    """Who watches the session: --follow streams the harness's output; at a terminal a live line
    shows what it does; under systemd (no terminal, or $JOURNAL_STREAM set), nobody."""
    import os

    from rota.session.live import Follow, LiveLine, watching_allowed

    def make(started: Started) -> list[Watcher]:
        plan = started.plan
        if os.environ.get("JOURNAL_STREAM"):
            if follow:
                print(
                    f"rota: --follow ignored under systemd; the log is {plan.paths.log}",
                    file=sys.stderr,
                )
            return []
        if follow:
            print(f"rota: running {plan.arm}; log {plan.paths.log}", file=sys.stderr, flush=True)
            return [Follow(sys.stdout, sys.stderr)]
        if quiet or not watching_allowed(sys.stderr):
            return []
        return [LiveLine(sys.stderr, arm=plan.arm, log_path=str(plan.paths.log)).start()]

    return make


def report(result: object, *, as_json: bool, explain: bool = False) -> None:
    """Print a RunResult: JSON on stdout, or a human summary (stdout for a session or dry run,
    stderr for busy/exhausted)."""
    from rota.session.result import RunResult

    assert isinstance(result, RunResult)
    if as_json:
        print_document(result.to_dict())
        return
    plan = result.plan
    if result.status == "dry_run" and plan is not None:
        if explain:
            from rota.commands.select import explain as explain_table

            print(explain_table(plan.decision, now()))
        print(result.message)
        print(f"argv: {json.dumps(list(plan.argv))}")
        print(f"cwd: {plan.site.workspace}")
        print(f"timeout: {plan.timeout_s:.0f}s")
        if plan.env_keys:
            print(f"env from config: {', '.join(plan.env_keys)}")
        print(f"prompt from: {plan.prompt.source}")
        return
    if result.status in ("busy", "exhausted"):
        print(f"rota: {result.message}", file=sys.stderr)
        return
    print(result.message)
