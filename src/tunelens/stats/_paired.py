"""Paired statistics for base-vs-tuned comparisons.

Both models see the same items, so every comparison is paired:

* binary outcomes (right/wrong) use the exact McNemar test on the discordant pairs
  (McNemar 1947) and a paired bootstrap interval of the difference in proportions;
* continuous outcomes use a sign-flip permutation test on the per-item differences
  and a paired percentile bootstrap interval of the mean difference (Efron & Tibshirani 1993);
* across a report, p-values are corrected with Holm's step-down method (Holm 1979), which
  controls the family-wise error rate without assuming independence.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MIN_ITEMS = 8
"""Fewer paired items than this and a metric's verdict is 'insufficient'."""

N_RESAMPLES = 2000


@dataclass(frozen=True)
class PairedComparison:
    """The paired change of one metric, before multiple-comparison correction."""

    base: float | None
    tuned: float | None
    delta: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    test: str
    p_value: float | None


def _bootstrap_ci(diffs: np.ndarray, seed: int, n_resamples: int = N_RESAMPLES) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(diffs), size=(n_resamples, len(diffs)))
    means = diffs[idx].mean(axis=1)
    low, high = np.quantile(means, [0.025, 0.975])
    return float(low), float(high)


def mcnemar_exact(base: Sequence[bool], tuned: Sequence[bool]) -> float:
    """Two-sided exact McNemar p-value: a binomial test on the discordant pairs."""
    b = sum(1 for x, y in zip(base, tuned) if x and not y)
    c = sum(1 for x, y in zip(base, tuned) if y and not x)
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2.0**n
    return min(1.0, 2.0 * tail)


def sign_flip_p(diffs: np.ndarray, seed: int, n_resamples: int = N_RESAMPLES) -> float:
    """Two-sided sign-flip permutation p-value for a mean paired difference of zero."""
    if len(diffs) == 0 or np.allclose(diffs, 0.0, atol=1e-12):
        return 1.0
    observed = abs(diffs.mean())
    rng = np.random.default_rng(seed + 1)
    signs = rng.choice(np.array([-1.0, 1.0]), size=(n_resamples, len(diffs)))
    null = np.abs((signs * diffs).mean(axis=1))
    # Count the observed statistic itself so p is never exactly zero.
    return float((1 + np.sum(null >= observed - 1e-12)) / (n_resamples + 1))


def compare_binary(base: Sequence[bool], tuned: Sequence[bool], seed: int = 0) -> PairedComparison:
    """Compare paired right/wrong outcomes: accuracies, delta, bootstrap CI, McNemar p."""
    if len(base) != len(tuned):
        raise ValueError(f"paired outcomes differ in length: {len(base)} vs {len(tuned)}")
    n = len(base)
    if n == 0:
        return PairedComparison(None, None, None, None, None, 0, "mcnemar", None)
    b = np.asarray(base, dtype=float)
    t = np.asarray(tuned, dtype=float)
    diffs = t - b
    low, high = _bootstrap_ci(diffs, seed)
    return PairedComparison(
        float(b.mean()), float(t.mean()), float(diffs.mean()), low, high, n, "mcnemar", mcnemar_exact(base, tuned)
    )


def compare_continuous(base: Sequence[float], tuned: Sequence[float], seed: int = 0) -> PairedComparison:
    """Compare paired per-item scores: means, delta, bootstrap CI, sign-flip p."""
    if len(base) != len(tuned):
        raise ValueError(f"paired scores differ in length: {len(base)} vs {len(tuned)}")
    b = np.asarray(base, dtype=float)
    t = np.asarray(tuned, dtype=float)
    keep = np.isfinite(b) & np.isfinite(t)
    b, t = b[keep], t[keep]
    n = len(b)
    if n == 0:
        return PairedComparison(None, None, None, None, None, 0, "paired_bootstrap", None)
    diffs = t - b
    low, high = _bootstrap_ci(diffs, seed)
    return PairedComparison(
        float(b.mean()),
        float(t.mean()),
        float(diffs.mean()),
        low,
        high,
        n,
        "paired_bootstrap",
        sign_flip_p(diffs, seed),
    )


def holm_adjust(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm step-down adjusted p-values; None entries (untested metrics) stay None."""
    indexed = [(p, i) for i, p in enumerate(p_values) if p is not None]
    m = len(indexed)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(sorted(indexed)):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted


def compare_ratio(
    base_num: Sequence[bool],
    base_other: Sequence[bool],
    tuned_num: Sequence[bool],
    tuned_other: Sequence[bool],
    seed: int = 0,
    n_resamples: int = N_RESAMPLES,
) -> PairedComparison:
    """Paired change of a ratio of shares, num / (num + other), over the same items.

    Used for the memorization ratio p_o / (p_o + p_s) (Longpre et al. 2021): the interval
    resamples items jointly for both models; the p-value swaps the two models' outcomes
    item by item (a paired permutation test).
    """
    arrays = [np.asarray(x, dtype=float) for x in (base_num, base_other, tuned_num, tuned_other)]
    n = len(arrays[0])
    if any(len(a) != n for a in arrays):
        raise ValueError("ratio outcomes differ in length")

    def ratio(num: np.ndarray, other: np.ndarray) -> np.ndarray:
        total = num.sum(-1) + other.sum(-1)
        return np.divide(num.sum(-1), total, out=np.full(np.shape(total), np.nan), where=total > 0)

    bn, bo, tn, to = arrays
    base, tuned = float(ratio(bn, bo)), float(ratio(tn, to))
    if n == 0 or not (np.isfinite(base) and np.isfinite(tuned)):
        return PairedComparison(
            base if np.isfinite(base) else None,
            tuned if np.isfinite(tuned) else None,
            None,
            None,
            None,
            n,
            "paired_bootstrap",
            None,
        )
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_resamples, n))
    deltas = ratio(tn[idx], to[idx]) - ratio(bn[idx], bo[idx])
    deltas = deltas[np.isfinite(deltas)]
    low, high = (float(q) for q in np.quantile(deltas, [0.025, 0.975])) if len(deltas) else (None, None)
    swap = rng.random((n_resamples, n)) < 0.5
    null = ratio(np.where(swap, bn, tn), np.where(swap, bo, to)) - ratio(np.where(swap, tn, bn), np.where(swap, to, bo))
    observed = abs(tuned - base)
    p = (
        float((1 + np.sum(np.abs(null[np.isfinite(null)]) >= observed - 1e-12)) / (n_resamples + 1))
        if observed > 0
        else 1.0
    )
    return PairedComparison(base, tuned, tuned - base, low, high, n, "paired_bootstrap", p)
