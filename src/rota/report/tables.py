"""The report's tables: the newest sessions with their grade, signals and notes, and the
decision behind each (every candidate, why it was or was not eligible, its score)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rota.report import activity
from rota.report.charts import when
from rota.report.history import TABLE_ROWS, History
from rota.report.svg import esc
from rota.timefmt import human_duration

OUTCOME_CLASS = {
    "completed": "ok",
    "rate_limited": "limit",
    "crashed": "bad",
    "timed_out": "bad",
    "interrupted": "muted",
    "abandoned": "muted",
    "running": "muted",
}


def _num(x: Any, fmt: str) -> str:
    return format(x, fmt) if isinstance(x, (int, float)) and not isinstance(x, bool) else "–"


def _signals(signals: Any) -> str:
    if not isinstance(signals, Mapping):
        return ""
    from rota.reward.show import gain_values

    graded = gain_values(signals)  # the graded reward's gains and (negative) penalties
    parts = [f"{k} {v:.2f}" for k, v in graded.items()] or [
        f"{k} {v:.2f}"  # a session graded before trajectory grading: its plain signals
        for k, v in signals.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    ]
    errors = signals.get("errors")
    if isinstance(errors, Mapping):
        parts += [f"{k}: {v}" for k, v in errors.items()]
    hist = signals.get("grade_history")
    if isinstance(hist, list) and hist:
        parts.append(f"corrected {len(hist)}×")
    return " · ".join(parts)


def _detail_notes(detail: Mapping[str, Any]) -> str:
    notes = []
    limit = detail.get("limit")
    if isinstance(limit, Mapping):
        raw = limit.get("scopes")
        scopes = ", ".join(str(s) for s in raw) if isinstance(raw, list) else ""
        notes.append(
            f"limit: {limit.get('message', '')}" + (f" (blocked {scopes})" if scopes else "")
        )
    for key in ("error", "model_switch", "abandoned_reason"):
        if detail.get(key):
            notes.append(str(detail[key]))
    if detail.get("crash_loop"):
        notes.append(f"crash loop: {detail['crash_loop']} in a row")
    return " · ".join(notes)


def _decision_html(d: Mapping[str, Any] | None) -> str:
    if not d:
        return "<span class='small'>–</span>"
    rows = []
    candidates = d.get("candidates")
    for c in candidates if isinstance(candidates, list) else []:
        if not isinstance(c, Mapping):
            continue
        iv = c.get("interval")
        iv = iv if isinstance(iv, list) and len(iv) == 2 else [None, None]
        mean = _num(c.get("mean"), ".2f")
        interval = "" if iv[0] is None else f" [{_num(iv[0], '.2f')}, {_num(iv[1], '.2f')}]"
        score = _num(c.get("score"), ".3f")
        state = "eligible" if c.get("eligible") else str(c.get("reason", ""))
        raw_notes = c.get("notes")
        notes = "; ".join(str(n) for n in raw_notes) if isinstance(raw_notes, list) else ""
        chosen = " class='chosen'" if c.get("arm") == d.get("arm") else ""
        rows.append(
            f"<tr{chosen}><td>{esc(c.get('arm', ''))}</td><td class='num'>{esc(mean + interval)}</td>"
            f"<td class='num'>{esc(c.get('n', ''))}</td><td class='num'>{esc(score)}</td>"
            f"<td>{esc(state)}{(' · ' + esc(notes)) if notes else ''}</td></tr>"
        )
    return (
        f"<details><summary>{esc(d.get('why', 'decision'))}</summary><table><tr><th>arm</th>"
        "<th>mean [90%]</th><th>n</th><th>score</th><th>state</th></tr>"
        + "".join(rows)
        + "</table></details>"
    )


def sessions_html(history: History) -> str:
    listed = list(reversed(history.sessions[-TABLE_ROWS:]))
    if not listed:
        return "<p class='small'>No session in this period.</p>"
    costs = {a: c.cost for a, c in history.config.arms.items()}
    fleet = len({s.machine for s in listed}) > 1  # several machines: say which ran what
    rows = []
    for s in listed:
        ran = s.arm_ran if s.arm_ran and s.arm_ran != s.arm else ""
        grade = "–" if s.reward is None else f"{s.reward:.2f}"
        dur = "–" if s.ended_at is None else human_duration(max(0.0, s.ended_at - s.started_at))
        cost = activity.session_cost(s, costs)
        notes = _detail_notes(s.detail) if isinstance(s.detail, Mapping) else ""
        rows.append(
            f"<tr><td class='num'>{s.id}</td><td class='num'>{esc(when(s.started_at))}</td>"
            + (f"<td>{esc(s.machine)}</td>" if fleet else "")
            + f"<td>{esc(s.category)}</td>"
            f"<td class='arm'>{esc(s.arm)}{(' → ' + esc(ran)) if ran else ''}</td>"
            f"<td><span class='badge {OUTCOME_CLASS.get(s.status, 'muted')}'>{esc(s.status)}</span>"
            f"{('<div class=why>' + esc(notes) + '</div>') if notes else ''}</td>"
            f"<td class='num'>{esc(grade)}</td><td class='signals'>{esc(_signals(s.signals))}</td>"
            f"<td class='num'>{esc(dur)}</td><td class='num'>{'–' if cost is None else f'{cost:g}'}</td>"
            f"<td>{_decision_html(history.decisions.get(s.decision_id or -1))}</td></tr>"
        )
    more = len(history.sessions) - len(listed)
    note = (
        f"<p class='small'>The newest {len(listed):,} of {len(history.sessions):,} sessions; "
        "<code>rota sessions --json</code> lists them all.</p>"
        if more > 0
        else ""
    )
    return (
        note
        + "<table><thead><tr><th>#</th><th>started</th>"
        + ("<th>machine</th>" if fleet else "")
        + "<th>category</th><th>arm</th>"
        "<th>outcome</th><th>grade</th><th>signals</th><th>duration</th><th>cost</th>"
        "<th>decision</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )
