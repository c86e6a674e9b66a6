"""Calibration of an audit's verdicts: null audits made from a real audit's own items.

Swapping the two models' outcomes on an item leaves "no difference" true while keeping
everything else about the data: the items' spread, the ties, and the dependence between
metrics measured on the same items. One null audit draws one swap mask per probe (a coin
per item position, shared by every metric of the probe, since a probe's metrics are built
over the same items in the same order) and re-runs every metric's test and the report's
corrections on the swapped outcomes. Over many null audits, the share with any headline
metric `changed` estimates the family-wise error rate, and the mean share of false
`changed` among all `changed` (0/0 counted as 0) the false discovery rate.

A swap flips the sign of an item's difference, so each test's null p-values are computed
for all audits at once: the exact tests' null distributions do not depend on the signs.
Metrics without stored per-item outcomes (ratios of sums) take no part.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from tunelens.results import Metric
from tunelens.stats._paired import EXACT_MAX, MIN_ITEMS, _sign_patterns
from tunelens.stats._verdicts import correct


@dataclass(frozen=True)
class Calibration:
    """The error rates of an audit's verdicts over ``n_audits`` null audits."""

    n_audits: int
    n_metrics: int
    n_headline: int
    familywise_rate: float  # share of null audits with any headline metric changed
    false_discovery_rate: float  # mean over null audits of false changed / all changed
    any_changed_rate: float  # share of null audits with any metric changed at all


def _null_p(diffs: np.ndarray, signs: np.ndarray, test: str) -> np.ndarray:
    """Two-sided p-values of ``test`` for every row of ``signs`` applied to ``diffs``."""
    flipped = signs * diffs  # (audits, n)
    if test == "mcnemar":
        k = int(np.sum(diffs != 0))
        if k == 0:
            return np.ones(len(signs))
        ups = np.sum(flipped > 0, axis=1)
        table = np.array([sps.binomtest(min(j, k - j), k, 0.5).pvalue for j in range(k + 1)])
        return table[ups]
    nonzero = np.abs(diffs) > 1e-12
    k = int(nonzero.sum())
    if k == 0:
        return np.ones(len(signs))
    if k <= EXACT_MAX:
        d = diffs[nonzero]
        null = np.sort(np.abs(_sign_patterns(k) @ d))
        observed = np.abs(flipped[:, nonzero].sum(axis=1))
        tol = 1e-9 * max(1.0, float(np.abs(d).sum()))
        return 1.0 - np.searchsorted(null, observed - tol, side="left") / len(null)
    n = diffs.shape[0]
    mean = flipped.mean(axis=1)
    sd = flipped.std(axis=1, ddof=1)
    t = np.divide(mean, sd / np.sqrt(n), out=np.zeros_like(mean), where=sd > 0)
    return 2 * sps.t.sf(np.abs(t), df=n - 1)


def null_audits(
    metrics: Sequence[Metric], n_audits: int = 2000, alpha: float = 0.05, seed: int = 0
) -> Calibration:
    """Run ``n_audits`` null audits on the items behind ``metrics`` (see the module docstring)."""
    usable = [
        m
        for m in metrics
        if m.base_values is not None
        and m.tuned_values is not None
        and m.test in ("mcnemar", "sign_flip_exact", "paired_t")
        and m.n >= MIN_ITEMS
    ]
    rng = np.random.default_rng(seed)
    masks: dict[str, np.ndarray] = {}
    p = np.ones((n_audits, len(usable)))
    for j, m in enumerate(usable):
        b = np.asarray(m.base_values, dtype=float)
        t = np.asarray(m.tuned_values, dtype=float)
        keep = np.isfinite(b) & np.isfinite(t)
        need = len(b)
        mask = masks.get(m.probe)
        if mask is None or mask.shape[1] < need:
            extra = rng.choice(np.array([-1.0, 1.0]), size=(n_audits, need - (0 if mask is None else mask.shape[1])))
            mask = extra if mask is None else np.concatenate([mask, extra], axis=1)
            masks[m.probe] = mask
        diffs = (t - b)[keep]
        p[:, j] = _null_p(diffs, mask[:, :need][:, keep], m.test)
    headline = np.array([m.headline for m in usable], dtype=bool)
    fwe = 0
    fdr = 0.0
    anything = 0
    for row in p:
        changed = np.zeros(len(usable), dtype=bool)
        head_p, other_p = correct(list(row[headline]), list(row[~headline]))
        changed[headline] = np.array(head_p) < alpha
        changed[~headline] = np.array(other_p) < alpha
        fwe += bool(changed[headline].any())
        anything += bool(changed.any())
        # Under the null every 'changed' is false: the proportion is 1 whenever any is called.
        fdr += 1.0 if changed.any() else 0.0
    return Calibration(
        n_audits=n_audits,
        n_metrics=len(usable),
        n_headline=int(headline.sum()),
        familywise_rate=fwe / n_audits,
        false_discovery_rate=fdr / n_audits,
        any_changed_rate=anything / n_audits,
    )
