"""`rota quota`: quota left per harness, pool and window, with reset times and where each figure
came from (api, logs, heuristic, block, file, learned)."""

from __future__ import annotations

import argparse
import sys

from rota.commands.common import Formatter, add_config_args, add_json_arg, load, now, store_for
from rota.config import Config
from rota.errors import EXIT_OK, StoreUnavailable
from rota.quota.state import Block, QuotaState
from rota.render import paint, print_document, terminal_width, use_colour
from rota.timefmt import iso, local, relative, when

HELP = """\
Show what each enabled harness has left: one line per harness, pool and arm with the state that
wins (exhausted or blocked as soon as any window or block says so, until the last of them resets;
else ok, naming the fullest window) and why, then one line per quota window with a usage bar, when
it resets (local time, and how long from now) and where the figure came from.

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
        help="quota left per harness, pool and window, and why",
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


STATE_COLOURS = {"ok": "green", "exhausted": "red", "blocked": "red", "unknown": "yellow"}
MAX_WIDTH = 100


def summarise(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """One entry per scope, in the rows' order: the state that wins, why, and until when."""
    groups: dict[tuple[str, str], list[dict[str, object]]] = {}
    for r in rows:
        groups.setdefault((str(r["scope_kind"]), str(r["scope"])), []).append(r)
    out = []
    for (kind, scope), rs in groups.items():
        down = [r for r in rs if r["available"] is False]
        until: float | None = None
        if down:
            # Out until every exhausted window and block has reset: the last reset binds.
            resets = [r["resets_at"] for r in down]
            binding = max(down, key=lambda r: r["resets_at"] or float("inf"))  # type: ignore[arg-type,return-value]
            until = None if None in resets else float(binding["resets_at"])  # type: ignore[arg-type]
            state = "blocked" if binding["source"] == "block" else "exhausted"
            why = _why(binding)
        elif any(r["available"] is True for r in rs):
            known = [r for r in rs if r["utilization"] is not None]
            state = "ok"
            if known:
                full = max(known, key=lambda r: float(r["utilization"]))  # type: ignore[arg-type]
                why = f"fullest window {full['window'] or '-'} at {_pct(full)} ({full['source']})"
            else:
                why = "available (" + ", ".join(sorted({str(r["source"]) for r in rs})) + ")"
        else:
            state = "unknown"
            why = next((str(r["reason"]) for r in rs if r["reason"]), "no figures")
            why += "; never taken as exhausted"
        out.append(
            {
                "scope_kind": kind,
                "scope": scope,
                "state": state,
                "why": why,
                "until": until,
                "until_iso": iso(until),
                "windows": rs,
            }
        )
    return out


def _pct(r: dict[str, object]) -> str:
    return "?" if r["used_percent"] is None else f"{float(r['used_percent']):.0f}%"  # type: ignore[arg-type]


def _why(r: dict[str, object]) -> str:
    if r["source"] == "block":
        return "blocked: " + str(r["reason"])
    text = f"{r['window'] or 'quota'} {_pct(r)} used" if r["used_percent"] is not None else ""
    reason = str(r["reason"] or "")
    return "; ".join(x for x in (text, reason) if x) + f" ({r['source']})"


def bar(used: float | None, width: int, ascii_only: bool) -> str:
    if used is None:
        return " " * width
    full, empty = ("#", "-") if ascii_only else ("\u2588", "\u2591")
    n = max(0, min(width, round(used / 100.0 * width)))
    return full * n + empty * (width - n)


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def render(
    scopes: list[dict[str, object]], t: float, *, colour: bool, width: int, indent: str = ""
) -> str:
    ascii_only = (getattr(sys.stdout, "encoding", "") or "").lower().replace("-", "") != "utf8"
    label_w = min(28, max(len(_label(s)) for s in scopes))
    lines = []
    for s in scopes:
        state = str(s["state"])
        until = f"; until {when(s['until'], t)}" if s["until"] is not None else ""  # type: ignore[arg-type]
        head = f"{_label(s):<{label_w}}  {state:<9}  "
        why = _fit(str(s["why"]) + until, width - len(head) - len(indent))
        lines.append(
            indent
            + paint(f"{_label(s):<{label_w}}", "bold", colour)
            + "  "
            + paint(f"{state:<9}", STATE_COLOURS[state], colour)
            + "  "
            + why
        )
        windows = s["windows"]
        if s["state"] == "unknown" and len(windows) == 1:  # type: ignore[arg-type]
            continue  # the headline already says all there is
        for r in windows:  # type: ignore[attr-defined]
            line = _window_line(
                r, t, colour=colour, width=width - len(indent), ascii_only=ascii_only
            )
            lines.append(indent + line)
    return "\n".join(lines)


def _label(s: dict[str, object]) -> str:
    return f"pool {s['scope']}" if s["scope_kind"] == "pool" else str(s["scope"])


def _window_line(
    r: dict[str, object], t: float, *, colour: bool, width: int, ascii_only: bool
) -> str:
    resets = r["resets_at"]
    if r["source"] == "block":
        text = f"  {'block':<14} until {when(resets, t)}" if resets else f"  {'block':<14} no end"  # type: ignore[arg-type]
        return _fit(f"{text}  {r['reason']}", width)
    used = r["used_percent"]
    tone = "red" if r["available"] is False else "yellow" if (used or 0) >= 80 else "green"  # type: ignore[operator]
    cells = paint(bar(used, 20, ascii_only), tone, colour)  # type: ignore[arg-type]
    pct = _pct(r).rjust(4)
    tail = f"resets {when(resets, t)}" if resets is not None else str(r["reason"] or "")  # type: ignore[arg-type]
    left = f"  {str(r['window'] or '-'):<14} "
    rest = _fit(f" {pct}  {tail}  {r['source']}", width - len(left) - 22)
    return f"{left}[{cells}]{rest}"


def run(args: argparse.Namespace) -> int:
    config = load(args)
    t = now()
    rows = collect(config, t, refresh=args.refresh)
    scopes = summarise(rows)
    if args.json:
        print_document({"now": t, "now_iso": iso(t), "scopes": scopes, "windows": rows})
        return EXIT_OK
    if not rows:
        print("no quota figures: no enabled harness reported any, and nothing is blocked")
        return EXIT_OK
    width = min(MAX_WIDTH, terminal_width()) if sys.stdout.isatty() else MAX_WIDTH
    print(render(scopes, t, colour=use_colour(), width=width))
    return EXIT_OK
