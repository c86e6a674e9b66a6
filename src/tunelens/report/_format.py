"""Number, date and text formatting shared by the HTML report and its plots.

Every function returns plain text (not yet escaped): callers escape it where it
goes into HTML. A missing or non-finite number is shown as an em dash.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import TypeGuard

from tunelens.results import PERCENT_UNITS, Metric, Verdict

DASH = "\u2014"
MINUS = "\u2212"


VERDICT_LABELS: dict[Verdict, str] = {
    Verdict.changed: "changed",
    Verdict.equivalent: "equivalent",
    Verdict.inconclusive: "inconclusive",
}

TEST_LABELS: dict[str, str] = {
    "mcnemar": "McNemar",
    "sign_flip_exact": "sign-flip",
    "paired_t": "paired t",
    "permutation": "permutation",
    "paired_bootstrap": "sign-flip (sampled)",
    "bootstrap_aggregate": "bootstrap (corpus)",
    "none": DASH,
    "descriptive": DASH,
}

CORRECTION_LABELS: dict[str, str] = {
    "holm": "Holm",
    "holm+bh": "Holm (headline) and weighted Benjamini–Hochberg (the report)",
    "bonferroni": "Bonferroni",
    "none": "no",
}


def is_number(v: object) -> TypeGuard[float]:
    """True for a finite int or float (bools and None excluded)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def fmt_num(v: float | None, sig: int = 3) -> str:
    """A number with about ``sig`` significant digits, thousands separated."""
    if not is_number(v):
        return DASH
    if v == 0:
        return "0"
    mag = math.floor(math.log10(abs(float(f"{v:.{max(sig - 1, 0)}e}"))))  # magnitude after rounding
    if mag >= sig - 1:
        text = f"{round(v):,}"
    elif mag < -4:
        text = f"{v:.{max(sig - 1, 0)}e}"
    else:
        text = f"{v:.{sig - 1 - mag}f}"
    return text.replace("-", MINUS)


def fmt_score(v: float | None) -> str:
    """A per-item score without trailing zeros: '1', '0', '0.5', '0.833'."""
    text = fmt_num(v)
    return text.rstrip("0").rstrip(".") if "." in text and "e" not in text else text


def _signed(text: str, v: float) -> str:
    return text if text.startswith(MINUS) or v == 0 else "+" + text


def is_percent(unit: str) -> bool:
    """Whether values in this unit are fractions shown as percentages."""
    return unit.strip().lower() in PERCENT_UNITS


def fmt_value(v: float | None, unit: str = "") -> str:
    """A metric value: a percentage for accuracies and rates, else a number."""
    if not is_number(v):
        return DASH
    if is_percent(unit):
        return f"{v * 100:.1f}%".replace("-", MINUS)
    return fmt_num(v)


def fmt_delta(v: float | None, unit: str = "") -> str:
    """A signed change: percentage points for accuracies and rates."""
    if not is_number(v):
        return DASH
    if is_percent(unit):
        return _signed(f"{v * 100:.1f}".replace("-", MINUS), v) + " pp"
    return _signed(fmt_num(v), v)


def fmt_ci(low: float | None, high: float | None, unit: str = "") -> str:
    """A 95% interval of a change, as [low, high] with signs."""
    if not (is_number(low) and is_number(high)):
        return DASH
    if is_percent(unit):
        lo, hi = (_signed(f"{x * 100:.1f}".replace("-", MINUS), x) for x in (low, high))
        return f"[{lo}, {hi}]"
    # Both ends with the same number of decimals, set by the larger one.
    biggest = max(abs(low), abs(high))
    if biggest == 0 or not 1e-4 <= biggest < 1e4:
        lo, hi = fmt_num(low), fmt_num(high)
    else:
        decimals = max(0, 2 - math.floor(math.log10(biggest)))
        lo, hi = (f"{x:,.{decimals}f}".replace("-", MINUS) for x in (low, high))
    return f"[{_signed(lo, low)}, {_signed(hi, high)}]"


def fmt_p(p: float | None) -> str:
    """A p-value: '<0.001', '0.003', '0.04', '0.21'."""
    if not is_number(p):
        return DASH
    if p < 0.001:
        return "<0.001"
    if p < 0.01:
        return f"{p:.3f}"
    return f"{min(p, 1.0):.2f}"


def fmt_count(n: float) -> str:
    """An integer count with thousands separators."""
    return f"{round(n):,}"


def fmt_compact(n: float) -> str:
    """A large count in short form: 4.2K, 135M, 1.2B."""
    if not is_number(n):
        return DASH
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= size:
            text = fmt_num(n / size)
            return (text.rstrip("0").rstrip(".") if "." in text else text) + suffix
    return fmt_num(n)


def fmt_seconds(s: float) -> str:
    """A duration for people: '0.4 s', '42 s', '3 min 5 s', '1 h 2 min'."""
    if not is_number(s) or s < 0:
        return DASH
    if s < 10:
        return f"{s:.1f} s"
    if s < 60:
        return f"{s:.0f} s"
    minutes, sec = divmod(round(s), 60)
    if minutes < 60:
        return f"{minutes} min {sec} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def fmt_date(iso: str) -> str:
    """An ISO 8601 time as 'YYYY-MM-DD HH:MM UTC'; unparseable text is returned as is."""
    try:
        when = datetime.fromisoformat(iso.strip())
    except ValueError:
        return iso
    if when.tzinfo is None:
        return when.strftime("%Y-%m-%d %H:%M")
    return when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def is_descriptive(metric: Metric) -> bool:
    """Whether a metric only describes the pair (e.g. a distance between the two models): it
    has no verdict to give, rather than too few items for one."""
    return metric.test == "descriptive"


def verdict_of(metric: Metric) -> Verdict | None:
    """The metric's verdict as an enum member (the schema stores its value); None for a
    descriptive metric, which takes no verdict."""
    if metric.verdict is None or is_descriptive(metric):
        return None
    return Verdict(metric.verdict)


def fmt_size(v: float | None, unit: str = "") -> str:
    """A size of change without sign: '7.5 pp' for shares, '0.031' otherwise."""
    if not is_number(v):
        return DASH
    if is_percent(unit):
        return f"{abs(v) * 100:.1f} pp"
    return fmt_num(abs(v))


def direction(metric: Metric) -> str:
    """'better', 'worse' or 'neutral' for the metric's change, from higher_is_better."""
    if metric.higher_is_better is None or not is_number(metric.delta) or metric.delta == 0:
        return "neutral"
    return "better" if (metric.delta > 0) == metric.higher_is_better else "worse"


def arrow(metric: Metric) -> str:
    """An arrow for the sign of the change (up, down, or a dot when flat or unknown)."""
    if not is_number(metric.delta) or metric.delta == 0:
        return "\u00b7"
    return "\u25b2" if metric.delta > 0 else "\u25bc"
