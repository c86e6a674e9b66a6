"""Plot axes for the report's SVG drawings: data-to-pixel mapping and readable tick marks.

Three kinds, all returning an ``Axis``: linear (round ticks: steps of 1, 2, 2.5 or 5
times a power of ten), logarithmic (decades, or 1-2-5 within few decades), and
categorical (one slot per category, centred).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from tunelens.report._format import MINUS, fmt_compact


@dataclass
class Axis:
    """A mapping from data values to pixels along one axis, with its ticks."""

    lo: float
    hi: float
    p0: float  # pixel of lo
    p1: float  # pixel of hi
    ticks: list[tuple[float, str]]  # (data value, label)
    log: bool = False

    def __call__(self, v: float) -> float:
        if self.log:
            v = math.log10(v)
        span = (self.hi - self.lo) or 1.0
        return self.p0 + (v - self.lo) / span * (self.p1 - self.p0)


def nice_ticks(lo: float, hi: float, target: int = 5) -> tuple[list[float], float]:
    """About ``target`` round tick values covering [lo, hi], and their step."""
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / target
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw * 0.999)
    start, end = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    return [i * step for i in range(start, end + 1)], step


def tick_text(v: float, step: float) -> str:
    """A tick label with as many decimals as the step needs (all ticks of an axis alike)."""
    if abs(v) < step * 1e-6:
        return "0"
    if abs(v) >= 10_000:
        return fmt_compact(v)
    if step < 1e-3:
        return f"{v:.3g}".replace("-", MINUS)
    decimals = 0
    while decimals < 6 and abs(step * 10**decimals - round(step * 10**decimals)) > 1e-6:
        decimals += 1
    return f"{v:,.{decimals}f}".replace("-", MINUS)


def linear_axis(lo: float, hi: float, p0: float, p1: float) -> Axis:
    """A linear axis over [lo, hi], widened to the nearest round ticks."""
    ticks, step = nice_ticks(lo, hi)
    return Axis(ticks[0], ticks[-1], p0, p1, [(t, tick_text(t, step)) for t in ticks])


def log_axis(lo: float, hi: float, p0: float, p1: float) -> Axis:
    """A log10 axis over [lo, hi] (both > 0), ticked at decades or at 1, 2 and 5 times them."""
    a, b = math.log10(lo), math.log10(hi)
    a, b = (a - 0.5, b + 0.5) if a == b else (a, b)
    first, last = math.floor(a), math.ceil(b)
    mults = (1,) if last - first > 2 else (1, 2, 5)
    every = max(1, math.ceil((last - first) / 8))
    values = [m * 10.0**e for e in range(first, last + 1, every) for m in mults]
    ticks = [(t, fmt_compact(t) if t >= 10_000 else f"{t:g}") for t in values if a - 1e-9 <= math.log10(t) <= b + 1e-9]
    return Axis(a, b, p0, p1, ticks, log=True)


def category_axis(labels: Sequence[str], p0: float, p1: float) -> Axis:
    """One slot per category; category i sits at data value i, in the middle of its slot."""
    return Axis(-0.5, len(labels) - 0.5, p0, p1, [(float(i), label) for i, label in enumerate(labels)])
