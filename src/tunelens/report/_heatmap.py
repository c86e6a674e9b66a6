"""Layer x head heatmaps: one coloured cell per attention head, drawn as inline SVG.

A heatmap travels in the existing ``Plot`` schema with ``kind="heatmap"``: each
``Series`` is one row (a layer; ``name`` its label), ``x`` holds the column labels (heads)
and ``y`` the cell values. Values that are all >= 0 use a white-to-blue scale from 0 to
the maximum; any negative value (a tuned-minus-base difference) switches to a diverging
blue-white-orange scale symmetric around 0.
"""

from __future__ import annotations

from html import escape

import numpy as np

from tunelens.report._format import fmt_num
from tunelens.results import Plot

WIDTH = 600
LEFT, TOP, RIGHT, BOTTOM = 64.0, 28.0, 70.0, 34.0
MAX_CELL_H = 18.0
_BLUE = (0x2F, 0x5D, 0x8A)
_ORANGE = (0xE0, 0x86, 0x00)


def _mix(rgb: tuple[int, int, int], t: float) -> str:
    t = min(1.0, max(0.0, t))
    r, g, b = (round(255 + (c - 255) * t) for c in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


def _cell_colour(value: float | None, top: float, diverging: bool) -> str:
    if value is None or not np.isfinite(value):
        return "#eceef1"
    if diverging:
        return _mix(_ORANGE if value > 0 else _BLUE, abs(value) / top)
    return _mix(_BLUE, value / top)


def heatmap_svg(plot: Plot) -> str:
    """Draw a heatmap plot (rows = series, columns = x labels) as an inline ``<svg>``."""
    rows = plot.series
    cols = [str(x) for x in rows[0].x] if rows else []
    values = [v for s in rows for v in s.y if v is not None and np.isfinite(v)]
    label = escape(plot.title or plot.id)
    if not rows or not cols or not values:
        body = '<text x="300" y="60" text-anchor="middle" fill="#8a939c">no data to plot</text>'
        return f'<svg class="plot" viewBox="0 0 {WIDTH} 120" width="100%" role="img" aria-label="{label}">{body}</svg>'
    diverging = min(values) < 0
    top = max(abs(v) for v in values) or 1.0
    cell_w = (WIDTH - LEFT - RIGHT) / len(cols)
    cell_h = min(MAX_CELL_H, max(6.0, 420.0 / len(rows)))
    height = TOP + cell_h * len(rows) + BOTTOM
    out = []
    for r, s in enumerate(rows):
        y = TOP + r * cell_h
        for c, v in enumerate(s.y[: len(cols)]):
            x = LEFT + c * cell_w
            text = fmt_num(v) if v is not None else "n/a"
            out.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{cell_w:.1f}" height="{cell_h:.1f}" '
                f'fill="{_cell_colour(v, top, diverging)}"><title>{escape(s.name)}, {escape(cols[c])}: '
                f"{escape(text)}</title></rect>"
            )
        if len(rows) <= 40 or r % max(1, len(rows) // 20) == 0:
            out.append(
                f'<text x="{LEFT - 6:.1f}" y="{y + cell_h * 0.75:.1f}" text-anchor="end">{escape(s.name)}</text>'
            )
    step = max(1, len(cols) // 16)
    for c in range(0, len(cols), step):
        x = LEFT + (c + 0.5) * cell_w
        out.append(f'<text x="{x:.1f}" y="{TOP - 8:.1f}" text-anchor="middle">{escape(cols[c])}</text>')
    # Colour key: the scale's ends and its middle.
    key_x = WIDTH - RIGHT + 14
    low = -top if diverging else 0.0
    for i, v in enumerate((top, (top + low) / 2, low)):
        y = TOP + i * 22
        out.append(
            f'<rect x="{key_x:.1f}" y="{y:.1f}" width="12" height="12" fill="{_cell_colour(v, top, diverging)}" '
            f'stroke="#c5cbd1"/><text x="{key_x + 16:.1f}" y="{y + 10:.1f}">{escape(fmt_num(v))}</text>'
        )
    if plot.x_label:
        out.append(
            f'<text x="{(LEFT + WIDTH - RIGHT) / 2:.1f}" y="{height - 8:.1f}" text-anchor="middle">'
            f"{escape(plot.x_label)}</text>"
        )
    return (
        f'<svg class="plot" viewBox="0 0 {WIDTH} {height:.0f}" width="100%" role="img" aria-label="{label}" '
        f'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="11" fill="#3d4650">'
        f"<title>{label}</title>" + "".join(out) + "</svg>"
    )
