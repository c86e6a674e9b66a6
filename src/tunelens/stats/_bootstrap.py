"""The paired bootstrap of a corpus-level aggregate (Koehn 2004).

Some metrics are not a mean of per-item scores: BLEU, chrF and TER pool n-gram counts or
edits over the whole corpus, a corpus F1 pools true and false positives, a perplexity
exponentiates a pooled log-likelihood. A per-item paired test does not apply to them.
Koehn (2004), "Statistical significance tests for machine translation evaluation" (EMNLP),
resamples the test items with replacement, recomputes both systems' aggregates on the
*same* resample, and reads the difference's distribution. Here:

* the interval of the change is the percentile interval of the resampled differences
  (2.5% and 97.5% for the 95% interval, 5% and 95% for the 90% one that decides equivalence);
* the two-sided p-value inverts that interval: twice the smaller share of resampled
  differences on either side of zero (ties at zero count on both sides), with one added to
  count and draws, so it is never 0 and falls below alpha about when the (1 - alpha)
  percentile interval excludes zero; its smallest value is 2 / (draws + 1);
* the aggregates are recomputed either from per-item sufficient statistics summed over the
  resample (:func:`bootstrap_sums`, fast: BLEU's matches and lengths, a perplexity's
  log-likelihoods and counts) or by calling the aggregate on the resampled items
  (:func:`bootstrap_aggregate`, for anything else).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import numpy as np

from tunelens.stats._paired import PairedComparison

T = TypeVar("T")

BOOTSTRAP_DRAWS = 10_000
"""Resamples of the paired bootstrap: its smallest two-sided p is 2 / 10,001 (about 2e-4)."""

_CELLS = 4_000_000
"""Resample-by-item cells drawn at once (bounds the memory of a chunk of resamples)."""


def _chunks(n: int, draws: int) -> Iterator[int]:
    """How many resamples to draw at a time, so a chunk holds about _CELLS cells."""
    step = max(1, min(draws, _CELLS // max(1, n)))
    done = 0
    while done < draws:
        rows = min(step, draws - done)
        yield rows
        done += rows


def _finite(x: float) -> float | None:
    return float(x) if x is not None and np.isfinite(x) else None


def bootstrap_p(deltas: np.ndarray, observed: float) -> float:
    """Two-sided p of a zero change from resampled differences: twice the smaller tail beyond
    zero (ties counted on both sides), as (1 + count) / (1 + draws), at most 1."""
    d = np.asarray(deltas, dtype=float)
    d = d[np.isfinite(d)]
    if len(d) == 0 or observed == 0:
        return 1.0
    tol = 1e-12 * max(1.0, float(np.max(np.abs(d))))
    below = int(np.sum(d <= tol))
    above = int(np.sum(d >= -tol))
    return float(min(1.0, 2.0 * (1 + min(below, above)) / (len(d) + 1)))


def _comparison(base: float, tuned: float, deltas: np.ndarray, n: int, draws: int) -> PairedComparison:
    base_v, tuned_v = _finite(base), _finite(tuned)
    if base_v is None or tuned_v is None:
        return PairedComparison(base_v, tuned_v, None, None, None, n, "bootstrap_aggregate", None)
    d = deltas[np.isfinite(deltas)]
    if len(d) == 0:
        return PairedComparison(base_v, tuned_v, tuned_v - base_v, None, None, n, "bootstrap_aggregate", None)
    lo, lo90, hi90, hi = (float(q) for q in np.quantile(d, [0.025, 0.05, 0.95, 0.975]))
    delta = tuned_v - base_v
    return PairedComparison(
        base=base_v,
        tuned=tuned_v,
        delta=delta,
        ci_low=lo,
        ci_high=hi,
        n=n,
        test="bootstrap_aggregate",
        p_value=bootstrap_p(d, delta),
        ci90_low=lo90,
        ci90_high=hi90,
        # No per-item difference exists for a pooled aggregate: the verdicts read the spread
        # from the interval instead (diff_sd None).
        diff_sd=None,
        min_p=2.0 / (draws + 1),
    )


def bootstrap_aggregate(
    base: Sequence[T],
    tuned: Sequence[T],
    aggregate: Callable[[list[T]], float],
    *,
    n_resamples: int = BOOTSTRAP_DRAWS,
    seed: int = 0,
) -> PairedComparison:
    """Paired bootstrap of ``aggregate`` over items paired by position (Koehn 2004).

    ``aggregate`` maps a list of one system's per-item records (e.g. lm-eval's
    ``(reference, prediction)`` pairs) to the corpus score; it is called twice per resample,
    on the same resampled positions for both systems."""
    if len(base) != len(tuned):
        raise ValueError(f"paired records differ in length: {len(base)} vs {len(tuned)}")
    n = len(base)
    if n == 0:
        return PairedComparison(None, None, None, None, None, 0, "bootstrap_aggregate", None)
    b_items, t_items = list(base), list(tuned)
    observed_b, observed_t = float(aggregate(b_items)), float(aggregate(t_items))
    rng = np.random.default_rng(seed)
    deltas: list[float] = []
    for rows in _chunks(n, n_resamples):
        for row in rng.integers(0, n, size=(rows, n)):
            deltas.append(float(aggregate([t_items[i] for i in row])) - float(aggregate([b_items[i] for i in row])))
    return _comparison(observed_b, observed_t, np.asarray(deltas, dtype=float), n, n_resamples)


def bootstrap_sums(
    base_stats: Any,
    tuned_stats: Any,
    score: Callable[[np.ndarray], float],
    *,
    n_resamples: int = BOOTSTRAP_DRAWS,
    seed: int = 0,
) -> PairedComparison:
    """Paired bootstrap of an aggregate that is a function of summed per-item statistics.

    ``base_stats`` and ``tuned_stats`` are (n, k) arrays, one row of sufficient statistics per
    item (paired by position); ``score`` maps a k-vector of sums over a corpus to its score
    (BLEU from summed n-gram matches and lengths, a perplexity from a summed log-likelihood and
    a count). The same resampled rows are summed for both systems."""
    b = np.asarray(base_stats, dtype=float)
    t = np.asarray(tuned_stats, dtype=float)
    if b.ndim == 1:
        b, t = b[:, None], t[:, None]
    if b.shape != t.shape:
        raise ValueError(f"paired statistics differ in shape: {b.shape} vs {t.shape}")
    n = b.shape[0]
    if n == 0:
        return PairedComparison(None, None, None, None, None, 0, "bootstrap_aggregate", None)
    observed_b, observed_t = float(score(b.sum(axis=0))), float(score(t.sum(axis=0)))
    rng = np.random.default_rng(seed)
    deltas = np.empty(n_resamples)
    at = 0
    uniform = np.full(n, 1.0 / n)
    for rows in _chunks(n, n_resamples):
        # How often each item is drawn in each resample: the resample's sums are counts @ stats.
        counts = rng.multinomial(n, uniform, size=rows).astype(float)
        sums_b, sums_t = counts @ b, counts @ t
        for sb, st in zip(sums_b, sums_t):
            deltas[at] = float(score(st)) - float(score(sb))
            at += 1
    return _comparison(observed_b, observed_t, deltas, n, n_resamples)
