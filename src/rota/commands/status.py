"""`rota status`: what rota has learnt, what is blocked, quota, and the latest sessions."""

from __future__ import annotations

import argparse

from rota.commands.common import Formatter, add_config_args, add_json_arg, load, now, store_for
from rota.commands.quota import state_row
from rota.commands.select import AUTO_WEIGHT, explain
from rota.errors import EXIT_OK
from rota.learning.decision import decision_from_record
from rota.learning.posteriors import arm_posterior, observation_weight
from rota.render import fmt, paint, print_document, table, use_colour
from rota.session.decide import quota_states, workspace_id
from rota.store.base import Store
from rota.timefmt import iso, when

TYPE_CHECKING = False
if TYPE_CHECKING:
    from rota.config import Config

HELP = """\
Show, per category and arm, the posterior mean with a 90% interval and the number of graded
observations; the active blocks; the quota states; running sessions (fleet-wide when the store is
shared); and the most recent sessions.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "status",
        help="posteriors, blocks, quota and recent sessions",
        description=HELP,
        formatter_class=Formatter,
    )
    add_config_args(p)
    add_json_arg(p)
    p.add_argument(
        "--limit",
        "-n",
        type=int,
        default=10,
        metavar="N",
        help="recent sessions to show (default 10)",
    )
    p.add_argument(
        "--all",
        action="store_true",
        help="every arm in every category (default: enabled arms, in the categories that have "
        "observations, and the default category)",
    )
    p.set_defaults(func=run)


def gather(args: argparse.Namespace) -> dict:
    config = load(args)
    t = now()
    with store_for(config) as store:
        evidence = store.evidence()
        weight = observation_weight(config, evidence)
        arms = []
        for cat in config.categories:
            for arm in config.arms.values():
                post = arm_posterior(config, evidence, cat, arm, t, weight)
                low, high = post.interval(0.90)
                arms.append(
                    {
                        "category": cat,
                        "arm": arm.arm,
                        "tier": arm.tier,
                        "enabled": arm.enabled and config.harnesses[arm.harness].enabled,
                        "mean": round(post.mean, 4),
                        "interval90": [round(low, 4), round(high, 4)],
                        "n": post.n,
                    }
                )
        blocks = [
            {
                "scope": f"{b.scope_kind}:{b.scope}",
                "until": iso(b.until),
                "until_ts": b.until,
                "reason": b.reason,
                "source": b.source,
                "hits": b.hits,
            }
            for b in store.active_blocks(t)
        ]
        probed = quota_states(config, store, t, warn=False)
        states = [s.to_dict() for s in probed]
        quota_rows = [state_row(s, t) for s in probed]
        running = [s.to_dict() for s in store.running_sessions()]
        costs = cost_view(config, store, t)
        recent = [s.to_dict() for s in store.recent_sessions(args.limit)]
        stored = store.last_decision(workspace_id(config))
        last = decision_from_record(stored, config) if stored else None
        fleet = fleet_view(store, t)  # fleet mode: see the section at the end of this file
        store_url = store.url
    return {
        "now": t,
        "now_iso": iso(t),
        "store": store_url,
        "workspace": workspace_id(config),
        "observation_weight": round(weight, 3),
        "weight_auto": config.bandit.observation_weight is None,
        "default_category": config.default_category,
        "posteriors": arms,
        "blocks": blocks,
        "quota": states,
        "quota_rows": quota_rows,
        "running": running,
        "costs": costs,
        "recent_sessions": recent,
        "last_decision": last.to_dict() if last else None,
        "_last_decision": last,
        "fleet": fleet,
    }


def run(args: argparse.Namespace) -> int:
    data = gather(args)
    last = data.pop("_last_decision")
    if args.json:
        print_document(data)
        return EXIT_OK
    colour = use_colour()
    t = data["now"]
    print(paint(f"store {data['store']}  workspace {data['workspace']}", "dim", colour))
    w = data["observation_weight"]
    how = AUTO_WEIGHT if data["weight_auto"] else "set in [bandit] observation_weight"
    print(
        paint("posteriors", "bold", colour)
        + f" (observation weight {w:g}: one graded session counts as {w:g} observations; {how})"
    )
    seen = {p["category"] for p in data["posteriors"] if p["n"]}
    shown = [
        p
        for p in data["posteriors"]
        if args.all
        or (p["enabled"] and (p["category"] in seen or p["category"] == data["default_category"]))
    ]
    rows = [
        [
            p["category"],
            p["arm"] if p["enabled"] else paint(p["arm"] + " (disabled)", "dim", colour),
            p["tier"],
            fmt(p["mean"]),
            f"[{fmt(p['interval90'][0])}, {fmt(p['interval90'][1])}]",
            p["n"],
        ]
        for p in shown
    ]
    print(
        table(["category", "arm", "tier", "mean", "90% interval", "n"], rows, indent="  ")
        if rows
        else "  (no arms configured)"
    )
    print(paint("blocks", "bold", colour))
    if data["blocks"]:
        print(
            table(
                ["scope", "until", "source", "reason"],
                [
                    [b["scope"], when(b["until_ts"], t), b["source"], b["reason"]]
                    for b in data["blocks"]
                ],
                indent="  ",
            )
        )
    else:
        print("  none")
    print(paint("quota", "bold", colour))
    if data["quota"]:
        from rota.commands.quota import render, summarise

        print(render(summarise(data["quota_rows"]), t, colour=colour, width=98, indent="  "))
    else:
        print("  no quota states (no probe answered and no [quota] file)")
    print_costs(data["costs"], colour)
    if data["running"]:
        print(paint("running", "bold", colour))
        print(
            table(
                ["id", "arm", "machine", "workspace", "pid", "started"],
                [
                    [
                        s["id"],
                        s["arm"],
                        s["machine"],
                        s["workspace"],
                        s["pid"],
                        when(s["started_at"], t),
                    ]
                    for s in data["running"]
                ],
                indent="  ",
            )
        )
    print(paint("recent sessions", "bold", colour))
    print(
        session_table(data["recent_sessions"], t, colour)
        if data["recent_sessions"]
        else "  none yet"
    )
    if last is not None:
        print(paint(f"last decision ({when(last.decided_at, t)})", "bold", colour))
        print("\n".join("  " + line for line in explain(last, t).splitlines()))
    if is_fleet(data["fleet"], data["store"]):
        print_fleet(data["fleet"], t, colour)
    return EXIT_OK


def is_fleet(fleet: dict, store_url: str) -> bool:
    """A fleet section only where there is a fleet: a shared store, or several machines."""
    machines = {m["machine"] for m in fleet["machines"]} | {lk["machine"] for lk in fleet["locks"]}
    return store_url.startswith(("postgresql:", "postgres:")) or len(machines) > 1


def cost_view(config: Config, store: Store, t: float) -> list[dict]:
    """Per arm: what its recent sessions cost as their harness reported it (dollars where it
    says, tokens), and the relative cost the bandit's cost term uses."""
    from rota.learning.costs import measure, relative_costs
    from rota.session.decide import COST_LOOKBACK_S, COST_SESSIONS

    measured = measure(store.measured_costs(t - COST_LOOKBACK_S, COST_SESSIONS))
    fixed = {a.arm: a.cost for a in config.arms.values() if not a.measured_cost}
    rel = relative_costs(fixed, [a.arm for a in config.arms.values() if a.measured_cost], measured)
    out = []
    for arm in config.arms.values():
        m = measured.get(arm.arm)
        out.append(
            {
                "arm": arm.arm,
                "cost": "measured" if arm.measured_cost else arm.cost,
                "sessions": m.sessions if m else 0,
                "usd_per_session": None if m is None or m.usd is None else round(m.usd, 6),
                "usd_sessions": m.usd_sessions if m else 0,
                "tokens_per_session": None if m is None or m.tokens is None else round(m.tokens),
                "relative": round(rel[arm.arm][0], 4),
                "basis": rel[arm.arm][1],
            }
        )
    return out


