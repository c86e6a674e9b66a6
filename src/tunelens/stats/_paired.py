"""Paired statistics for base-vs-tuned comparisons.

Both models see the same items, so every comparison is paired:

* binary outcomes (right/wrong) use the exact McNemar test, a binomial test on the
  discordant pairs (McNemar 1947; ``scipy.stats.binomtest``);
* continuous outcomes use the sign-flip permutation test of a zero mean difference,
  enumerated exactly over all 2^n sign patterns while n is small (Fisher 1935), and the
  paired t-test (``scipy.stats.ttest_1samp`` on the differences) beyond that, where the
  mean of n > EXACT_MAX differences is close to normal; the exact enumeration reaches
  p = 2 / 2^n, so the test never floors at 1 / (draws + 1) as a sampled one does;
* intervals of a difference in paired proportions are Agresti & Min's (2005) adjusted Wald
  intervals (half a count added to each cell of the 2x2 table), which keep their coverage
  where a bootstrap collapses (no discordant pair among a few items gives [0, 0]);
  intervals of a mean difference are t intervals, matching the t-test; the 95% interval is
  shown, the 90% one decides equivalence (two one-sided tests at 5% each, Schuirmann 1987).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import stats as sps

MIN_ITEMS = 8
"""Fewer paired items than this and a metric is inconclusive ("too few items")."""

N_RESAMPLES = 2000
"""Bootstrap draws for the interval of a ratio (percentiles at 2.5% and 5% are stable at this count)."""

EXACT_MAX = 16
"""Largest count of non-zero differences whose sign-flip distribution is enumerated (65,536 patterns)."""

PERMUTATION_DRAWS = 20000
"""Draws of a sampled permutation test (a ratio of sums): its smallest p is about 5e-5."""


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
    ci90_low: float | None = None
    ci90_high: float | None = None
    diff_sd: float | None = None
    min_p: float | None = None
    base_values: tuple[float, ...] | None = None
    tuned_values: tuple[float, ...] | None = None


def t_intervals(diffs: np.ndarray) -> tuple[float, float, float, float]:
    """(95% low, 95% high, 90% low, 90% high) of the mean difference: mean ± t * sd / sqrt(n)."""
    n = len(diffs)
    mean = float(diffs.mean())
    if n < 2:
        return mean, mean, mean, mean
    se = float(diffs.std(ddof=1)) / math.sqrt(n)
    t95, t90 = (float(sps.t.ppf(q, df=n - 1)) for q in (0.975, 0.95))
    return mean - t95 * se, mean + t95 * se, mean - t90 * se, mean + t90 * se


def agresti_min_intervals(base: np.ndarray, tuned: np.ndarray) -> tuple[float, float, float, float]:
    """(95% low, 95% high, 90% low, 90% high) of tuned - base for paired right/wrong outcomes:
    the Wald interval after adding 1/2 to each cell of the 2x2 table (Agresti & Min 2005)."""
    b = float(np.sum((base > 0) & (tuned <= 0))) + 0.5  # right before, wrong after
    c = float(np.sum((base <= 0) & (tuned > 0))) + 0.5
    n = len(base) + 2.0
    delta = (c - b) / n
    se = math.sqrt(max(0.0, (b + c) - (c - b) ** 2 / n)) / n
    z95, z90 = float(sps.norm.ppf(0.975)), float(sps.norm.ppf(0.95))
    lo95, hi95, lo90, hi90 = (float(np.clip(delta + k * se, -1.0, 1.0)) for k in (-z95, z95, -z90, z90))
    return lo95, hi95, lo90, hi90


def mcnemar_exact(base: Sequence[bool], tuned: Sequence[bool]) -> float:
    """Two-sided exact McNemar p-value: a binomial test on the discordant pairs."""
    b = sum(1 for x, y in zip(base, tuned) if x and not y)
    c = sum(1 for x, y in zip(base, tuned) if y and not x)
    if b + c == 0:
        return 1.0
    return float(sps.binomtest(min(b, c), b + c, 0.5).pvalue)


def exact_min_p(n: int) -> float:
    """The smallest two-sided p of an exact test over n pairs: exact McNemar with all n
    discordant one way, or the sign-flip test with all n differences of one sign (2 / 2^n)."""
    return min(1.0, 2.0 * 0.5**n) if n > 0 else 1.0


@lru_cache(maxsize=EXACT_MAX + 1)
def _sign_patterns(k: int) -> np.ndarray:
    return np.array(list(itertools.product((-1.0, 1.0), repeat=k))) if k else np.ones((1, 0))


def sign_flip_exact(diffs: np.ndarray) -> float:
    """Two-sided sign-flip p-value of a zero mean difference, over all sign patterns of the
    non-zero differences (zeros flip to themselves). Only for at most EXACT_MAX of them."""
    d = np.asarray(diffs, dtype=float)
    d = d[np.abs(d) > 1e-12]
    if len(d) == 0:
        return 1.0
    if len(d) > EXACT_MAX:
        raise ValueError(f"exact sign-flip enumeration is for at most {EXACT_MAX} non-zero differences")
    null = np.abs(_sign_patterns(len(d)) @ d)
    return float(np.mean(null >= abs(d.sum()) - 1e-9 * max(1.0, float(np.abs(d).sum()))))


def sign_flip_p(diffs: np.ndarray) -> float:
    """p-value of a zero mean paired difference: exact sign-flip for few non-zero
    differences, the paired t-test beyond (its p can be as small as the data warrant)."""
    d = np.asarray(diffs, dtype=float)
    nonzero = int(np.sum(np.abs(d) > 1e-12))
    if nonzero == 0:
        return 1.0
    if nonzero <= EXACT_MAX:
        return sign_flip_exact(d)
    if np.std(d) == 0:
        return 0.0
    return float(sps.ttest_1samp(d, 0.0).pvalue)


def continuous_test(n_nonzero: int) -> str:
    return "sign_flip_exact" if n_nonzero <= EXACT_MAX else "paired_t"


def continuous_min_p(n: int) -> float:
    """The smallest p the continuous test can give over n items (the t-test: no floor)."""
    return exact_min_p(n) if n <= EXACT_MAX else 0.0


def _values(x: np.ndarray) -> tuple[float, ...]:
    return tuple(float(v) for v in x)


def compare_binary(base: Sequence[bool], tuned: Sequence[bool], seed: int = 0) -> PairedComparison:
    """Compare paired right/wrong outcomes: accuracies, delta, Agresti-Min intervals, exact McNemar p.

    ``seed`` no longer matters (nothing is sampled); it stays so the probes' calls keep working."""
    if len(base) != len(tuned):
        raise ValueError(f"paired outcomes differ in length: {len(base)} vs {len(tuned)}")
    n = len(base)
    if n == 0:
        return PairedComparison(None, None, None, None, None, 0, "mcnemar", None)
    b = np.asarray(base, dtype=float)
    t = np.asarray(tuned, dtype=float)
    diffs = t - b
    lo, hi, lo90, hi90 = agresti_min_intervals(b, t)
    return PairedComparison(
        float(b.mean()),
        float(t.mean()),
        float(diffs.mean()),
        lo,
        hi,
        n,
        "mcnemar",
        mcnemar_exact(base, tuned),
        lo90,
        hi90,
        float(diffs.std(ddof=1)) if n > 1 else 0.0,
        exact_min_p(n),
        _values(b),
        _values(t),
    )


