"""Headline sentences for the first screen: what changed, with the evidence."""

from __future__ import annotations

from tunelens.report import NOW, discoveries, discovery_sentence
from tunelens.results import PERCENT_UNITS, AuditResults, Metric, Verdict

DISCOVERIES = 4
"""Behaviour discoveries that open the summary (what the tuned model now does)."""


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit in PERCENT_UNITS:
        return f"{100 * value:.0f}%"
    return f"{value:.3g}"


def format_delta(metric: Metric) -> str:
    """'+12 pts [+3, +21]' for shares, '+0.041 [+0.01, +0.07]' otherwise."""
    if metric.delta is None:
        return "n/a"
    if metric.unit in PERCENT_UNITS:

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


def verdict_text(metric: Metric) -> str:
    """The verdict in words: 'changed', 'changed, negligible', 'equivalent within ±5 pts',
    'inconclusive: too few items (...)', 'descriptive'."""
    if metric.verdict is None:
        return "descriptive"
    if metric.verdict == Verdict.changed:
        return "changed, negligible" if metric.negligible else "changed"
    if metric.verdict == Verdict.equivalent:
        size = "its margin"
        if metric.margin is not None:
            size = f"{100 * metric.margin:.0f} pts" if metric.unit in PERCENT_UNITS else f"{metric.margin:g}"
        return f"equivalent within ±{size}"
    return f"inconclusive: {metric.reason}" if metric.reason else "inconclusive"


def summarise(results: AuditResults, limit: int = 8) -> list[str]:
    """The changed metrics (headline first, strongest evidence first), then how many metrics
    the audit shows unchanged and how many it could not tell; or a plain statement that none changed."""
    metrics = results.metrics()
    found = discoveries(results)
    lines = [f"{NOW}{discovery_sentence(m)}" for m in found[:DISCOVERIES]]
    if len(found) > DISCOVERIES:
        lines.append(f"{NOW}… and {len(found) - DISCOVERIES} more changes of the replies to ordinary prompts.")
    shown = {id(m) for m in found}
    changed = [m for m in metrics if m.verdict == Verdict.changed and id(m) not in shown]
    changed.sort(key=lambda m: (m.negligible, not m.headline, m.p_adjusted if m.p_adjusted is not None else 1.0))
    # Results read from another tool's logs name each metric by its task (a metric is 'acc' in every task).
    task = {p.name: p.title or p.name for p in results.probes} if results.source != "audit" else {}
    lines += [
        (f"{task[m.probe]} " if m.probe in task else "")
        + describe(m)
        + (" — negligible (inside its margin)" if m.negligible else "")
        for m in changed[:limit]
    ]
    if len(changed) > limit:
        lines.append(f"… and {len(changed) - limit} more changed metrics below.")
    tested = [m for m in metrics if m.verdict is not None]
    same = sum(1 for m in tested if m.verdict == Verdict.equivalent)
    unsure = [m for m in tested if m.verdict == Verdict.inconclusive]
    if not changed and not found:
        lines.append(f"No change shown on any of the {len(tested)} tested metrics (corrected, α={results.alpha}).")
    if tested:
        headline_unsure = sum(1 for m in unsure if m.headline)
        lines.append(
            f"Shown unchanged (equivalent within their margins): {same} of {len(tested)}; could not tell: "
            f"{len(unsure)}" + (f" ({headline_unsure} of them headline)." if headline_unsure else ".")
        )
    return lines