def print_costs(costs: list[dict], colour: bool) -> None:
    print(
        paint("cost", "bold", colour)
        + " (measured over the last 14 days; relative: the bandit's cost term)"
    )
    if not any(c["sessions"] for c in costs) and not any(c["cost"] == "measured" for c in costs):
        print("  no session reported a cost yet")
        return
    rows = [
        [
            c["arm"],
            c["sessions"],
            "-" if c["usd_per_session"] is None else f"${c['usd_per_session']:.4f}",
            "-" if c["tokens_per_session"] is None else f"{c['tokens_per_session']:,}",
            "measured" if c["cost"] == "measured" else f"{c['cost']:g} (set)",
            fmt(c["relative"]),
        ]
        for c in costs
    ]
    print(
        table(
            ["arm", "sessions", "$/session", "tokens/session", "cost", "relative"],
            rows,
            indent="  ",
        )
    )


def session_table(sessions: list[dict], t: float, colour: bool) -> str:
    colours = {
        "completed": "green",
        "crashed": "red",
        "timed_out": "red",
        "rate_limited": "yellow",
        "unavailable": "yellow",
    }
    rows = []
    for s in sessions:
        ran = s["arm_ran"] if s["arm_ran"] and s["arm_ran"] != s["arm"] else ""
        rows.append(
            [
                s["id"],
                when(s["started_at"], t),
                s["category"],
                s["arm"] + (f" -> {ran}" if ran else ""),
                paint(s["status"], colours.get(s["status"], "dim"), colour),
                fmt(s["reward"]),
                "-" if s["exit_code"] is None else s["exit_code"],
                s["machine"],
            ]
        )
    return table(
        ["id", "started", "category", "arm", "status", "grade", "exit", "machine"],
        rows,
        indent="  ",
    )


