"""`rota sessions`: the recorded sessions, newest first, with the signals behind each grade;
`rota sessions ID`: one session, told for a person."""

from __future__ import annotations

import argparse
from typing import Any

from rota.commands.common import Formatter, add_config_args, add_json_arg, load, now, store_for
from rota.commands.status import session_table
from rota.errors import EXIT_OK, RotaError, UsageError
from rota.render import fmt, paint, print_document, use_colour
from rota.store.base import SESSION_STATES
from rota.timefmt import human_duration, iso, parse_duration, parse_time, when

HELP = """\
List recorded sessions, newest first, or show one (`rota sessions ID`): its arm and the arm that
actually ran, when it started and ended, how it ended, its grade and every signal behind it, a
rate limit it hit, and its log file. --json includes everything, with ISO-8601 times next to each
epoch.

Filters combine: --arm (an arm, or a harness for all its arms; matches the arm chosen or the one
that ran), --category, --status, --since (a duration such as 2d or 12h, or a time such as
2026-11-28T09:00).
"""

EXIT_NOT_FOUND = 1


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sessions",
        help="list recorded sessions, or show one",
        description=HELP,
        formatter_class=Formatter,
    )
    p.add_argument("session_id", nargs="?", type=int, metavar="ID", help="show this session")
    add_config_args(p, workspace=False)
    add_json_arg(p)
    p.add_argument("--limit", "-n", type=int, default=20, metavar="N", help="how many (default 20)")
    p.add_argument("--status", choices=SESSION_STATES, help="only sessions in this state")
    p.add_argument("--arm", metavar="ARM", help="only this arm (harness:model) or harness")
    p.add_argument("--category", "-c", metavar="C", help="only this category")
    p.add_argument(
        "--since", metavar="WHEN", help="only sessions started since: 2d, 12h, or a time"
    )
    p.set_defaults(func=run)


def since_arg(text: str, t: float) -> float:
    """A duration back from now ('2d', '90m'), or a time ('2026-11-28T09:00', '09:00' today)."""
    try:
        return t - parse_duration(text)
    except ValueError:
        pass
    try:
        at = parse_time(text, t)
    except ValueError:
        raise UsageError(
            f"--since: not a duration or a time: {text!r} (examples: 2d, 12h, 2026-11-28T09:00)"
        ) from None
    return at - 86400 if at > t and ":" in text and "T" not in text else at  # 'HH:MM' = today


def with_iso(d: dict[str, Any]) -> dict[str, Any]:
    """ISO-8601 next to every epoch of a session record."""
    for key in ("started_at", "ended_at", "graded_at"):
        d[key + "_iso"] = iso(d.get(key))
    limit = d.get("detail", {}).get("limit")
    if isinstance(limit, dict) and isinstance(limit.get("resets_at"), (int, float)):
        limit["resets_at_iso"] = iso(limit["resets_at"])
    return d


def run(args: argparse.Namespace) -> int:
    config = load(args)
    t = now()
    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit: expected an integer >= 1")
    if args.category is not None and args.category not in config.categories:
        raise UsageError(
            f"--category: unknown category {args.category!r}; "
            f"configured: {', '.join(config.categories)}"
        )
    since = since_arg(args.since, t) if args.since else None
    with store_for(config) as store:
        if args.session_id is not None:
            rec = store.get_session(args.session_id)
            if rec is None:
                raise SessionNotFound(f"no session {args.session_id} in {store.url}")
            d = with_iso(rec.to_dict())
            if args.json:
                print_document({"session": d})
            else:
                print(describe(d, t, use_colour()))
            return EXIT_OK
        records = [
            with_iso(s.to_dict())
            for s in store.recent_sessions(
                args.limit, status=args.status, arm=args.arm, category=args.category, since=since
            )
        ]
    if args.json:
        print_document(
            {"filters": _filters(args, since), "count": len(records), "sessions": records}
        )
    elif records:
        print(session_table(records, t, use_colour()))
        if len(records) == args.limit:
            print(f"(the newest {args.limit}; -n N for more, `rota sessions ID` for one)")
    else:
        print("no sessions recorded yet" if not _filters(args, since) else "no session matches")
    return EXIT_OK


