"""Paired statistics: known values, edge cases, and the Holm correction."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tunelens.results import Metric, Verdict
from tunelens.stats import apply_verdicts, compare_binary, compare_continuous, holm_adjust, make_metric, mcnemar_exact


def test_mcnemar_exact_matches_the_binomial_tail() -> None:
    # 10 discordant pairs, split 9/1: p = 2 * P(X <= 1 | n=10, 1/2) = 2 * 11/1024
    base = [True] * 9 + [False] * 1 + [True] * 5
    tuned = [False] * 9 + [True] * 1 + [True] * 5
    assert mcnemar_exact(base, tuned) == pytest.approx(22 / 1024)
    assert mcnemar_exact([True, False], [True, False]) == 1.0


def test_binary_comparison_identical_outcomes_is_null() -> None:
    outcomes = [True, False, True, True, False, False, True, True, False, True]
    c = compare_binary(outcomes, outcomes)
    assert c.delta == 0.0 and c.p_value == 1.0
    # No discordant pair among ten items does not pin the difference to zero (Agresti-Min).
    assert c.ci_low == pytest.approx(-c.ci_high) and 0.1 < c.ci_high < 0.25
    many = compare_binary(outcomes * 30, outcomes * 30)
    assert 0 < many.ci90_high < 0.02


def test_binary_comparison_detects_a_large_drop() -> None:
    c = compare_binary([True] * 30, [False] * 25 + [True] * 5, seed=1)
    assert c.base == 1.0 and c.tuned == pytest.approx(5 / 30)
    assert c.ci_high < 0 and c.p_value < 1e-6


def test_continuous_comparison_interval_covers_the_shift() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(size=200)
    tuned = base + 0.5 + rng.normal(scale=0.1, size=200)
    c = compare_continuous(base, tuned)
    assert c.ci_low < 0.5 < c.ci_high
    assert c.p_value < 0.01
    noise = compare_continuous(base, base + rng.normal(scale=0.1, size=200))
    assert noise.p_value > 0.01 or abs(noise.delta) < 0.03


def test_continuous_comparison_drops_non_finite_pairs() -> None:
    c = compare_continuous([1.0, math.nan, 2.0], [1.5, 3.0, math.inf])
    assert c.n == 1


def test_holm_adjustment() -> None:
    assert holm_adjust([0.01, 0.04, 0.03, None]) == pytest.approx([0.03, 0.06, 0.06, None])
    assert holm_adjust([0.2, 0.9]) == [pytest.approx(0.4), pytest.approx(0.9)]
    assert holm_adjust([0.5, 0.9]) == [1.0, 1.0]  # capped at 1, and never below an earlier step


def test_verdicts_correct_for_many_metrics_and_mark_thin_ones() -> None:
    strong = make_metric("p", "strong", "s", [True] * 40, [False] * 40, binary=True)
    borderline = make_metric("p", "weak", "w", [True] * 6 + [False] * 14, [False] * 6 + [False] * 14, binary=True)
    thin = make_metric("p", "thin", "t", [True] * 3, [False] * 3, binary=True)
    metrics: list[Metric] = [strong, borderline, thin]
    apply_verdicts(metrics)
    assert borderline.p_value is not None and borderline.p_value < 0.05  # significant alone ...
    assert strong.verdict == Verdict.changed
    assert thin.verdict == Verdict.inconclusive and thin.p_adjusted is None and thin.reason.startswith("too few")
    many = [make_metric("p", f"m{i}", "m", [True] * 6 + [False] * 14, [False] * 20, binary=True) for i in range(5)]
    for m in [*many, borderline]:
        m.headline = True  # one confirmatory family: Holm over six tests
    apply_verdicts(many + [borderline])
    assert borderline.verdict == Verdict.inconclusive  # ... but not after correcting for six tests


def test_metric_length_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError):
        compare_binary([True], [True, False])


def test_spearman_known_values_and_ties() -> None:
    from tunelens.stats import spearman, spearman_ci

    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 1, 2, 2], [1, 2, 3, 4]) == pytest.approx(0.894427, abs=1e-5)
    assert spearman([1, 1, 1], [1, 2, 3]) is None
    trend = spearman_ci([1, 1, 3, 3, 10, 10, 30, 30], [0.1, -0.2, 0.5, 0.3, 1.2, 0.9, 2.5, 3.0])
    assert trend.rho == pytest.approx(0.9759, abs=1e-3) and trend.ci_low is not None and trend.ci_low > 0.3
