"""From paired comparisons to report metrics with corrected verdicts."""

from __future__ import annotations

from collections.abc import Sequence

from tunelens.results import Metric, Verdict
from tunelens.stats._paired import MIN_ITEMS, PairedComparison, compare_binary, compare_continuous, holm_adjust


def make_metric(
    probe: str,
    name: str,
    label: str,
    base: Sequence[float] | Sequence[bool],
    tuned: Sequence[float] | Sequence[bool],
    *,
    binary: bool,
    unit: str = "",
    higher_is_better: bool | None = None,
    group: str | None = None,
    seed: int = 0,
) -> Metric:
    """Build a Metric from per-item outcomes of both models (paired by position)."""
    comparison: PairedComparison = (
        compare_binary([bool(x) for x in base], [bool(x) for x in tuned], seed)
        if binary
        else compare_continuous([float(x) for x in base], [float(x) for x in tuned], seed)
    )
    return metric_from(comparison, probe, name, label, unit=unit, higher_is_better=higher_is_better, group=group)


def metric_from(
    comparison: PairedComparison,
    probe: str,
    name: str,
    label: str,
    *,
    unit: str = "",
    higher_is_better: bool | None = None,
    group: str | None = None,
) -> Metric:
    """A Metric from an already computed paired comparison (e.g. :func:`compare_ratio`)."""
    return Metric(
        name=name,
        probe=probe,
        label=label,
        unit=unit,
        higher_is_better=higher_is_better,
        base=comparison.base,
        tuned=comparison.tuned,
        delta=comparison.delta,
        ci_low=comparison.ci_low,
        ci_high=comparison.ci_high,
        n=comparison.n,
        test=comparison.test,  # type: ignore[arg-type]
        p_value=comparison.p_value,
        group=group,
    )


def apply_verdicts(metrics: Sequence[Metric], alpha: float = 0.05, min_items: int = MIN_ITEMS) -> None:
    """Holm-correct the p-values of all metrics together and set each verdict in place.

    Metrics with fewer than ``min_items`` pairs are 'insufficient' and take no part in
    the correction, so a thin metric cannot weaken the others.
    """
    testable = [m for m in metrics if m.n >= min_items and m.p_value is not None]
    for metric, adjusted in zip(testable, holm_adjust([m.p_value for m in testable])):
        metric.p_adjusted = adjusted
        metric.verdict = Verdict.changed if adjusted is not None and adjusted < alpha else Verdict.no_change
    tested = {id(m) for m in testable}
    for metric in metrics:
        if id(metric) not in tested:
            metric.p_adjusted = None
            metric.verdict = Verdict.insufficient
