"""`rota simulate SCENARIO.toml…`: replay scenarios against rota's selector and baseline policies."""

from __future__ import annotations

import argparse
import sys
import time

from rota.commands.common import Formatter, add_json_arg
from rota.errors import UsageError
from rota.render import print_document

HELP = """\
Replay scenario files (the format is in docs/scenarios.md) against rota's own selector and
baselines (oracle, static, random, epsilon-greedy, ucb1, ts), and report reward per slot with a
95% interval, % of oracle, wasted slots, cost per unit of reward and reward after each event.

--plot draws, per scenario, a rolling % of the oracle and the regret against it, with 95% bands
and the events labelled (needs matplotlib: pip install 'rota[plot]').
SIGTERM or Ctrl-C stops the run and its workers (exit 143 or 130); nothing is written.
"""


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "simulate",
        help="replay scenarios against rota and baseline policies",
        description=HELP,
        formatter_class=Formatter,
    )
    p.add_argument("scenarios", nargs="*", metavar="SCENARIO.toml", help="scenario file(s)")
    p.add_argument(
        "--policies",
        metavar="LIST",
        help="comma-separated policies (default: all); the oracle always runs, for %% of oracle",
    )
    p.add_argument("--replicates", type=int, metavar="N", help="override the scenario's replicates")
    p.add_argument("--seed", type=int, metavar="N", help="override the scenario's seed")
    add_json_arg(p)
    p.add_argument(
        "--plot",
        nargs="?",
        const="",
        metavar="FILE.png",
        help="draw the plot to FILE.png (default: simulate-SCENARIO.png here; needs rota[plot])",
    )
    p.add_argument(
        "--jobs", type=int, metavar="N", help="worker processes (default: up to 2; 1 = no pool)"
    )
    p.set_defaults(func=run)


def _stop_on_signals() -> None:
    """SIGTERM or SIGINT stop the run at once: a forked worker exits where it is, without a
    traceback; the parent kills the workers that are left and exits 128 + the signal, naming it.
    Nothing waits for the pool to wind down: a worker stopped while it held one of the pool's
    queue locks would make that wait hang."""
    import os
    import signal

    parent = os.getpid()

    def handler(signum: int, frame: object) -> None:
        if os.getpid() != parent:
            os._exit(128 + signum)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once is enough
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        import multiprocessing

        for child in multiprocessing.active_children():
            child.kill()
        name = signal.Signals(signum).name
        sys.stdout.flush()
        print(f"rota: simulate stopped by {name}; nothing was written", file=sys.stderr, flush=True)
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    _workers_die_with_parent(parent)


def _workers_die_with_parent(parent: int) -> None:
    """Every process forked from here on (the pool's workers, and those it forks again to replace
    one that exited) gets SIGKILL when rota exits: none is left behind to print a traceback when it
    finds its results pipe closed. Linux only; elsewhere nothing changes."""
    import os
    import signal

    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return
    pr_set_pdeathsig = 1

    def in_child() -> None:
        prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent:  # rota exited between the fork and the prctl
            os._exit(1)

    os.register_at_fork(after_in_child=in_child)


def _policies(raw: str | None) -> list[str]:
    from rota.simulate.runner import POLICY_NAMES

    if not raw:
        return list(POLICY_NAMES)
    names = [x.strip() for x in raw.split(",") if x.strip()]
    for n in names:
        if n not in POLICY_NAMES:
            raise UsageError(
                f"--policies: unknown policy {n!r}; expected: {', '.join(POLICY_NAMES)}"
            )
    names = list(dict.fromkeys(names))
    if "oracle" not in names:
        names.insert(0, "oracle")
    return names


def run(args: argparse.Namespace) -> int:
    from rota.simulate.metrics import summarise
    from rota.simulate.report import ScenarioResult, render_table, to_json
    from rota.simulate.runner import Progress, run_scenario
    from rota.simulate.scenario import load_scenario

    paths = list(args.scenarios)
    if args.plot and args.plot.endswith(".toml"):  # `--plot a.toml`: a scenario, not the image
        paths.insert(0, args.plot)
        args.plot = ""
    if not paths:
        raise UsageError("give at least one SCENARIO.toml (examples/scenarios/ has two)")
    policies = _policies(args.policies)
    if args.replicates is not None and args.replicates < 1:
        raise UsageError("--replicates: expected an integer >= 1")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs: expected an integer >= 1")
    scenarios = [load_scenario(p) for p in paths]  # all errors before any run
    plotting = args.plot is not None
    if plotting:
        from rota.simulate.plot import check_available, default_path

        check_available()
        out = args.plot or default_path(scenarios)
    if "rota" in policies:
        from rota.simulate.rota_policy import check_config

        for sc in scenarios:
            check_config(sc)  # the scenario must translate to a valid rota config

    _stop_on_signals()
    results: list[ScenarioResult] = []
    figures = []
    for sc in scenarios:
        reps = args.replicates or sc.replicates
        seed = sc.seed if args.seed is None else args.seed
        started = time.monotonic()
        runs = run_scenario(sc, policies, reps, seed, workers=args.jobs, progress=Progress(sc.name))
        summaries = summarise(sc, runs, policies)
        results.append(ScenarioResult(sc, reps, seed, summaries, time.monotonic() - started))
        if plotting:
            from rota.simulate.plot import curves

            figures.append(curves(sc, runs, policies))
        if not args.json:
            print(render_table(results[-1]), end="\n\n", flush=True)
    if args.json:
        doc = to_json(results)
        print_document(doc)
    if plotting:
        from rota.simulate.plot import plot

        path = plot(results, figures, out)
        print(f"rota: plot written to {path}", file=sys.stderr)
    return 0
