"""lm-eval's corpus-level aggregations, recomputed on resampled documents.

A per-sample log of BLEU, chrF or TER holds a (reference, prediction) pair per document, a
corpus F1 or Matthews correlation a (gold, prediction) pair, a perplexity a log-likelihood:
lm-eval pools them over the whole run with the aggregation its metric registry names. The
paired bootstrap (``tunelens.stats.bootstrap_sums``, Koehn 2004) recomputes that aggregate on
thousands of resamples, so the aggregations that are functions of summed per-document
statistics are written here that way (sacrebleu's own sufficient statistics for BLEU, chrF
and TER, as its paired bootstrap does); any other registered aggregation is called on the
resampled records (``bootstrap_aggregate``). Each recomputes what lm-eval computes:
``paired`` checks the full-run value against the one lm-eval reported.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

PER_ITEM_AGGREGATIONS = frozenset({"mean", "nanmean"})
"""Aggregations that average per-item values: a paired test on the items applies."""

DEFAULT_AGGREGATIONS: dict[str, str] = {
    "acc": "mean",
    "acc_norm": "mean",
    "acc_mutual_info": "mean",
    "acc_bytes": "mean",
    "acc_all": "mean",
    "exact_match": "mean",
    "likelihood": "mean",
    "perplexity": "perplexity",
    "word_perplexity": "weighted_perplexity",
    "byte_perplexity": "weighted_perplexity",
    "bits_per_byte": "bits_per_byte",
    "brier_score": "brier_score",
    "bypass": "bypass",
    "mcc": "matthews_corrcoef",
    "f1": "f1",
    "bleu": "bleu",
    "chrf": "chrf",
    "chrf++": "chrf++",
    "ter": "ter",
}
"""lm-eval's default aggregation of its registered metrics (``lm_eval/api/metrics.py``), for logs
read where lm-eval is not installed; with lm-eval installed its registry is asked first."""

SACREBLEU = {"bleu", "chrf", "chrf++", "ter"}


def _registry() -> Any:
    try:
        import lm_eval.api.metrics  # noqa: F401  (registers the metrics and aggregations)
        import lm_eval.api.registry as registry
    except Exception:  # noqa: BLE001 - lm-eval absent or broken: fall back to the table above
        return None
    return registry


def _quietly(call: Callable[[], Any]) -> Any:
    """Ask lm-eval's registry without its warning for a name it does not know."""
    log = logging.getLogger("lm_eval.api.registry")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        return call()
    except Exception:  # noqa: BLE001 - an unknown name
        return None
    finally:
        log.setLevel(level)


def registry_aggregation(metric: str) -> str | None:
    """The name of the aggregation lm-eval's registry gives ``metric`` by default (None when lm-eval is
    not installed or the metric is not registered)."""
    registry = _registry()
    if registry is None:
        return None
    fn = _quietly(lambda: registry.get_metric_aggregation(metric))
    if fn is None:
        return None
    for name, candidate in registry.AGGREGATION_REGISTRY.items():
        if candidate is fn:
            return str(name)
    return None


def registry_higher_is_better(metric: str) -> bool | None:
    registry = _registry()
    if registry is None:
        return None
    value = _quietly(lambda: registry.is_higher_better(metric))
    return value if isinstance(value, bool) else None


@dataclass(frozen=True)
class Pooling:
    """How to recompute one aggregation: from summed per-item statistics (``stats`` and ``score``)
    or by calling it on the records (``direct``)."""

    aggregation: str
    stats: Callable[[Sequence[Any]], np.ndarray] | None = None
    score: Callable[[np.ndarray], float] | None = None
    direct: Callable[[list[Any]], float] | None = None


def _pairs(records: Sequence[Any]) -> list[tuple[Any, Any]]:
    out = []
    for r in records:
        if not isinstance(r, (list, tuple)) or len(r) != 2:
            raise ValueError("a per-sample record is not a (reference, prediction) pair")
        out.append((r[0], r[1]))
    return out


def _sacre_inputs(records: Sequence[Any]) -> tuple[list[str], list[list[str]]]:
    """Predictions and reference streams as sacrebleu takes them (lm-eval's ``_sacreformat``)."""
    preds: list[str] = []
    refs: list[list[str]] = []
    for ref, pred in _pairs(records):
        refs.append([str(ref)] if isinstance(ref, str) or not isinstance(ref, (list, tuple)) else [str(x) for x in ref])
        if isinstance(pred, (list, tuple)):
            pred = pred[0] if pred else ""
        preds.append(str(pred))
    width = len(refs[0]) if refs else 1
    if any(len(r) != width for r in refs):
        raise ValueError("documents have different numbers of references")
    return preds, [list(stream) for stream in zip(*refs)]


