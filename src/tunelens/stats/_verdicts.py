"""From paired comparisons to report metrics with corrected verdicts.

Three verdicts (results schema 1.3): ``changed`` when the corrected test rejects "no
difference"; ``equivalent`` when the paired 90% interval lies inside the metric's margin
(two one-sided tests at 5% each, Schuirmann 1987), so the audit shows it did not move by
more; ``inconclusive`` otherwise, with the reason and roughly how many items would settle it.

Multiplicity: the headline metrics of all probes are the confirmatory family, corrected
by Holm (1979) for the family-wise error rate; every metric, headline or exploratory,
takes part in a weighted Benjamini-Hochberg procedure over the report (Benjamini &
Hochberg 1995; weights as in Genovese, Roeder & Wasserman 2006, half on the headline
metrics), which holds the false discovery rate of the whole report at alpha.

Power: each metric carries its minimum detectable effect (80% power at its n, at the
level of its first step: Bonferroni within its family and its share of the weighted BH, a
conservative bound, since both procedures relax as discoveries accumulate) and the
smallest margin its n shows equivalent, from the normal approximation to the paired test
(Cohen 1988); for exact McNemar the effect can be no smaller than the fewest discordant
pairs that reach the level.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from tunelens.results import Metric, Verdict
from tunelens.results._declared import BOUNDED_UNITS, DEFAULT_MARGINS, MetricDecl, find_declaration
from tunelens.stats._paired import (
    MIN_ITEMS,
    PairedComparison,
    bh_adjust,
    compare_binary,
    compare_continuous,
    holm_adjust,
    z_quantile,
)

POWER = 0.8
TOST_ALPHA = 0.05


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
        ci90_low=comparison.ci90_low,
        ci90_high=comparison.ci90_high,
        diff_sd=comparison.diff_sd,
        min_p=comparison.min_p,
        n=comparison.n,
        test=comparison.test,  # type: ignore[arg-type]
        p_value=comparison.p_value,
        group=group,
        base_values=list(comparison.base_values) if comparison.base_values is not None else None,
        tuned_values=list(comparison.tuned_values) if comparison.tuned_values is not None else None,
    )


def declare(metric: Metric, decl: MetricDecl | None, margin: float | None = None) -> None:
    """Fill a metric's headline flag, margin, unit and direction from its declaration.

    The unit and direction of the declaration win (one place to state them); the probe's own
    label stays when it names a family member ("Pattern rule: greeting"). ``margin``
    overrides the declared margin (an audit's ``margins=``)."""
    if decl is not None:
        metric.headline = decl.headline and not decl.descriptive
        metric.unit = decl.unit
        metric.higher_is_better = decl.higher_is_better
        if not metric.label:
            metric.label = decl.label
        metric.margin = decl.equivalence_margin
    if margin is not None:
        metric.margin = margin
    if metric.margin is None:
        metric.margin = DEFAULT_MARGINS.get(metric.unit, 0.05)


def declare_all(
    metrics: Sequence[Metric], declared: Sequence[MetricDecl], margins: Mapping[str, float] | None = None
) -> list[str]:
    """:func:`declare` every metric of one probe; returns the names that match no declaration.

    ``margins`` maps ``probe.metric`` (or a bare metric name) to a margin that overrides
    the declared one."""
    unknown = []
    margins = margins or {}
    for metric in metrics:
        decl = find_declaration(declared, metric.name)
        if decl is None:
            unknown.append(metric.name)
        override = margins.get(f"{metric.probe}.{metric.name}", margins.get(metric.name))
        declare(metric, decl, override)
    return unknown


def _sd(metric: Metric) -> float | None:
    """The per-item standard deviation of the differences, or one implied by the 95% interval."""
    if metric.diff_sd is not None and metric.diff_sd > 0:
        return metric.diff_sd
    if metric.ci_low is not None and metric.ci_high is not None and metric.n > 0 and metric.ci_high > metric.ci_low:
        return (metric.ci_high - metric.ci_low) / (2 * 1.96) * math.sqrt(metric.n)
    return None


def mcnemar_min_discordant(level: float) -> int:
    """The fewest discordant pairs, all one way, whose exact McNemar p is below ``level``."""
    return max(1, math.ceil(math.log2(2.0 / level))) if level > 0 else 10**9


def minimum_detectable_effect(metric: Metric, level: float) -> float | None:
    """The change the metric's test finds with 80% power at ``level`` over its n items; None
    when the test cannot reach the level at that n or no spread is known."""
    n = metric.n
    if n <= 0:
        return None
    if metric.min_p is not None and metric.min_p >= level:
        return None  # even the most extreme outcome at this n cannot reach the level
    # Exact McNemar needs this many discordant pairs, all one way, so the effect is at least k / n.
    floor = mcnemar_min_discordant(level) / n if metric.test == "mcnemar" else 0.0
    sd = _sd(metric)
    if sd is None:
        return floor or None
    return max(floor, (z_quantile(1 - level / 2) + z_quantile(POWER)) * sd / math.sqrt(n))


def equivalence_reach(metric: Metric) -> float | None:
    """The smallest margin n items show equivalent with 80% power when nothing changed:
    both one-sided tests at 5% (the 90% interval) must clear it."""
    n = metric.n
    sd = _sd(metric)
    if sd is None or n <= 0:
        return None
    return (z_quantile(1 - TOST_ALPHA) + z_quantile(1 - (1 - POWER) / 2)) * sd / math.sqrt(n)


def _room(metric: Metric) -> str:
    bounds = BOUNDED_UNITS.get(metric.unit)
    if bounds is None or metric.base is None or metric.margin is None:
        return ""
    low, high = bounds
    if metric.base - low < metric.margin:
        return "floor"
    if high - metric.base < metric.margin:
        return "ceiling"
    return ""


def _items_needed(metric: Metric, level: float) -> int | None:
    """Roughly the paired items that would settle an inconclusive metric: enough for the test
    to find the observed change with 80% power, or for the 90% interval to clear the margin."""
    sd = _sd(metric)
    if sd is None or metric.delta is None:
        return None
    needs: list[float] = []
    effect = abs(metric.delta)
    if effect > 0:
        needs.append(((z_quantile(1 - level / 2) + z_quantile(POWER)) * sd / effect) ** 2)
        if metric.test == "mcnemar":
            needs[-1] = max(needs[-1], mcnemar_min_discordant(level) / max(effect, 1e-9))
    if metric.margin is not None and effect < metric.margin and not metric.room:
        needs.append(((z_quantile(1 - TOST_ALPHA) + z_quantile(POWER)) * sd / (metric.margin - effect)) ** 2)
    if not needs:
        return None
    return max(metric.n + 1, math.ceil(min(needs)))


def _inside(metric: Metric) -> bool:
    m = metric.margin
    return (
        m is not None
        and metric.ci90_low is not None
        and metric.ci90_high is not None
        and -m < metric.ci90_low
        and metric.ci90_high < m
    )


def _draws_short(metric: Metric, level: float) -> bool:
    """A paired bootstrap of an aggregate whose smallest p (set by its draws) does not reach ``level``.

    Such a metric has no per-item differences (``diff_sd`` is None): its minimum detectable
    effect and the items that would settle it are read from the width of its interval."""
    return metric.test == "bootstrap_aggregate" and metric.min_p is not None and metric.min_p >= level


def _decide(metric: Metric, alpha: float, level: float) -> None:
    metric.room = _room(metric)  # type: ignore[assignment]
    metric.mde = minimum_detectable_effect(metric, level)
    metric.equivalence_reach = equivalence_reach(metric)
    rejects = metric.p_adjusted is not None and metric.p_adjusted < alpha
    delta = metric.delta or 0.0
    blocked = (metric.room == "floor" and delta < 0) or (metric.room == "ceiling" and delta > 0)
    if rejects and not blocked:
        metric.verdict = Verdict.changed
        metric.negligible = _inside(metric)
        return
    if _inside(metric) and not metric.room:
        metric.verdict = Verdict.equivalent
        return
    metric.verdict = Verdict.inconclusive
    where, way = ("the floor", "fall") if metric.room == "floor" else ("the ceiling", "rise")
    if metric.mde is None and _draws_short(metric, level):
        # A bootstrap's p cannot fall below 2 / (draws + 1): the draws, not the items, are short.
        metric.reason = (
            f"the bootstrap's smallest p ({metric.min_p:.1g}) cannot reach the corrected level; more draws would"
        )
    elif metric.mde is None:
        metric.reason = f"too few items: at n={metric.n} the test cannot reach the corrected level"
        if metric.room:
            metric.reason += f" (and at {where} no {way} or equivalence can be shown)"
    elif metric.room:
        if blocked and rejects:
            metric.reason = f"at {where}: too close to the scale's end to show a {way}"
        elif (metric.room == "floor") == (delta > 0) and delta != 0:
            metric.reason = f"the interval is too wide to tell (at {where}: no {way} or equivalence can be shown)"
        else:
            metric.reason = f"at {where}: too close to the scale's end to show a {way} or equivalence"
    else:
        metric.reason = "the interval is too wide to tell a change from none"
    metric.n_needed = None if _draws_short(metric, level) else _items_needed(metric, level)


def family_weights(n_headline: int, n_other: int) -> tuple[float, float]:
    """Weights of the weighted Benjamini-Hochberg procedure over the whole report: half the
    weight on the headline metrics and half on the rest (weights average 1)."""
    m = n_headline + n_other
    if n_headline == 0 or n_other == 0:
        return 1.0, 1.0
    return m / (2 * n_headline), m / (2 * n_other)


def correct(headline: Sequence[float], other: Sequence[float]) -> tuple[list[float], list[float]]:
    """Adjusted p-values of the headline and the other metrics of a report.

    The false discovery rate over the whole report is controlled by a weighted
    Benjamini-Hochberg procedure (Genovese, Roeder & Wasserman 2006) with half the weight on
    the headline metrics; a headline metric must in addition pass Holm (1979) within the
    headline family, so the family-wise error rate of the headline metrics stays at alpha.
    A metric is ``changed`` when its adjusted p is below alpha."""
    w_head, w_other = family_weights(len(headline), len(other))
    weighted = [min(1.0, p / w_head) for p in headline] + [min(1.0, p / w_other) for p in other]
    bh = bh_adjust(weighted)
    holm = holm_adjust(list(headline))
    head = [max(float(h), float(b)) for h, b in zip(holm, bh[: len(headline)])]  # type: ignore[arg-type]
    return head, [float(b) for b in bh[len(headline) :]]  # type: ignore[arg-type]


def apply_verdicts(metrics: Sequence[Metric], alpha: float = 0.05, min_items: int = MIN_ITEMS) -> None:
    """Correct and decide every metric of a report in place.

    Headline metrics form the confirmatory family (Holm within it); every metric takes part
    in a weighted Benjamini-Hochberg procedure over the report (:func:`correct`). Metrics
    with fewer than ``min_items`` pairs, or no test, are inconclusive and take no part in a
    correction, so a thin metric cannot weaken the others; descriptive metrics take no verdict."""
    for m in metrics:
        m.p_adjusted = None
        m.negligible = False
        m.reason = ""
        m.n_needed = None
        m.family = ""
    testable = [m for m in metrics if m.test != "descriptive" and m.n >= min_items and m.p_value is not None]
    head = [m for m in testable if m.headline]
    other = [m for m in testable if not m.headline]
    head_p, other_p = correct([m.p_value for m in head], [m.p_value for m in other])  # type: ignore[misc]
    w_head, w_other = family_weights(len(head), len(other))
    n_all = max(1, len(testable))
    for members, adjusted, family, weight in (
        (head, head_p, "confirmatory", w_head),
        (other, other_p, "exploratory", w_other),
    ):
        # The level of a metric's first step: Bonferroni within its family and its weight in BH.
        level = alpha * weight / n_all
        if family == "confirmatory":
            level = min(alpha / max(1, len(head)), level)
        for metric, p_adj in zip(members, adjusted):
            metric.p_adjusted = p_adj
            metric.family = family  # type: ignore[assignment]
            _decide(metric, alpha, level)
    tested = {id(m) for m in testable}
    for m in metrics:
        if id(m) in tested:
            continue
        if m.test == "descriptive":
            m.verdict = None
            continue
        m.verdict = Verdict.inconclusive
        m.room = _room(m)  # type: ignore[assignment]
        m.reason = (
            f"too few items ({m.n} paired; a verdict needs at least {min_items})"
            if m.n < min_items
            else "no test could run on these items"
        )