# -- fleet: sessions per machine, and who holds which workspace and pool slot ---------------------
FLEET_DAYS = 7


def fleet_view(store: Store, t: float) -> dict:
    since = t - FLEET_DAYS * 86400
    # A lock's session: the running session of the same machine and process.
    running = {(s.machine, s.pid): s.id for s in store.running_sessions()}
    locks = []
    for lease in store.leases(t):
        d = lease.to_dict()
        if d["session_id"] is None:
            d["session_id"] = running.get((lease.machine, lease.pid))
        locks.append(d)
    return {
        "since": since,
        "machines": [m.to_dict() for m in store.machine_summary(since)],
        "locks": locks,
    }


def print_fleet(fleet: dict, t: float, colour: bool) -> None:
    print(paint("fleet", "bold", colour) + f" (sessions in the last {FLEET_DAYS} days)")
    if fleet["machines"]:
        rows = [
            [
                m["machine"] or "-",
                m["sessions"],
                m["running"],
                when(m["last_started_at"], t) if m["last_started_at"] else "-",
            ]
            for m in fleet["machines"]
        ]
        print(table(["machine", "sessions", "running", "last started"], rows, indent="  "))
    else:
        print("  no sessions yet")
    if fleet["locks"]:
        rows = [
            [
                f"{lk['kind']} {lk['name']}" + (f" #{lk['slot']}" if lk["kind"] == "pool" else ""),
                lk["machine"] or "-",
                lk["pid"] if lk["pid"] is not None else "-",
                lk["session_id"] if lk["session_id"] is not None else "-",
                when(lk["acquired_at"], t),
            ]
            for lk in fleet["locks"]
        ]
        print(table(["held", "by machine", "pid", "session", "since"], rows, indent="  "))
    else:
        print("  no workspace or pool is locked")
