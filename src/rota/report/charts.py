"""The report's charts: from the report's data (rota.report.posteriors, .activity) to SVG figures
with their legends. One stable colour (and dash) per arm across every chart."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from rota.config import Config
from rota.quota.state import Block
from rota.report import activity, svg
from rota.report.activity import Bin, Grade, LimitHit
from rota.report.posteriors import PosteriorTimeline
from rota.timefmt import human_duration

MAX_DOTS = 1500  # grade dots per chart; the trend uses every grade
SOURCE_COLOURS = {
    "rate_limit": "#D55E00",
    "backoff": "#E69F00",
    "health": "#CC79A7",
    "manual": "#0072B2",
}


@dataclass(slots=True)
class Figure:
    name: str
    title: str
    svg: str
    legend: list[tuple[str, str]] = field(default_factory=list)  # (swatch html, label)
    note: str = ""


def arm_styles(config: Config, extra: Sequence[str] = ()) -> dict[str, tuple[str, str]]:
    arms = list(config.arms) + sorted(set(extra) - set(config.arms))
    return {a: svg.style_for(i) for i, a in enumerate(arms)}


def when(ts: float | None) -> str:
    if ts is None:
        return "unknown"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def _arm_legend(arms: Sequence[str], styles: Mapping[str, tuple[str, str]], kind: str = "line"):
    return [(svg.swatch(*styles[a], kind=kind), a) for a in arms]


def posterior_figure(
    config: Config,
    category: str,
    tl: PosteriorTimeline,
    arms: Sequence[str],
    styles: Mapping[str, tuple[str, str]],
    long_blocks: Sequence[Block],
    since: float,
    now: float,
) -> Figure:
    series = []
    lows, highs = [], []
    for arm in arms:
        # An arm's line starts at its first session: before it, there was nothing to believe.
        # (From the checkpoint just before it: the prior it started from, then what it learnt.)
        first = tl.first_seen.get(arm)
        every = tl.series[category][arm]
        k = sum(1 for p in every if first is not None and p.t < first)
        pts = every[max(0, k - 1) :]
        colour, dash = styles[arm]
        last = pts[-1]
        series.append(
            svg.Series(
                label=f"{arm}: mean {last.mean:.2f}, 90% interval "
                f"[{last.low:.2f}, {last.high:.2f}], n={last.n}",
                colour=colour,
                dash=dash,
                line=[(p.t, p.mean) for p in pts],
                band=[(p.t, p.low, p.high) for p in pts],
            )
        )
        lows.append(min(p.low for p in pts))
        highs.append(max(p.high for p in pts))
    y0 = max(0.0, round(min(lows, default=0.0) - 0.05, 1))
    y1 = min(1.0, round(max(highs, default=1.0) + 0.05, 1))
    if y1 - y0 < 0.2:
        y0, y1 = max(0.0, y0 - 0.1), min(1.0, y1 + 0.1)
    markers = []
    shown = set(arms)
    for e in tl.events:
        if e.arm not in shown or not since <= e.t <= now:
            continue
        if e.categories and category not in e.categories:
            continue
        colour = styles[e.arm][0]
        if e.kind == "change":
            markers.append(svg.Marker(e.t, "Δ", colour, f"{when(e.t)}: {e.text}"))
        elif e.kind == "new_arm":
            markers.append(svg.Marker(e.t, "+", colour, f"{when(e.t)}: {e.text}", dash="1 3"))
    spans = [
        svg.Span(
            b.created_at,
            b.until,
            "",
            f"{b.scope_kind} {b.scope} blocked {when(b.created_at)} → {when(b.until)} "
            f"({human_duration(b.until - b.created_at)}): {b.reason or b.source}",
            hatch=True,
        )
        for b in long_blocks
    ]
    if not any(p.n for a in arms for p in tl.series[category][a][-1:]):
        for sr in series:  # priors only: overlapping bands over the whole range say nothing
            sr.band = []
    name = f"posterior-{category}"
    f = svg.Frame(since, now, y0, y1, 280.0, "posterior mean grade (0–1)")
    body = svg.xy_chart(
        name,
        f,
        series,
        title=f"{category}: what rota believes about each arm",
        desc=f"Posterior mean grade of each arm in category {category} over time, with its 90% "
        "credible interval shaded; markers for detected changes, new arms and long blocks.",
        spans=spans,
        markers=markers,
    )
    legend = _arm_legend(arms, styles)
    glyphs = {m.glyph for m in markers}
    if "Δ" in glyphs:
        legend.append(
            ("<span class='glyph-key'>Δ</span>", "shift in grades found: older ones set aside")
        )
    if "+" in glyphs:
        legend.append(("<span class='glyph-key'>+</span>", "new arm: its first session"))
    if spans:
        legend.append((svg.swatch("", kind="hatch"), "block of 12 h or more"))
    note = ""
    if not any(p.n for a in arms for p in tl.series[category][a][-1:]):
        last = [tl.series[category][a][-1] for a in arms]
        lo, hi = min(p.low for p in last), max(p.high for p in last)
        note = (
            "No graded session in this category yet: each line is the arm's tier prior, and "
            f"its 90% interval spans about {lo:.2f}–{hi:.2f} (not shaded: nothing is known yet)."
        )
    return Figure(name, f"{category}: posterior mean and 90% interval", body, legend, note)


def grades_figure(
    category: str,
    points: Sequence[Grade],
    styles: Mapping[str, tuple[str, str]],
    since: float,
    now: float,
) -> Figure:
    by_arm: dict[str, list[Grade]] = {}
    for g in points:
        by_arm.setdefault(g.arm, []).append(g)
    arms = [a for a in styles if a in by_arm]
    per_arm = max(50, MAX_DOTS // max(1, len(arms)))
    big = len(points) <= 60  # few dots: larger and bolder, or one grade is a speck
    series = []
    thinned = False
    for arm in arms:
        pts = by_arm[arm]
        shown = activity.thin(pts, per_arm)
        thinned = thinned or len(shown) < len(pts)
        colour, dash = styles[arm]
        series.append(
            svg.Series(
                label=f"{arm}: trend (moving mean)",
                colour=colour,
                dash=dash,
                dot_size=3.6 if big else 2.4,
                line=activity.trend(pts, since, now),
                dots=[
                    (
                        g.t,
                        g.reward,
                        f"session {g.session_id}, {arm}, {when(g.t)}: grade {g.reward:.2f}",
                    )
                    for g in shown
                ],
            )
        )
    name = f"grades-{category}"
    f = svg.Frame(since, now, 0.0, 1.0, 280.0, "grade (0–1)")
    body = svg.xy_chart(
        name,
        f,
        series,
        title=f"{category}: grades",
        desc=f"Every graded session in category {category} as a dot, with each arm's moving mean.",
        empty="no graded session in this period",
    )
    note = ""
    if thinned:
        note = (
            f"{len(points):,} grades: every k-th one is drawn (at most {per_arm:,} per arm); "
            "the trend lines use them all."
        )
    legend = _arm_legend(arms, styles)
    if points:
        legend.append((svg.swatch(svg.GREY, kind="dot"), "one graded session"))
    return Figure(name, f"{category}: grades with trend", body, legend, note)


def shares_figure(
    bins: Sequence[Bin], styles: Mapping[str, tuple[str, str]], unit: str, since: float, now: float
) -> Figure:
    seen = {a for b in bins for a in b.counts}
    arms = [a for a in styles if a in seen]
    fmt = "%b %-d %H:00" if unit == "hour" else ("week of %b %-d" if unit == "week" else "%b %-d")
    rows = []
    for b in bins:
        total = b.total
        if not total:
            continue
        label = time.strftime(fmt, time.localtime(b.start))
        parts = [
            (
                a,
                styles[a][0],
                b.counts[a] / total,
                f"{label}: {a} ran {b.counts[a]} of {total} sessions ({100 * b.counts[a] / total:.0f}%)",
            )
            for a in arms
            if b.counts.get(a)
        ]
        rows.append((b.start, b.end, parts))
    t0 = bins[0].start if bins else since
    t1 = bins[-1].end if bins else now
    f = svg.Frame(
        t0, t1, 0.0, 1.0, 260.0, f"share of the {unit}'s sessions", y_percent=True, width=svg.FULL
    )
    name = "shares"
    body = svg.stacked_bars(
        name,
        f,
        rows,
        title=f"Each arm's share of sessions per {unit}",
        desc=f"Stacked bars: for each {unit}, the fraction of sessions each arm ran.",
    )
    legend = _arm_legend(arms, styles, kind="bar")
    return Figure(name, f"Share of sessions per {unit}", body, legend)


def quota_figure(
    config: Config,
    key: tuple[str, str, str],
    points: Sequence[tuple],
    blocks: Sequence[Block],
    hits: Sequence[LimitHit],
    since: float,
    now: float,
) -> Figure:
    kind, scope, window = key
    label = f"{kind} {scope}" + (f" ({window_label(window)})" if window else "")
    pts = activity.peaks([p for p in points if since <= p[0] <= now], since, now)
    series = [
        svg.Series(
            label=f"{label}: used share of the window",
            colour=svg.PALETTE[0],
            line=[(p[0], p[1]) for p in pts],
            dots=[
                (p[0], p[1], f"{when(p[0])}: {100 * p[1]:.0f}% used, resets {when(p[2])}")
                for p in pts
            ]
            if len(pts) <= 150
            else [],
        )
    ]
    related = activity.related_blocks(kind, scope, blocks, config.pools)
    spans = [
        svg.Span(
            b.created_at,
            b.until,
            "",
            f"{b.scope_kind} {b.scope} blocked {when(b.created_at)} → {when(b.until)}: "
            f"{b.reason or b.source}",
            hatch=True,
        )
        for b in related
        if b.until >= since and b.created_at <= now
    ]
    mine = []
    for h in hits:
        covered = h.arm in config.arms and config.arm_scopes(h.arm).covers(kind, scope)
        if covered or f"{kind}:{scope}" in h.scopes:
            mine.append(h)
    for h in mine:
        end = h.until if h.until is not None else h.t + 600
        spans.append(
            svg.Span(
                h.t,
                end,
                svg.PALETTE[3],
                f"{when(h.t)}: {h.arm} hit a limit: {h.message} (until {when(h.until)})",
                lane=0.08,
            )
        )
    markers = [
        svg.Marker(
            h.t, "!", svg.PALETTE[3], f"{when(h.t)}: {h.arm} hit a limit: {h.message}", "2 2"
        )
        for h in mine
        if since <= h.t <= now
    ]
    name = f"quota-{kind}-{scope}-{window}".replace(" ", "_").replace(":", "_").replace("/", "_")
    f = svg.Frame(
        since, now, 0.0, 1.0, 240.0, "used (% of the window)", y_percent=True, width=svg.FULL
    )
    body = svg.xy_chart(
        name,
        f,
        series,
        title=f"Quota: {label}",
        desc=f"The used share of {label} as probed before each session, with blocks "
        "(hatched) and limit hits (red) as bands.",
        spans=spans,
        markers=markers,
        empty="no probed level recorded in this period",
    )
    legend = [(svg.swatch(svg.PALETTE[0]), "used, as probed before each session")]
    if any(sp.hatch for sp in spans):
        legend.append((svg.swatch("", kind="hatch"), "blocked"))
    if mine:
        legend.append((svg.swatch(svg.PALETTE[3], kind="square"), "limit hit, until its reset"))
    return Figure(name, f"Quota: {label}", body, legend)


def window_label(window: str) -> str:
    """ "10080m" -> "7d window"; names ("five_hour", "weekly") are kept as they are."""
    if window.endswith("m") and window[:-1].replace(".", "", 1).isdigit():
        return f"{human_duration(float(window[:-1]) * 60)} window"
    return window


def blocks_figure(blocks: Sequence[Block], since: float, now: float) -> Figure:
    lanes: dict[str, list[svg.Span]] = {}
    sources: dict[str, str] = {}
    for b in sorted(blocks, key=lambda b: (b.scope_kind, b.scope, b.created_at)):
        if b.until < since or b.created_at > now:
            continue
        colour = SOURCE_COLOURS.get(b.source, svg.GREY)
        sources[b.source or "other"] = colour
        lanes.setdefault(f"{b.scope_kind} {b.scope}", []).append(
            svg.Span(
                max(b.created_at, since),
                min(b.until, now),
                colour,
                f"{b.scope_kind} {b.scope}: {when(b.created_at)} → {when(b.until)} "
                f"({human_duration(b.until - b.created_at)}), {b.source}: {b.reason}",
            )
        )
    body = svg.lanes(
        "blocks",
        since,
        now,
        list(lanes.items()),
        title="Blocks per scope",
        desc="Each block (a limit hit, a backoff, a crash loop, a manual block) as a bar on its "
        "scope's lane.",
    )
    legend = [(svg.swatch(c, kind="bar"), s.replace("_", " ")) for s, c in sources.items()]
    return Figure("blocks", "Blocks per scope", body, legend)
