"""`rota quota`: quota left per harness, pool and window, with reset times and where each figure
came from (api, logs, heuristic, block, file, learned)."""

from __future__ import annotations

import argparse
import sys

from rota.commands.common import Formatter, add_config_args, add_json_arg, load, now, store_for
from rota.config import Config
from rota.errors import EXIT_OK, StoreUnavailable
from rota.quota.state import Block, QuotaState
from rota.render import paint, print_json, table, use_colour
from rota.timefmt import iso, local, relative

HELP = """\
Show what each enabled harness has left: one row per harness, pool and quota window, with the
used share, when it resets (local time and relative), the source of the figure and why.

Sources: api (a vendor usage endpoint), logs (the CLI's own local files), heuristic (the last
session's outcome), block (a limit hit or a manual block), file ([quota] file), learned (rota's
own sessions of the last 28 days: the windows and sizes of pools no probe sees, and arms that a
probed window has no room left for).
Probe answers are cached (quota.cache_minutes); --refresh asks every source again.
"""

_WINDOW_ORDER = {"five_hour": 0, "seven_day": 1}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "quota",
        help="quota left per harness, pool and window",
        description=HELP,
        formatter_class=Formatter,
    )
    add_config_args(p, workspace=False)
    add_json_arg(p)
    p.add_argument("--refresh", action="store_true", help="ignore cached answers; probe again")
    p.set_defaults(func=run)


def _status(available: bool | None) -> str:
    return {True: "ok", False: "exhausted", None: "unknown"}[available]


def state_row(s: QuotaState, t: float) -> dict[str, object]:
    d = s.to_dict()
    d["status"] = _status(s.available)
    d["used_percent"] = None if s.utilization is None else round(s.utilization * 100.0, 2)
    d["resets_at_iso"] = iso(s.resets_at)
    d["resets_local"] = local(s.resets_at) if s.resets_at is not None else None
    d["resets_in"] = relative(s.resets_at, t) if s.resets_at is not None else None
    return d


def block_row(b: Block, t: float) -> dict[str, object]:
    s = QuotaState(
        scope_kind=b.scope_kind,
        scope=b.scope,
        window="",
        available=False,
        resets_at=b.until,
        source="block",
        reason=(b.reason + " " if b.reason else "") + f"({b.source})",
        observed_at=b.created_at,
    )
    return state_row(s, t)


def _order(config: Config, row: dict[str, object]) -> tuple[int, str, int, str, str]:
    names = list(config.harnesses)
    kind = str(row["scope_kind"])
    scope = str(row["scope"])
    harness = scope.split(":", 1)[0] if kind != "pool" else ""
    rank = names.index(harness) if harness in names else len(names)
    if kind == "pool":
        rank = len(names) + 1
    window = str(row["window"])
    return (rank, scope, _WINDOW_ORDER.get(window, 2), window, str(row["source"]))


def collect(config: Config, t: float, *, refresh: bool) -> list[dict[str, object]]:
    from rota.learning.policy import learned_from_history
    from rota.session.decide import quota_states, recent_history

    try:
        store = store_for(config)
    except StoreUnavailable as exc:
        # The probes still answer; only the cache and the blocks are missing.
        print(f"rota: warning: {exc}; showing fresh probe answers without blocks", file=sys.stderr)
        states = quota_states(config, None, t, refresh=True)  # type: ignore[arg-type]
        blocks: list[Block] = []
    else:
        with store:
            states = quota_states(config, store, t, refresh=refresh)
            blocks = store.active_blocks(t)
            # What selection adds from the recorded sessions: the same reads and the same call.
            history = recent_history(store, states, t)
            states = [*states, *learned_from_history(config, history, states, t)]
    rows = [state_row(s, t) for s in states]
    rows.extend(block_row(b, t) for b in blocks)
    rows.sort(key=lambda r: _order(config, r))
    return rows


def run(args: argparse.Namespace) -> int:
    config = load(args)
    t = now()
    rows = collect(config, t, refresh=args.refresh)
    if args.json:
        print_json(rows)
        return EXIT_OK
    if not rows:
        print("no quota figures: no enabled harness reported any, and nothing is blocked")
        return EXIT_OK
    colour = use_colour()
    out = []
    for r in rows:
        scope = str(r["scope"]) if r["scope_kind"] != "pool" else f"pool {r['scope']}"
        status = str(r["status"])
        status = paint(status, {"ok": "green", "exhausted": "red"}.get(status, "yellow"), colour)
        used = "-" if r["used_percent"] is None else f"{r['used_percent']:.0f}%"
        resets = "-" if r["resets_at"] is None else f"{r['resets_local']} ({r['resets_in']})"
        out.append([scope, r["window"] or "-", used, status, resets, r["source"], r["reason"]])
    print(table(["scope", "window", "used", "status", "resets", "source", "reason"], out))
    return EXIT_OK
