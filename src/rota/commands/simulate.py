"""`rota simulate SCENARIO.toml…`: replay scenarios against rota's selector and baseline policies."""

from __future__ import annotations

import argparse
import json
import sys
import time

from rota.errors import UsageError


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "simulate",
        help="replay scenarios against rota and baseline policies",
        description="Replay scenario files (the format is in docs/scenarios.md) against "
        "rota's own selector and baselines (oracle, static, random, epsilon-greedy, ucb1, ts), "
        "and report reward per slot with a 95%% interval, %% of oracle, wasted slots, cost per "
        "unit of reward and reward after each event.",
    )
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO.toml", help="scenario file(s)")
    p.add_argument(
        "--policies",
        metavar="LIST",
        help="comma-separated policies (default: all); the oracle always runs, for %% of oracle",
    )
    p.add_argument("--replicates", type=int, metavar="N", help="override the scenario's replicates")
    p.add_argument("--seed", type=int, metavar="N", help="override the scenario's seed")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.add_argument(
        "--plot", metavar="FILE.png", help="draw cumulative reward per policy (needs rota[plot])"
    )
    p.add_argument(
        "--jobs", type=int, metavar="N", help="worker processes (default: up to 2; 1 = no pool)"
    )
    p.set_defaults(func=run)


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

    policies = _policies(args.policies)
    if args.replicates is not None and args.replicates < 1:
        raise UsageError("--replicates: expected an integer >= 1")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs: expected an integer >= 1")
    scenarios = [load_scenario(p) for p in args.scenarios]  # all errors before any run
    if args.plot:
        from rota.simulate.plot import check_available

        check_available()
    if "rota" in policies:
        from rota.simulate.rota_policy import check_config

        for sc in scenarios:
            check_config(sc)  # the scenario must translate to a valid rota config

    results: list[ScenarioResult] = []
    for sc in scenarios:
        reps = args.replicates or sc.replicates
        seed = sc.seed if args.seed is None else args.seed
        started = time.monotonic()
        runs = run_scenario(sc, policies, reps, seed, workers=args.jobs, progress=Progress(sc.name))
        summaries = summarise(sc, runs, policies)
        results.append(ScenarioResult(sc, reps, seed, summaries, time.monotonic() - started))
        if not args.json:
            print(render_table(results[-1]), end="\n\n", flush=True)
    if args.json:
        json.dump(to_json(results), sys.stdout, indent=2)
        print()
    if args.plot:
        from rota.simulate.plot import plot

        path = plot(results, args.plot)
        print(f"rota: plot written to {path}", file=sys.stderr)
    return 0
