"""Paired tests, intervals and the multiple-comparison correction behind every verdict."""

from tunelens.stats._bootstrap import BOOTSTRAP_DRAWS, bootstrap_aggregate, bootstrap_p, bootstrap_sums
from tunelens.stats._correlation import Correlation, spearman, spearman_ci
from tunelens.stats._intervals import cluster_bootstrap_interval, wilson_interval
from tunelens.stats._paired import (
    MIN_ITEMS,
    PairedComparison,
    bh_adjust,
    compare_binary,
    compare_continuous,
    compare_ratio,
    holm_adjust,
    mcnemar_exact,
    power_of,
    sign_flip_exact,
    sign_flip_p,
)
from tunelens.stats._verdicts import (
    apply_verdicts,
    declare,
    declare_all,
    equivalence_reach,
    make_metric,
    metric_from,
    minimum_detectable_effect,
)

__all__ = [
    "BOOTSTRAP_DRAWS",
    "MIN_ITEMS",
    "Correlation",
    "PairedComparison",
    "apply_verdicts",
    "bh_adjust",
    "bootstrap_aggregate",
    "bootstrap_p",
    "bootstrap_sums",
    "declare",
    "declare_all",
    "equivalence_reach",
    "cluster_bootstrap_interval",
    "compare_binary",
    "compare_continuous",
    "compare_ratio",
    "holm_adjust",
    "make_metric",
    "mcnemar_exact",
    "metric_from",
    "minimum_detectable_effect",
    "power_of",
    "sign_flip_exact",
    "sign_flip_p",
    "spearman",
    "spearman_ci",
    "wilson_interval",
]