class SessionNotFound(RotaError):
    exit_code = EXIT_NOT_FOUND


def _filters(args: argparse.Namespace, since: float | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("status", "arm", "category"):
        if getattr(args, key):
            out[key] = getattr(args, key)
    if since is not None:
        out["since"] = since
        out["since_iso"] = iso(since)
    return out


def describe(d: dict[str, Any], t: float, colour: bool) -> str:
    """One session for a person."""
    status = d["status"]
    tone = {"completed": "green", "rate_limited": "yellow"}.get(status, "red")
    head = f"session {d['id']}  " + paint(status, tone, colour)
    if d["reward"] is not None:
        head += f"  grade {fmt(d['reward'])}"
    rows: list[tuple[str, str]] = []
    arm = d["arm"]
    if d["arm_ran"] and d["arm_ran"] != arm:
        arm += f" (ran {d['arm_ran']})"
    model = d["detail"].get("model_seen")
    if model:
        arm += f", model {model}"
    rows.append(("arm", arm))
    rows.append(("category", d["category"]))
    rows.append(("started", when(d["started_at"], t)))
    if d["ended_at"] is not None:
        took = human_duration(d["ended_at"] - d["started_at"])
        rows.append(("ended", f"{when(d['ended_at'], t)}, after {took}"))
    if d["exit_code"] is not None:
        rows.append(("exit code", str(d["exit_code"])))
    rows.append(("machine", f"{d['machine'] or '-'} (pid {d['pid'] or '-'})"))
    rows.append(("workspace", d["workspace"] or "-"))
    if d["decision_id"] is not None:
        rows.append(("decision", f"#{d['decision_id']}" + _forced(d)))
    limit = d["detail"].get("limit")
    if isinstance(limit, dict):
        reset = limit.get("resets_at")
        until = f"blocked until {when(reset, t)}" if reset else "blocked (no reset time given)"
        scopes = ", ".join(limit.get("scopes") or []) or "-"
        rows.append(("rate limit", f"{until}; covers {scopes}"))
    if d["detail"].get("error"):
        rows.append(("error", str(d["detail"]["error"])))
    rows += _signals(d, t)
    rows.append(("log", d["log_path"] or "-"))
    width = max(len(k) for k, _ in rows)
    return "\n".join([head, *(f"  {k:<{width}}  {v}" for k, v in rows), *_graded(d)])


def _graded(d: dict[str, Any]) -> list[str]:
    """The grade with every gain, penalty and reason, the judge, the delayed signals, what the
    harness reported and what the session left in the workspace (rota.reward.show)."""
    from rota.reward import show

    signals, detail = d.get("signals") or {}, d.get("detail") or {}
    lines: list[str] = []
    for section in (
        show.grade_lines(signals, d.get("reward")),
        show.judge_lines(signals.get("judge") or {}),
        show.followup_lines(signals.get("followup") or {}),
        show.trajectory_lines(detail.get("trajectory") or {}),
        show.workspace_lines(detail.get("workspace") or {}),
    ):
        lines += section
    return [""] + lines if lines else []


def _forced(d: dict[str, Any]) -> str:
    forced = d["detail"].get("forced")
    return f" (forced: {forced})" if forced else ""


def _signals(d: dict[str, Any], t: float) -> list[tuple[str, str]]:
    sig = d["signals"] or {}
    weights = sig.get("weights") or {}
    parts = [
        f"{k} {fmt(v)} x{weights[k]:g}"
        for k, v in sig.items()
        if k in weights and isinstance(v, (int, float))
    ]
    out = []
    if parts:
        out.append(("signals", ", ".join(parts) + " (value x weight; the grade is their weighted mean)"))
    for k, v in (sig.get("errors") or {}).items():
        out.append((f"{k} error", str(v)))
    if d["graded_at"] is not None and d["reward"] is not None:
        out.append(("graded", when(d["graded_at"], t)))
    return out
