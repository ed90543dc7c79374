"""The report page: one self-contained HTML file (inline CSS and SVG, no script, no network)
built from a History; and the same content as data for `rota report --json`."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from rota import __version__
from rota.report import activity, changes, charts, posteriors, tables
from rota.report.changes import plural
from rota.report.charts import Figure, when
from rota.report.history import History
from rota.report.svg import esc, zone_label

CSS = """
:root { --fg:#1d1d1f; --muted:#5f6368; --line:#d9d9de; --bg:#fafafa; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--fg);
  font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif; }
main { max-width:1280px; margin:0 auto; padding:24px 28px 48px; }
h1 { font-size:22px; margin:0 0 4px; }
h2 { font-size:18px; margin:32px 0 8px; padding-bottom:4px; border-bottom:1px solid var(--line); }
h3 { font-size:15px; margin:0 0 6px; }
.sub { color:var(--muted); margin:0 0 16px; }
.kpis { display:flex; flex-wrap:wrap; gap:10px; margin:12px 0; }
.kpi { background:#fff; border:1px solid var(--line); border-radius:6px; padding:8px 14px; min-width:120px; }
.kpi b { display:block; font-size:20px; }
.kpi span { color:var(--muted); font-size:12px; }
.changes { background:#fff; border:1px solid var(--line); border-left:4px solid #0072B2;
  border-radius:6px; padding:10px 16px 10px 32px; margin:8px 0; }
.changes li { margin:3px 0; }
.grid { display:grid; grid-template-columns:repeat(auto-fit,minmax(520px,1fr)); gap:0 16px; }
figure { margin:0 0 16px; background:#fff; border:1px solid var(--line); border-radius:6px; padding:10px 12px; }
figure svg.chart { width:100%; height:auto; display:block; }
svg text { font-family:inherit; }
svg .tick { font-size:11px; fill:#444; }
svg .axis { font-size:12px; fill:#222; }
svg .empty { font-size:14px; fill:#777; font-style:italic; }
svg .glyph { font-size:13px; font-weight:bold; }
figcaption { font-size:12.5px; color:var(--muted); }
ul.legend { list-style:none; padding:0; margin:6px 0 0; display:flex; flex-wrap:wrap; gap:4px 14px; }
ul.legend li { display:flex; align-items:center; gap:5px; font-size:12.5px; color:#333; }
.glyph-key { font-weight:bold; width:16px; text-align:center; }
.note { font-size:12px; color:var(--muted); margin-top:4px; }
table { border-collapse:collapse; width:100%; background:#fff; font-size:13px; }
th, td { text-align:left; padding:5px 8px; border-bottom:1px solid #eee; vertical-align:top; }
th { background:#f1f1f4; position:sticky; top:0; }
td.arm, details td:first-child { white-space:nowrap; }
tr.chosen td { font-weight:600; }
td.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
.badge { display:inline-block; padding:0 7px; border-radius:9px; font-size:12px; white-space:nowrap; }
.badge.ok { background:#dff3ea; color:#00573c; }
.badge.limit { background:#fdebd3; color:#7a4300; }
.badge.bad { background:#fbe0d6; color:#8a2a00; }
.badge.muted { background:#eee; color:#555; }
.signals, .why { color:var(--muted); font-size:12px; }
details summary { cursor:pointer; color:#0b5394; }
details table { margin-top:4px; font-size:12px; }
.small { font-size:12px; color:var(--muted); }
footer { margin-top:32px; color:var(--muted); font-size:12px; }
@media print { body { background:#fff; } figure { break-inside:avoid; } }
"""


def build(history: History, last_report: float | None) -> tuple[str, dict[str, Any]]:
    """The HTML page and the same content as data."""
    cfg, now, period_start = history.config, history.now, history.since
    sessions = history.sessions
    # Charts span the period, or only its active part when the history began within it (one
    # session an hour ago is not drawn as a sliver at the edge of a month).
    since = activity.view_start(period_start, now, sessions, history.blocks)
    period = changes.periods(last_report, now)
    cats = _categories(history)
    tl = posteriors.timeline(cfg, history.observations, history.context, since, now, cats)
    long_blocks = activity.long_blocks(history.blocks, since, now)
    for b in long_blocks:
        tl.events.append(
            posteriors.Event(
                b.created_at, "long_block", f"{b.scope_kind}:{b.scope}", b.reason, b.until
            )
        )
    extra = {activity.credited(s) for s in history.context} | {o[1] for o in history.observations}
    styles = charts.arm_styles(cfg, sorted(extra))
    grades = activity.grades(sessions)
    figures: list[tuple[str, list[Figure]]] = []
    for cat in cats:
        arms = _arms_for(history, cat, tl)
        figures.append(
            (
                cat,
                [
                    charts.posterior_figure(cfg, cat, tl, arms, styles, long_blocks, since, now),
                    charts.grades_figure(cat, grades.get(cat, []), styles, since, now),
                ],
            )
        )
    _, unit = activity.bin_width(since, now)
    shares = charts.shares_figure(activity.shares(sessions, since, now), styles, unit, since, now)
    levels = activity.quota_levels(sessions)
    hits = activity.limit_hits(sessions, history.blocks)
    quota_figs = [
        charts.quota_figure(cfg, key, pts, history.blocks, hits, since, now)
        for key, pts in sorted(levels.items())
    ]
    blocks_fig = charts.blocks_figure(history.blocks, since, now)
    what_changed = changes.changes(history.context, tl.events, history.blocks, period)

    kpis = _kpis(history, hits)
    data = {
        "generated_at": now,
        "since": period_start,
        "charts_from": since,
        "rota_version": __version__,
        "sessions": len(sessions),
        "sessions_total": history.total_sessions,
        "truncated": history.truncated,
        "kpis": kpis,
        "changes_since": period.label,
        "changes": [{"kind": c.kind, "subject": c.arm, "text": c.text} for c in what_changed],
        "posteriors": {
            cat: {
                arm: {
                    "mean": round(pts[-1].mean, 4),
                    "interval90": [round(pts[-1].low, 4), round(pts[-1].high, 4)],
                    "n": pts[-1].n,
                }
                for arm, pts in tl.series[cat].items()
            }
            for cat in cats
        },
        "events": [
            {"t": e.t, "kind": e.kind, "subject": e.arm, "text": e.text}
            for e in tl.events
            if since <= e.t <= now
        ],
        "quota_windows": [
            {"scope_kind": k[0], "scope": k[1], "window": k[2], "readings": len(v)}
            for k, v in sorted(levels.items())
        ],
        "charts": [f.name for _, fs in figures for f in fs]
        + [shares.name]
        + [f.name for f in quota_figs]
        + [blocks_fig.name],
    }
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # Nothing may be fetched: the file must read the same offline and as an attachment.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">",
        f"<title>rota report, {esc(time.strftime('%Y-%m-%d', time.localtime(now)))}</title>",
        f"<style>{CSS}</style></head><body><main>",
        "<h1>rota report</h1>",
        f'<p class="sub">{esc(when(period_start))} → {esc(when(now))} ({esc(zone_label())}), '
        f"{plural(len(sessions), 'session')} in this period, "
        f"{history.total_sessions:,} recorded in all"
        + (
            f"; the charts start at {esc(when(since))}, just before the first"
            if since > period_start
            else ""
        )
        + f". Store: {esc(_store_label(cfg))}.</p>",
    ]
    if history.truncated:
        parts.append(
            '<p class="note">Only the newest sessions were read for the charts (the period holds '
            "more than the report reads at once); narrow it with --since.</p>"
        )
    parts.append(_kpi_html(kpis))
    parts.append(
        f"<h2>What changed</h2><p class='small'>{esc(period.label)}</p><ul class='changes'>"
    )
    parts += [f"<li>{esc(c.text)}</li>" for c in what_changed]
    parts.append("</ul>")
    parts.append(
        "<h2>What rota learnt, per category</h2><p class='small'>Left: the posterior mean grade "
        "of each arm with its 90% interval, rebuilt from the graded sessions with rota's own "
        "learning code, as selection saw it at each moment. Right: the grades themselves.</p>"
    )
    for cat, figs in figures:
        parts.append(f"<h3>{esc(cat)}</h3><div class='grid'>")
        parts += [_figure_html(f) for f in figs]
        parts.append("</div>")
    parts.append("<h2>Who ran the sessions</h2>")
    parts.append(_figure_html(shares))
    parts.append(
        "<h2>Quota and blocks</h2><p class='small'>Each probed window's use, from the levels "
        "recorded when each session started; blocks and limit hits as bands.</p>"
    )
    if quota_figs:
        parts += [_figure_html(f) for f in quota_figs]
    else:
        parts.append(
            "<p class='small'>No probed quota level was recorded in this period (no probe "
            "answered, or no session ran).</p>"
        )
    parts.append(_figure_html(blocks_fig))
    parts.append("<h2>Sessions</h2>")
    parts.append(tables.sessions_html(history))
    parts.append(
        f"<footer>Generated by rota {esc(__version__)} at {esc(when(now))}. Colours: Okabe–Ito. "
        "Hover a mark for its details. Cost is the configured relative cost of the arm that ran."
        "</footer></main></body></html>"
    )
    return "\n".join(parts), data


def _store_label(cfg: Any) -> str:
    from rota.store import store_url

    url = store_url(cfg) or "SQLite (default)"
    if "@" in url:  # never show credentials
        scheme, _, rest = url.partition("://")
        url = f"{scheme}://…@{rest.split('@', 1)[1]}"
    return url


def _categories(history: History) -> list[str]:
    cfg = history.config
    seen = {s.category for s in history.sessions} | {o[0] for o in history.observations}
    cats = [c for c in cfg.categories if c in seen]
    return cats or [cfg.default_category]


def _arms_for(history: History, cat: str, tl: posteriors.PosteriorTimeline) -> list[str]:
    cfg = history.config
    used = {activity.credited(s) for s in history.sessions if s.category == cat}
    used |= {arm for c, arm, _r, _t in history.observations if c == cat}
    arms = [a for a in cfg.arms if a in used and a in tl.series[cat]]
    return arms or [a.arm for a in cfg.enabled_arms()] or list(cfg.arms)


def _kpis(history: History, hits: Sequence[activity.LimitHit]) -> dict[str, Any]:
    sessions = history.sessions
    costs = {a: c.cost for a, c in history.config.arms.items()}
    by_status: dict[str, int] = {}
    for s in sessions:
        by_status[s.status] = by_status.get(s.status, 0) + 1
    graded = [s.reward for s in sessions if s.reward is not None]
    cost = sum(activity.session_cost(s, costs) or 0.0 for s in sessions)
    return {
        "sessions": len(sessions),
        "by_outcome": by_status,
        "mean_grade": round(sum(graded) / len(graded), 4) if graded else None,
        "graded": len(graded),
        "limit_hits": len(hits),
        "blocks_active": len(history.active_blocks),
        "cost": round(cost, 3),
    }


def _kpi_html(k: Mapping[str, Any]) -> str:
    bad = k["by_outcome"].get("crashed", 0) + k["by_outcome"].get("timed_out", 0)
    items = [
        (f"{k['sessions']:,}", "sessions"),
        (f"{k['by_outcome'].get('completed', 0):,}", "completed"),
        (
            "–" if k["mean_grade"] is None else f"{k['mean_grade']:.2f}",
            f"mean grade ({k['graded']:,} graded)",
        ),
        (f"{k['limit_hits']:,}", "limit hits"),
        (f"{bad:,}", "crashed or timed out"),
        (f"{k['blocks_active']:,}", "blocks in force now"),
        (f"{k['cost']:,.1f}", "cost (config units)"),
    ]
    return (
        "<div class='kpis'>"
        + "".join(
            f"<div class='kpi'><b>{esc(v)}</b><span>{esc(label)}</span></div>" for v, label in items
        )
        + "</div>"
    )


def _figure_html(f: Figure) -> str:
    legend = "".join(f"<li>{sw}<span>{esc(label)}</span></li>" for sw, label in f.legend)
    note = f"<div class='note'>{esc(f.note)}</div>" if f.note else ""
    return (
        f"<figure data-figure='{esc(f.name)}'><figcaption><h3>{esc(f.title)}</h3></figcaption>"
        f"{f.svg}<ul class='legend'>{legend}</ul>{note}</figure>"
    )