def _sacrebleu(aggregation: str) -> Pooling | str:
    try:
        from sacrebleu.metrics import BLEU, CHRF, TER
    except ImportError:
        return f"recomputing {aggregation} needs sacrebleu: pip install 'tunelens[lm-eval]'"
    metric = {"bleu": BLEU, "chrf": CHRF, "chrf++": lambda: CHRF(word_order=2), "ter": TER}[aggregation]()

    def stats(records: Sequence[Any]) -> np.ndarray:
        preds, streams = _sacre_inputs(records)
        return np.asarray(metric._extract_corpus_statistics(preds, streams), dtype=float)

    def score(sums: np.ndarray) -> float:
        return float(metric._compute_score_from_stats(list(sums)).score)

    return Pooling(aggregation, stats=stats, score=score)


def _numbers(records: Sequence[Any]) -> np.ndarray:
    return np.asarray([float(r) for r in records], dtype=float)


def _counted(records: Sequence[Any]) -> np.ndarray:
    """Per-document log-likelihoods with a count of one each: exp(-sum / count) is lm-eval's perplexity."""
    values = _numbers(records)
    return np.stack([values, np.ones(len(values))], axis=1)


def _weighted(records: Sequence[Any]) -> np.ndarray:
    return np.asarray([[float(a), float(b)] for a, b in _pairs(records)], dtype=float)


def _binary_labels(records: Sequence[Any]) -> np.ndarray | None:
    """(gold, prediction) pairs as 0/1 arrays, or None when a label is not 0 or 1."""
    pairs = _pairs(records)
    try:
        arr = np.asarray([[float(g), float(p)] for g, p in pairs], dtype=float)
    except (TypeError, ValueError):
        return None
    return arr if np.isin(arr, (0.0, 1.0)).all() else None


def _confusion(records: Sequence[Any]) -> np.ndarray:
    arr = _binary_labels(records)
    assert arr is not None
    g, p = arr[:, 0], arr[:, 1]
    return np.stack([g * p, (1 - g) * (1 - p), (1 - g) * p, g * (1 - p)], axis=1)  # tp, tn, fp, fn


def _f1(sums: np.ndarray) -> float:
    tp, _, fp, fn = sums
    denominator = 2 * tp + fp + fn
    return float(2 * tp / denominator) if denominator > 0 else 0.0  # sklearn's zero_division


def _mcc(sums: np.ndarray) -> float:
    tp, tn, fp, fn = sums
    denominator = math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return float((tp * tn - fp * fn) / denominator) if denominator > 0 else 0.0


def _median(records: list[Any]) -> float:
    values = sorted(float(r) for r in records)
    return values[len(values) // 2]  # lm-eval's median: the upper middle value


def pooling(aggregation: str, records: Sequence[Any]) -> Pooling | str:
    """How to recompute ``aggregation`` over these records, or why it cannot be."""
    if aggregation in SACREBLEU:
        return _sacrebleu(aggregation)
    if aggregation == "perplexity":
        return Pooling(aggregation, stats=_counted, score=lambda s: math.exp(-s[0] / s[1]))
    if aggregation == "weighted_perplexity":
        return Pooling(aggregation, stats=_weighted, score=lambda s: math.exp(-s[0] / s[1]))
    if aggregation == "bits_per_byte":
        return Pooling(aggregation, stats=_weighted, score=lambda s: -s[0] / s[1] / math.log(2))
    if aggregation in ("f1", "matthews_corrcoef") and _binary_labels(records) is not None:
        return Pooling(aggregation, stats=_confusion, score=_f1 if aggregation == "f1" else _mcc)
    if aggregation == "median":
        return Pooling(aggregation, direct=_median)
    registry = _registry()
    if registry is None:
        return f"recomputing the aggregation '{aggregation}' needs lm-eval's registry: pip install 'tunelens[lm-eval]'"
    fn = _quietly(lambda: registry.get_aggregation(aggregation))
    if fn is None:
        return f"lm-eval's registry has no aggregation '{aggregation}'"
    return Pooling(aggregation, direct=lambda r: float(fn(list(r))))