def compare_continuous(base: Sequence[float], tuned: Sequence[float], seed: int = 0) -> PairedComparison:
    """Compare paired per-item scores: means, delta, t intervals, and the sign-flip test
    (exact) or the paired t-test, by the count of non-zero differences. ``seed`` as in
    :func:`compare_binary`."""
    if len(base) != len(tuned):
        raise ValueError(f"paired scores differ in length: {len(base)} vs {len(tuned)}")
    b = np.asarray(base, dtype=float)
    t = np.asarray(tuned, dtype=float)
    keep = np.isfinite(b) & np.isfinite(t)
    b, t = b[keep], t[keep]
    n = len(b)
    if n == 0:
        return PairedComparison(None, None, None, None, None, 0, "paired_t", None)
    diffs = t - b
    lo, hi, lo90, hi90 = t_intervals(diffs)
    nonzero = int(np.sum(np.abs(diffs) > 1e-12))
    return PairedComparison(
        float(b.mean()),
        float(t.mean()),
        float(diffs.mean()),
        lo,
        hi,
        n,
        continuous_test(nonzero),
        sign_flip_p(diffs),
        lo90,
        hi90,
        float(diffs.std(ddof=1)) if n > 1 else 0.0,
        continuous_min_p(n),
        _values(b),
        _values(t),
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


def bh_adjust(p_values: Sequence[float | None]) -> list[float | None]:
    """Benjamini-Hochberg adjusted p-values (``scipy.stats.false_discovery_control``);
    None entries (untested metrics) stay None."""
    indexed = [(p, i) for i, p in enumerate(p_values) if p is not None]
    adjusted: list[float | None] = [None] * len(p_values)
    if not indexed:
        return adjusted
    qs = sps.false_discovery_control(np.array([p for p, _ in indexed], dtype=float), method="bh")
    for (_, i), q in zip(indexed, qs):
        adjusted[i] = float(min(1.0, q))
    return adjusted


def compare_ratio(
    base_num: Sequence[bool],
    base_other: Sequence[bool],
    tuned_num: Sequence[bool],
    tuned_other: Sequence[bool],
    seed: int = 0,
    n_resamples: int = N_RESAMPLES,
    n_permutations: int = PERMUTATION_DRAWS,
) -> PairedComparison:
    """Paired change of a ratio of shares, num / (num + other), over the same items.

    Used for the memorization ratio p_o / (p_o + p_s) (Longpre et al. 2021): the intervals
    resample items jointly for both models; the p-value swaps the two models' outcomes
    item by item (a paired permutation test, ``n_permutations`` draws in chunks).
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
            "permutation",
            None,
        )
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_resamples, n))
    deltas = ratio(tn[idx], to[idx]) - ratio(bn[idx], bo[idx])
    deltas = deltas[np.isfinite(deltas)]
    if len(deltas):
        lo, lo90, hi90, hi = (float(q) for q in np.quantile(deltas, [0.025, 0.05, 0.95, 0.975]))
    else:
        lo = lo90 = hi90 = hi = None  # type: ignore[assignment]
    observed = abs(tuned - base)
    exceed = 0
    if observed > 0:
        for start in range(0, n_permutations, 2000):
            swap = rng.random((min(2000, n_permutations - start), n)) < 0.5
            null = ratio(np.where(swap, bn, tn), np.where(swap, bo, to)) - ratio(
                np.where(swap, tn, bn), np.where(swap, to, bo)
            )
            exceed += int(np.sum(np.abs(null[np.isfinite(null)]) >= observed - 1e-12))
    p = (1 + exceed) / (n_permutations + 1) if observed > 0 else 1.0
    return PairedComparison(
        base, tuned, tuned - base, lo, hi, n, "permutation", p, lo90, hi90, None, 1 / (n_permutations + 1)
    )


def z_quantile(q: float) -> float:
    return float(sps.norm.ppf(q))


def power_of(delta: float, sd: float, n: int, level: float) -> float:
    """Power of a two-sided test at ``level`` to find a true mean difference ``delta`` with
    per-item standard deviation ``sd`` over n items (normal approximation)."""
    if n <= 0:
        return 0.0
    if sd <= 0:
        return 1.0 if delta != 0 else level
    shift = abs(delta) * math.sqrt(n) / sd
    z = z_quantile(1 - level / 2)
    return float(sps.norm.sf(z - shift) + sps.norm.cdf(-z - shift))
