"""Inline SVG plots for the HTML report, drawn from a results ``Plot`` with no plotting library.

``render_plot(plot)`` returns an ``<svg>`` element meant to sit inside an HTML page
(it has no XML namespace declaration, which inline SVG does not need). The drawing has
a fixed viewBox and scales to the width of its container. Colours follow the
Okabe-Ito colour-blind-safe palette; by convention the first series is the base
model (grey-blue) and the second the tuned model (orange).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from tunelens.report._axes import Axis, category_axis, linear_axis, log_axis
from tunelens.report._format import fmt_num, is_number
from tunelens.report._heatmap import heatmap_svg
from tunelens.results import Plot, Series

WIDTH, HEIGHT = 600, 330
PALETTE = ("#5b7c99", "#e08600", "#009e73", "#cc79a7", "#0072b2", "#d55e00", "#56b4e9", "#999933")
CHAR_W = 7.0  # approximate width of one character of the 12.5px axis font
MAX_CATEGORY_CHARS = 16
MAX_MARKERS = 60  # beyond this many points a series is drawn as a bare line


def colour(i: int) -> str:
    """The colour of the i-th series."""
    return PALETTE[i % len(PALETTE)]


def _category_text(x: float | str) -> str:
    if isinstance(x, str):
        text = x
    elif isinstance(x, float) and x.is_integer():
        text = str(int(x))
    else:
        text = fmt_num(x)
    return text if len(text) <= MAX_CATEGORY_CHARS else text[: MAX_CATEGORY_CHARS - 1] + "\u2026"


def _categories(series: Sequence[Series]) -> list[float | str]:
    """Distinct x values of all series, in order of first appearance."""
    seen: dict[float | str, None] = {}
    for s in series:
        for x in s.x:
            seen.setdefault(x, None)
    return list(seen)


def _at(values: Sequence[float | None] | None, i: int) -> float | None:
    if values is None or i >= len(values) or not is_number(values[i]):
        return None
    return values[i]


def _y_values(series: Sequence[Series]) -> list[float]:
    return [v for s in series for vs in (s.y, s.y_low, s.y_high) if vs for v in vs if v is not None and is_number(v)]


def _y_axis(values: list[float], top: float, bottom: float, include_zero: bool) -> Axis:
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    if include_zero:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    return linear_axis(lo, hi, bottom, top)


def _legend(series: Sequence[Series]) -> tuple[list[str], float]:
    """Legend entries along the top; returns the SVG parts and the height used."""
    if len(series) < 2:
        return [], 10.0
    parts, x, y = [], 56.0, 16.0
    for i, s in enumerate(series):
        w = 18 + CHAR_W * len(s.name) + 16
        if x + w > WIDTH - 8 and x > 56:
            x, y = 56.0, y + 20
        parts.append(
            f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="12" height="12" rx="2" fill="{colour(i)}"/>'
            f'<text x="{x + 17:.1f}" y="{y + 1:.1f}">{escape(s.name)}</text>'
        )
        x += w
    return parts, y + 18


def _frame(plot: Plot, x_axis: Axis, y_axis: Axis, top: float, rotate: bool) -> list[str]:
    """Grid lines, ticks, tick labels and axis titles."""
    left, right, bottom = x_axis.p0, x_axis.p1, y_axis.p0
    out = ['<g stroke="#e3e6ea" stroke-width="1">']
    out += [
        f'<line x1="{left:.1f}" x2="{right:.1f}" y1="{y_axis(v):.1f}" y2="{y_axis(v):.1f}"/>' for v, _ in y_axis.ticks
    ]
    out.append("</g>")
    out.append(f'<line x1="{left:.1f}" x2="{right:.1f}" y1="{bottom:.1f}" y2="{bottom:.1f}" stroke="#8a939c"/>')
    out += [
        f'<text x="{left - 6:.1f}" y="{y_axis(v) + 4:.1f}" text-anchor="end">{escape(t)}</text>'
        for v, t in y_axis.ticks
    ]
    for v, t in x_axis.ticks:
        px = x_axis(v)
        out.append(f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{bottom:.1f}" y2="{bottom + 4:.1f}" stroke="#8a939c"/>')
        if rotate:
            out.append(
                f'<text transform="translate({px + 4:.1f},{bottom + 13:.1f}) rotate(-35)" '
                f'text-anchor="end">{escape(t)}</text>'
            )
        else:
            out.append(f'<text x="{px:.1f}" y="{bottom + 18:.1f}" text-anchor="middle">{escape(t)}</text>')
    if plot.x_label:
        out.append(
            f'<text class="axis-title" x="{(left + right) / 2:.1f}" y="{HEIGHT - 6}" '
            f'text-anchor="middle">{escape(plot.x_label)}</text>'
        )
    if plot.y_label:
        mid = (top + bottom) / 2
        out.append(
            f'<text class="axis-title" transform="translate(15,{mid:.1f}) rotate(-90)" '
            f'text-anchor="middle">{escape(plot.y_label)}</text>'
        )
    return out


def _layout(plot: Plot, categories: list[str] | None) -> tuple[list[str], float, float, float, bool]:
    """Legend parts and the plot area (top, left, bottom) given the labels that must fit."""
    legend, top = _legend(plot.series)
    y_ticks = _y_axis(_y_values(plot.series), top, HEIGHT, plot.kind == "bar").ticks
    left = 24.0 + (18 if plot.y_label else 0) + CHAR_W * max((len(t) for _, t in y_ticks), default=1)
    rotate = False
    bottom = HEIGHT - 26.0 - (18 if plot.x_label else 0)
    if categories:
        widest = max(len(c) for c in categories)
        rotate = widest * CHAR_W > (WIDTH - left - 16) / len(categories) - 4
        if rotate:  # labels slant down and to the left of their tick: make room below and at the left
            bottom -= widest * CHAR_W * 0.57
            left = max(left, widest * CHAR_W * 0.82 - 12)
    return legend, top, left, bottom, rotate


def _svg(plot: Plot, body: list[str]) -> str:
    label = escape(plot.title or plot.id)
    return (
        f'<svg class="plot" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" aria-label="{label}" '
        f'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="12.5" fill="#3d4650">'
        f"<title>{label}</title>" + "".join(body) + "</svg>"
    )


def _empty(plot: Plot) -> str:
    return _svg(
        plot,
        [f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" fill="#8a939c">no data to plot</text>'],
    )


def _point_title(s: Series, x: float | str, y: float) -> str:
    return f"<title>{escape(s.name)}: {escape(_category_text(x))} \u2192 {escape(fmt_num(y))}</title>"


def _x_axis(plot: Plot, cats: list[float | str], xs: list[float], left: float, right: float) -> Axis:
    """The x axis of a line plot: categorical, logarithmic or linear."""
    if cats:
        return category_axis([_category_text(c) for c in cats], left, right)
    if plot.x_log:
        return log_axis(min(xs), max(xs), left, right)
    return linear_axis(min(xs), max(xs), left, right)


def _runs(points: Sequence[tuple[float, ...] | None]) -> list[list[tuple[float, ...]]]:
    """Split a sequence of points at the gaps (None) into runs of consecutive points."""
    runs: list[list[tuple[float, ...]]] = [[]]
    for p in points:
        if p is not None:
            runs[-1].append(p)
        elif runs[-1]:
            runs.append([])
    return [r for r in runs if r]


def _coords(points: Sequence[tuple[float, ...]]) -> str:
    return " ".join(f"{p[0]:.1f},{p[1]:.1f}" for p in points)


def _line_series(s: Series, c: str, px: list[float | None], y_axis: Axis, joined: bool = True) -> list[str]:
    """One series of a line plot: its band, its line (broken at gaps) and its point markers."""
    out = []
    n = min(len(px), len(s.y))
    band = [
        (x, y_axis(lo), y_axis(hi)) if x is not None and lo is not None and hi is not None else None
        for x, lo, hi in ((px[j], _at(s.y_low, j), _at(s.y_high, j)) for j in range(len(px)))
    ]
    for run in _runs(band):
        outline = [(p[0], p[2]) for p in run] + [(p[0], p[1]) for p in reversed(run)]
        out.append(f'<polygon points="{_coords(outline)}" fill="{c}" fill-opacity="0.18"/>')
    line: list[tuple[float, ...] | None] = []
    marks: list[str] = []
    for j in range(n):
        x, y = px[j], _at(s.y, j)
        if x is None or y is None:
            line.append(None)
            continue
        line.append((x, y_axis(y)))
        marks.append(f'<circle cx="{x:.1f}" cy="{y_axis(y):.1f}" r="3">{_point_title(s, s.x[j], y)}</circle>')
    markers = n <= MAX_MARKERS or not joined
    for run in _runs(line) if joined else []:
        if len(run) > 1:
            out.append(
                f'<polyline points="{_coords(run)}" fill="none" stroke="{c}" stroke-width="2" '
                'stroke-linejoin="round" stroke-linecap="round"/>'
            )
        elif not markers:  # a lone point between gaps would otherwise be invisible
            out.append(f'<circle cx="{run[0][0]:.1f}" cy="{run[0][1]:.1f}" r="3" fill="{c}"/>')
    if markers and marks:
        out.append(f'<g fill="{c}">{"".join(marks)}</g>')
    return out


def _x_refs(plot: Plot, x_axis: Axis, xs: list[float], top: float, bottom: float) -> list[str]:
    """Dashed vertical reference lines at ``plot.x_refs`` that fall inside the x range."""
    lo, hi = (min(xs), max(xs)) if xs else (0.0, 0.0)
    out = []
    for x in plot.x_refs:
        if lo <= x <= hi and (x > 0 or not plot.x_log):
            px = x_axis(x)
            out.append(
                f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{top:.1f}" y2="{bottom:.1f}" stroke="#5b6570" '
                f'stroke-dasharray="4 3"><title>x = {escape(fmt_num(x))}</title></line>'
            )
    return out


def line_plot(plot: Plot) -> str:
    """Lines (with optional shaded y_low..y_high bands) over numeric, log or categorical x;
    a scatter plot is the same without the lines."""
    categorical = any(isinstance(x, str) for s in plot.series for x in s.x)
    cats = _categories(plot.series) if categorical else []

    def usable(x: float | str) -> bool:
        return categorical or (isinstance(x, (int, float)) and is_number(x) and (not plot.x_log or x > 0))

    xs = [float(x) for s in plot.series for x in s.x if not categorical and usable(x)]
    if not (xs or cats) or not _y_values(plot.series):
        return _empty(plot)
    legend, top, left, bottom, rotate = _layout(plot, [_category_text(c) for c in cats] or None)
    y_axis = _y_axis(_y_values(plot.series), top, bottom, include_zero=False)
    x_axis = _x_axis(plot, cats, xs, left, WIDTH - 16)
    index = {c: i for i, c in enumerate(cats)}
    body = [*legend, *_frame(plot, x_axis, y_axis, top, rotate)]
    if not categorical:
        body += _x_refs(plot, x_axis, xs, top, bottom)
    for i, s in enumerate(plot.series):
        px = [(x_axis(index[x]) if categorical else x_axis(float(x))) if usable(x) else None for x in s.x]
        body += _line_series(s, colour(i), px, y_axis, joined=plot.kind != "scatter")
    return _svg(plot, body)


def bar_plot(plot: Plot) -> str:
    """Grouped bars, one group per x category and one bar per series, with optional error bars."""
    cats = _categories(plot.series)
    if not cats or not _y_values(plot.series):
        return _empty(plot)
    legend, top, left, bottom, rotate = _layout(plot, [_category_text(c) for c in cats])
    right = WIDTH - 16
    y_axis = _y_axis(_y_values(plot.series), top, bottom, include_zero=True)
    x_axis = category_axis([_category_text(c) for c in cats], left, right)
    index = {c: i for i, c in enumerate(cats)}
    group = (right - left) / len(cats) * 0.8
    bar_w = group / len(plot.series)
    zero = y_axis(0.0)
    body = [*legend, *_frame(plot, x_axis, y_axis, top, rotate)]
    bars: list[str] = []
    whiskers: list[str] = []
    for i, s in enumerate(plot.series):
        for j, x in enumerate(s.x):
            x0 = x_axis(index[x]) - group / 2 + i * bar_w
            mid = x0 + bar_w / 2
            y = _at(s.y, j)
            if y is not None:
                y_px = y_axis(y)
                bars.append(
                    f'<rect x="{x0 + 1:.1f}" y="{min(y_px, zero):.1f}" width="{max(bar_w - 2, 1):.1f}" '
                    f'height="{abs(zero - y_px):.1f}" fill="{colour(i)}">{_point_title(s, x, y)}</rect>'
                )
            lo, hi = _at(s.y_low, j), _at(s.y_high, j)
            if lo is not None and hi is not None:
                cap = min(bar_w * 0.3, 8)
                a, b = y_axis(lo), y_axis(hi)
                whiskers.append(
                    f'<path d="M{mid:.1f},{a:.1f}V{b:.1f}M{mid - cap:.1f},{a:.1f}H{mid + cap:.1f}'
                    f'M{mid - cap:.1f},{b:.1f}H{mid + cap:.1f}"/>'
                )
    body += bars
    if whiskers:
        body.append(f'<g stroke="#2b3137" stroke-width="1.3" fill="none">{"".join(whiskers)}</g>')
    body.append(f'<line x1="{left:.1f}" x2="{right:.1f}" y1="{zero:.1f}" y2="{zero:.1f}" stroke="#8a939c"/>')
    return _svg(plot, body)


_RENDERERS: dict[str, Callable[[Plot], str]] = {
    "line": line_plot,
    "scatter": line_plot,
    "bar": bar_plot,
    "heatmap": heatmap_svg,
}


def render_plot(plot: Plot) -> str:
    """Draw a plot as an inline ``<svg>`` element, choosing the drawing by ``plot.kind``."""
    try:
        renderer = _RENDERERS[plot.kind]
    except KeyError:
        raise ValueError(f"unknown plot kind {plot.kind!r}; expected one of {sorted(_RENDERERS)}") from None
    return renderer(plot)
