"""Headline sentences for the first screen: what changed, with the evidence."""

from __future__ import annotations

from tunelens.results import AuditResults, Metric, Verdict


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit in ("accuracy", "rate"):
        return f"{100 * value:.0f}%"
    return f"{value:.3g}"


def format_delta(metric: Metric) -> str:
    """'+12 pts [+3, +21]' for shares, '+0.041 [+0.01, +0.07]' otherwise."""
    if metric.delta is None:
        return "n/a"
    if metric.unit in ("accuracy", "rate"):

        def pts(x: float | None) -> str:
            return "?" if x is None else f"{100 * x:+.0f}"

        return f"{pts(metric.delta)} pts [{pts(metric.ci_low)}, {pts(metric.ci_high)}]"

    def num(x: float | None) -> str:
        return "?" if x is None else f"{x:+.3g}"

    return f"{num(metric.delta)} [{num(metric.ci_low)}, {num(metric.ci_high)}]"


def describe(metric: Metric) -> str:
    """One sentence for a metric: label, base -> tuned, delta with its 95% interval, n."""
    direction = ""
    if metric.higher_is_better is not None and metric.delta:
        better = (metric.delta > 0) == metric.higher_is_better
        direction = " (better)" if better else " (worse)"
    return (
        f"{metric.label}: {format_value(metric.base, metric.unit)} → {format_value(metric.tuned, metric.unit)}, "
        f"Δ {format_delta(metric)}{direction}, n={metric.n}"
    )


def summarise(results: AuditResults, limit: int = 8) -> list[str]:
    """The changed metrics, strongest evidence first; or a plain statement that none changed."""
    metrics = results.metrics()
    changed = [m for m in metrics if m.verdict == Verdict.changed]
    changed.sort(key=lambda m: (m.p_adjusted if m.p_adjusted is not None else 1.0, -abs(m.delta or 0.0)))
    lines = [describe(m) for m in changed[:limit]]
    if len(changed) > limit:
        lines.append(f"… and {len(changed) - limit} more changed metrics below.")
    tested = sum(1 for m in metrics if m.verdict != Verdict.insufficient)
    if not changed:
        lines.append(
            f"No significant change on any of the {tested} tested metrics (Holm-corrected, α={results.alpha})."
        )
    return lines
