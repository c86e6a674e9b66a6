"""Rank correlation with a bootstrap interval, for trends such as recall against exposure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def _ranks(values: np.ndarray) -> np.ndarray:
    """Average ranks (ties share the mean of their positions)."""
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values), dtype=float)
    ranks[order] = np.arange(len(values), dtype=float)
    for value in np.unique(values):
        tied = values == value
        if tied.sum() > 1:
            ranks[tied] = ranks[tied].mean()
    return ranks


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Spearman's rank correlation; None when either side is constant or n < 3."""
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(a) != len(b):
        raise ValueError(f"spearman needs equal lengths, got {len(a)} and {len(b)}")
    if len(a) < 3 or np.all(a == a[0]) or np.all(b == b[0]):
        return None
    return float(np.corrcoef(_ranks(a), _ranks(b))[0, 1])


@dataclass(frozen=True)
class Correlation:
    rho: float | None
    ci_low: float | None
    ci_high: float | None
    n: int


def spearman_ci(x: Sequence[float], y: Sequence[float], seed: int = 0, n_resamples: int = 2000) -> Correlation:
    """Spearman's rho with a percentile bootstrap 95% interval over resampled pairs."""
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    rho = spearman(a, b)
    if rho is None:
        return Correlation(None, None, None, len(a))
    rng = np.random.default_rng(seed)
    draws = [spearman(a[idx], b[idx]) for idx in rng.integers(0, len(a), size=(n_resamples, len(a)))]
    valid = np.array([d for d in draws if d is not None])
    if len(valid) < n_resamples // 2:
        return Correlation(rho, None, None, len(a))
    low, high = np.quantile(valid, [0.025, 0.975])
    return Correlation(rho, float(low), float(high), len(a))
