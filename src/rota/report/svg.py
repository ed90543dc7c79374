"""Charts as inline SVG, written directly: time axes with local dates, labelled axes, bands,
event markers, dots with trend lines, stacked bars and lanes. Every text is escaped. Colours are
Okabe–Ito (safe for the common colour-vision deficiencies), with dash patterns past eight series.
"""

from __future__ import annotations

import html
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

# Okabe & Ito (2008), yellow last: it is the hardest to see on white.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442")
DASHES = ("", "7 3", "2 3", "9 3 2 3")
GREY = "#6b6b6b"
LIGHT = "#e9e9e9"

HOUR = 3600.0
DAY = 86400.0
HALF, FULL = 600.0, 1200.0  # viewBox widths of a chart in a two-column grid and a full-width one
LEFT, RIGHT, TOP, BOTTOM = 58.0, 14.0, 22.0, 42.0


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def style_for(index: int) -> tuple[str, str]:
    """(colour, dash) of the index-th series: eight colours, then the same with dashes."""
    return PALETTE[index % len(PALETTE)], DASHES[(index // len(PALETTE)) % len(DASHES)]


def zone_label() -> str:
    name, off = time.strftime("%Z"), time.strftime("%z")
    if not off or name in ("UTC", "GMT") and off in ("+0000", "-0000"):
        return name or "UTC"
    return f"{name}, UTC{off[:3]}:{off[3:]}"


# -- ticks ----------------------------------------------------------------------------------------
_STEPS = (HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 28 * DAY)


def time_ticks(t0: float, t1: float, most: int = 8) -> list[tuple[float, str]]:
    """Ticks on local hours, midnights or Mondays, at most `most` of them, labelled."""
    span = max(t1 - t0, 1.0)
    step = next((s for s in _STEPS if span / s <= most), 28 * DAY)
    lt = time.localtime(t0)
    if step < DAY:
        hours = int(step // HOUR)
        t = time.mktime((*lt[:3], lt[3] - lt[3] % hours, 0, 0, 0, 0, -1))
    elif step < 7 * DAY:
        t = time.mktime((*lt[:3], 0, 0, 0, 0, 0, -1))
    else:
        t = time.mktime((lt[0], lt[1], lt[2] - lt[6], 0, 0, 0, 0, 0, -1))
    out = []
    guard = 0
    while t <= t1 and guard < 500:
        guard += 1
        if t >= t0:
            tl = time.localtime(t)
            if step < DAY and (tl[3] or tl[4]):
                label = time.strftime("%H:%M", tl)
            else:
                label = time.strftime("%b %-d", tl)
            out.append((t, label))
        tl = time.localtime(t)
        if step < DAY:
            t = time.mktime((*tl[:3], tl[3] + int(step // HOUR), 0, 0, 0, 0, -1))
        else:
            t = time.mktime((*tl[:2], tl[2] + int(step // DAY), 0, 0, 0, 0, 0, -1))
    return out


def value_ticks(lo: float, hi: float, most: int = 6) -> list[float]:
    span = hi - lo
    if span <= 0:
        return [lo]
    raw = span / most
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    out = []
    v = first
    while v <= hi + 1e-9:
        out.append(round(v, 10))
        v += step
    return out


# -- what a chart holds ---------------------------------------------------------------------------
@dataclass(slots=True)
class Series:
    label: str
    colour: str
    dash: str = ""
    line: list[tuple[float, float | None]] = field(default_factory=list)  # (t, y); None: a gap
    band: list[tuple[float, float, float]] = field(default_factory=list)  # (t, low, high)
    dots: list[tuple[float, float, str]] = field(default_factory=list)  # (t, y, tooltip)
    step: bool = False  # draw the line as steps (a level held until the next reading)
    dot_size: float = 2.4


@dataclass(slots=True)
class Span:
    """A shaded stretch of time (a block, a limit hit)."""

    start: float
    end: float
    colour: str
    title: str
    hatch: bool = False
    lane: float = 1.0  # fraction of the plot height, from the top


@dataclass(slots=True)
class Marker:
    """A vertical line at an event, with a short glyph on top and a tooltip."""

    t: float
    glyph: str
    colour: str
    title: str
    dash: str = "4 3"


@dataclass(slots=True)
class Frame:
    t0: float
    t1: float
    y0: float
    y1: float
    height: float
    y_label: str
    x_label: str = ""
    y_format: str = "{:.2f}"
    y_percent: bool = False
    width: float = HALF  # the viewBox width: near the displayed width, so text keeps its size

    @property
    def plot_w(self) -> float:
        return self.width - LEFT - RIGHT

    @property
    def plot_h(self) -> float:
        return self.height - TOP - BOTTOM

    def x(self, t: float) -> float:
        span = self.t1 - self.t0
        f = 0.5 if span <= 0 else (t - self.t0) / span
        return LEFT + min(1.0, max(0.0, f)) * self.plot_w

    def y(self, v: float) -> float:
        span = self.y1 - self.y0
        f = 0.5 if span <= 0 else (v - self.y0) / span
        return TOP + (1.0 - min(1.0, max(0.0, f))) * self.plot_h

    def label(self, v: float) -> str:
        return f"{v * 100:.0f}%" if self.y_percent else self.y_format.format(v)


def _n(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _open(name: str, f: Frame, title: str, desc: str) -> list[str]:
    return [
        f'<svg class="chart" data-chart="{esc(name)}" viewBox="0 0 {_n(f.width)} {_n(f.height)}" '
        f'role="img" aria-labelledby="{esc(name)}-t {esc(name)}-d" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{esc(name)}-t">{esc(title)}</title><desc id="{esc(name)}-d">{esc(desc)}</desc>',
        f'<defs><pattern id="{esc(name)}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f2f2f2"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#c8c8c8" stroke-width="2.5"/></pattern></defs>',
    ]


def _axes(f: Frame, x_ticks: bool = True) -> list[str]:
    out = [
        f'<rect class="plot" x="{_n(LEFT)}" y="{_n(TOP)}" width="{_n(f.plot_w)}" '
        f'height="{_n(f.plot_h)}" fill="#fff" stroke="#bbb"/>'
    ]
    for v in value_ticks(f.y0, f.y1, 5):
        y = f.y(v)
        out.append(
            f'<line x1="{_n(LEFT)}" x2="{_n(f.width - RIGHT)}" y1="{_n(y)}" y2="{_n(y)}" '
            f'stroke="{LIGHT}"/><text class="tick" x="{_n(LEFT - 6)}" y="{_n(y + 4)}" '
            f'text-anchor="end">{esc(f.label(v))}</text>'
        )
    if x_ticks:
        for t, label in time_ticks(f.t0, f.t1):
            x = f.x(t)
            out.append(
                f'<line x1="{_n(x)}" x2="{_n(x)}" y1="{_n(TOP)}" y2="{_n(TOP + f.plot_h)}" '
                f'stroke="{LIGHT}"/><text class="tick" x="{_n(x)}" y="{_n(TOP + f.plot_h + 16)}" '
                f'text-anchor="middle">{esc(label)}</text>'
            )
    cy = TOP + f.plot_h / 2
    out.append(
        f'<text class="axis" x="14" y="{_n(cy)}" text-anchor="middle" '
        f'transform="rotate(-90 14 {_n(cy)})">{esc(f.y_label)}</text>'
    )
    x_label = f.x_label or f"time ({zone_label()})"
    out.append(
        f'<text class="axis" x="{_n(LEFT + f.plot_w / 2)}" y="{_n(f.height - 6)}" '
        f'text-anchor="middle">{esc(x_label)}</text>'
    )
    return out


def _empty(f: Frame, message: str) -> str:
    return (
        f'<text class="empty" x="{_n(LEFT + f.plot_w / 2)}" y="{_n(TOP + f.plot_h / 2)}" '
        f'text-anchor="middle">{esc(message)}</text>'
    )


def _path(f: Frame, pts: Sequence[tuple[float, float | None]], step: bool) -> str:
    """A path through the points; a None value breaks the line (no data there)."""
    cmds = []
    prev_y = None
    for t, v in pts:
        if v is None:
            prev_y = None
            continue
        x, y = f.x(t), f.y(v)
        if prev_y is None:
            cmds.append(f"M{_n(x)} {_n(y)}")
        elif step and prev_y is not None:
            cmds.append(f"H{_n(x)}V{_n(y)}")
        else:
            cmds.append(f"L{_n(x)} {_n(y)}")
        prev_y = y
    return "".join(cmds)


def xy_chart(
    name: str,
    f: Frame,
    series: Sequence[Series],
    *,
    title: str,
    desc: str,
    spans: Sequence[Span] = (),
    markers: Sequence[Marker] = (),
    empty: str = "no data in this period",
) -> str:
    """Lines with optional interval bands, dots, shaded spans and event markers, over time."""
    out = _open(name, f, title, desc)
    out += _axes(f)
    clip = f"{esc(name)}-clip"
    out.append(
        # a dot's radius of room around the plot: marks at its edge are not cut in half
        f'<clipPath id="{clip}"><rect x="{_n(LEFT - 4)}" y="{_n(TOP - 4)}" '
        f'width="{_n(f.plot_w + 8)}" height="{_n(f.plot_h + 8)}"/></clipPath>'
        f'<g clip-path="url(#{clip})">'
    )
    for s in spans:
        x0, x1 = f.x(s.start), f.x(s.end)
        h = f.plot_h * s.lane
        fill = f"url(#{esc(name)}-hatch)" if s.hatch else s.colour
        opacity = "" if s.hatch else ' fill-opacity="0.28"'
        out.append(
            f'<rect class="span" x="{_n(x0)}" y="{_n(TOP)}" width="{_n(max(1.5, x1 - x0))}" '
            f'height="{_n(h)}" fill="{fill}"{opacity}><title>{esc(s.title)}</title></rect>'
        )
    # Bands overlap: the more of them, the fainter each, so that the lines stay readable.
    band_opacity = f"{max(0.05, min(0.14, 0.36 / max(1, sum(1 for s in series if s.band)))):.3f}"
    for s in series:
        if len(s.band) >= 2:
            top = [(t, hi) for t, _lo, hi in s.band]
            bottom = [(t, lo) for t, lo, _hi in reversed(s.band)]
            d = _path(f, top, False) + _path(f, bottom, False).replace("M", "L", 1) + "Z"
            out.append(
                f'<path class="band" d="{d}" fill="{s.colour}" fill-opacity="{band_opacity}"/>'
            )
    for s in series:
        for t, v, tip in s.dots:
            opacity = "0.4" if s.dot_size < 3 else "0.8"
            out.append(
                f'<circle class="dot" cx="{_n(f.x(t))}" cy="{_n(f.y(v))}" r="{_n(s.dot_size)}" '
                f'fill="{s.colour}" fill-opacity="{opacity}"><title>{esc(tip)}</title></circle>'
            )
    for s in series:
        drawn = [(t, v) for t, v in s.line if v is not None]
        if len(drawn) >= 2:
            dash = f' stroke-dasharray="{s.dash}"' if s.dash else ""
            d = _path(f, s.line, s.step)
            if s.dots:  # a white halo lifts a trend line off its own dots
                out.append(
                    f'<path d="{d}" fill="none" stroke="#fff" stroke-width="4.6" '
                    'stroke-linejoin="round" stroke-opacity="0.9"/>'
                )
            out.append(
                f'<path class="line" d="{d}" fill="none" '
                f'stroke="{s.colour}" stroke-width="2.2"{dash} stroke-linejoin="round">'
                f"<title>{esc(s.label)}</title></path>"
            )
        elif len(drawn) == 1:
            t, v = drawn[0]
            out.append(
                f'<circle class="dot" cx="{_n(f.x(t))}" cy="{_n(f.y(v))}" r="3.5" '
                f'fill="{s.colour}"><title>{esc(s.label)}</title></circle>'
            )
    for m in markers:
        x = f.x(m.t)
        out.append(
            f'<g class="marker"><title>{esc(m.title)}</title>'
            f'<line x1="{_n(x)}" x2="{_n(x)}" y1="{_n(TOP)}" y2="{_n(TOP + f.plot_h)}" '
            f'stroke="{m.colour}" stroke-width="1.3" stroke-opacity="0.7" '
            f'stroke-dasharray="{m.dash}"/></g>'
        )
    out.append("</g>")
    for m in markers:  # glyphs outside the clip, above the plot
        x = f.x(m.t)
        out.append(
            f'<text class="glyph" x="{_n(x)}" y="{_n(TOP - 6)}" text-anchor="middle" '
            f'fill="{m.colour}"><title>{esc(m.title)}</title>{esc(m.glyph)}</text>'
        )
    if not any(s.line or s.dots for s in series) and not spans:
        out.append(_empty(f, empty))
    out.append("</svg>")
    return "\n".join(out)


def stacked_bars(
    name: str,
    f: Frame,
    bins: Sequence[tuple[float, float, Sequence[tuple[str, str, float, str]]]],
    *,
    title: str,
    desc: str,
    empty: str = "no sessions in this period",
) -> str:
    """bins: (start, end, [(label, colour, value, tooltip)]) stacked bottom-up."""
    out = _open(name, f, title, desc)
    out += _axes(f)
    drawn = False
    for start, end, parts in bins:
        x0, x1 = f.x(start), f.x(end)
        gap = min(2.0, (x1 - x0) * 0.15)
        base = f.y0
        for _label, colour, value, tip in parts:
            if value <= 0:
                continue
            y_top, y_bot = f.y(base + value), f.y(base)
            out.append(
                f'<rect class="bar" x="{_n(x0 + gap / 2)}" y="{_n(y_top)}" '
                f'width="{_n(max(0.8, x1 - x0 - gap))}" height="{_n(max(0.0, y_bot - y_top))}" '
                f'fill="{colour}"><title>{esc(tip)}</title></rect>'
            )
            base += value
            drawn = True
    if not drawn:
        out.append(_empty(f, empty))
    out.append("</svg>")
    return "\n".join(out)


def lanes(
    name: str,
    t0: float,
    t1: float,
    rows: Sequence[tuple[str, Sequence[Span]]],
    *,
    title: str,
    desc: str,
    empty: str = "no block in this period",
) -> str:
    """One labelled lane per scope, with its spans (blocks) as bars along time."""
    lane_h = 22.0
    left = 150.0
    height = TOP + BOTTOM + lane_h * max(1, len(rows))
    f = Frame(t0, t1, 0, 1, height, "", width=FULL)
    plot_w = FULL - left - RIGHT

    def x(t: float) -> float:
        span = t1 - t0
        return left + (0.5 if span <= 0 else min(1.0, max(0.0, (t - t0) / span))) * plot_w

    out = _open(name, f, title, desc)
    out.append(
        f'<rect class="plot" x="{_n(left)}" y="{_n(TOP)}" width="{_n(plot_w)}" '
        f'height="{_n(lane_h * max(1, len(rows)))}" fill="#fff" stroke="#bbb"/>'
    )
    bottom = TOP + lane_h * max(1, len(rows))
    for t, label in time_ticks(t0, t1):
        out.append(
            f'<line x1="{_n(x(t))}" x2="{_n(x(t))}" y1="{_n(TOP)}" y2="{_n(bottom)}" '
            f'stroke="{LIGHT}"/><text class="tick" x="{_n(x(t))}" y="{_n(bottom + 16)}" '
            f'text-anchor="middle">{esc(label)}</text>'
        )
    out.append(
        f'<text class="axis" x="{_n(left + plot_w / 2)}" y="{_n(height - 6)}" '
        f'text-anchor="middle">{esc(f"time ({zone_label()})")}</text>'
    )
    for i, (label, spans) in enumerate(rows):
        y = TOP + i * lane_h
        short = label if len(label) <= 24 else label[:23] + "…"
        out.append(
            f'<text class="tick" x="{_n(left - 6)}" y="{_n(y + lane_h / 2 + 4)}" '
            f'text-anchor="end"><title>{esc(label)}</title>{esc(short)}</text>'
        )
        if i:
            out.append(
                f'<line x1="{_n(left)}" x2="{_n(FULL - RIGHT)}" y1="{_n(y)}" y2="{_n(y)}" '
                f'stroke="{LIGHT}"/>'
            )
        for s in spans:
            x0, x1 = x(s.start), x(s.end)
            out.append(
                f'<rect class="bar" x="{_n(x0)}" y="{_n(y + 4)}" width="{_n(max(2.0, x1 - x0))}" '
                f'height="{_n(lane_h - 8)}" fill="{s.colour}" rx="2"><title>{esc(s.title)}</title></rect>'
            )
    if not rows:
        out.append(
            f'<text class="empty" x="{_n(left + plot_w / 2)}" y="{_n(TOP + lane_h / 2 + 4)}" '
            f'text-anchor="middle">{esc(empty)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out)


def swatch(colour: str, dash: str = "", kind: str = "line") -> str:
    """A small legend key: a line (with its dash), a filled square or a hatched square."""
    if kind == "square":  # a translucent band
        body = f'<rect x="1" y="2" width="14" height="10" fill="{colour}" fill-opacity="0.45"/>'
    elif kind == "bar":
        body = f'<rect x="1" y="2" width="14" height="10" fill="{colour}"/>'
    elif kind == "hatch":
        body = (
            '<rect x="1" y="2" width="14" height="10" fill="#f2f2f2" stroke="#b0b0b0"/>'
            '<path d="M1 8L7 2M1 12L11 2M5 12L15 2M9 12L15 6" stroke="#b0b0b0" stroke-width="1.6"/>'
        )
    elif kind == "dot":
        body = f'<circle cx="8" cy="7" r="3.5" fill="{colour}"/>'
    else:
        d = f' stroke-dasharray="{dash}"' if dash else ""
        body = (
            f'<rect x="0" y="3" width="22" height="8" fill="{colour}" fill-opacity="0.1"/>'
            f'<line x1="0" y1="7" x2="22" y2="7" stroke="{colour}" stroke-width="2.2"{d}/>'
        )
    width = 22 if kind == "line" else 16
    return f'<svg class="key" width="{width}" height="14" viewBox="0 0 {width} 14" aria-hidden="true">{body}</svg>'
