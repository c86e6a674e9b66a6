"""From two logs of one task, paired item by item, to a probe result: metrics, evidence, notes."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy import stats as sps

from tunelens.pairing._aggregates import SACREBLEU, pooling
from tunelens.pairing._logs import LogItem, MetricSpec, TaskLog
from tunelens.results import DEFAULT_MARGINS, ItemRecord, Metric, MetricDecl, ProbeResult, Table
from tunelens.stats import (
    PairedComparison,
    bootstrap_aggregate,
    bootstrap_sums,
    compare_binary,
    compare_continuous,
    declare,
    metric_from,
)

POINTS_METRICS = frozenset({"bleu", "chrf", "chrf++", "ter", "rouge1", "rouge2", "rougeL", "rougeLsum", "sacrebleu"})
"""Metrics lm-eval reports on a 0-100 scale (corpus BLEU, chrF, TER; per-document ROUGE and BLEU)."""

POINTS_MARGIN = 1.0
"""Margin of equivalence of a 0-100 score such as BLEU: one point, a change too small to act on."""

KOEHN = 'Koehn 2004, "Statistical significance tests for machine translation evaluation"'


def _finite(x: Any) -> float | None:
    if isinstance(x, bool):
        return float(x)
    if isinstance(x, (int, float)) and math.isfinite(x):
        return float(x)
    return None


def unpaired_z_p(base: list[float], tuned: list[float]) -> float:
    """The p of an unpaired z-test of two means with their standard errors (sample sd / sqrt(n)), as
    lm-eval's model comparison computes it: it ignores that the items are the same."""
    b, t = np.asarray(base, dtype=float), np.asarray(tuned, dtype=float)
    if len(b) < 2 or len(t) < 2:
        return 1.0
    se = math.sqrt(b.var(ddof=1) / len(b) + t.var(ddof=1) / len(t))
    delta = float(t.mean() - b.mean())
    if se == 0:
        return 1.0 if delta == 0 else 0.0
    return float(2 * sps.norm.sf(abs(delta) / se))


def _unit(spec: MetricSpec, values: list[float], binary: bool) -> tuple[str, float | None]:
    """(unit, margin or None for the unit's default) of one metric."""
    base_name = spec.label.split(" ")[0]
    if binary:
        return "accuracy", None
    if spec.kind == "corpus" and spec.aggregation in SACREBLEU:
        return "points", POINTS_MARGIN
    if spec.aggregation in ("perplexity", "weighted_perplexity"):
        return "perplexity", None
    if spec.aggregation == "bits_per_byte":
        return "bits/byte", None
    if spec.aggregation == "matthews_corrcoef":
        return "correlation", None
    if values and all(0.0 <= v <= 1.0 for v in values):
        return "score", None
    if base_name in POINTS_METRICS and values and all(0.0 <= v <= 100.0 for v in values):
        return "points", POINTS_MARGIN
    return "", None


def _fmt_p(p: float | None) -> str:
    if p is None:
        return "\u2014"
    return "<0.001" if p < 0.001 else f"{p:.3f}" if p < 0.01 else f"{p:.2f}"


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


class TaskBuilder:
    """Builds one task's probe result from its two logs."""

    def __init__(self, task: str, a: TaskLog, b: TaskLog, seed: int, margins: Mapping[str, float]):
        self.task, self.a, self.b, self.seed, self.margins = task, a, b, seed, margins
        self.keys = sorted(a.items, key=lambda k: a.items[k].order)
        both = [n for n in a.notes if n in b.notes]
        self.notes: list[str] = [
            *(f"both logs: {n}" for n in both),
            *(f"base log: {n}" for n in a.notes if n not in both),
            *(f"tuned log: {n}" for n in b.notes if n not in both),
        ]
        self.metrics: list[Metric] = []
        self.outcomes: list[list[str]] = []
        self.score_metric: str | None = None

    # -- metrics -------------------------------------------------------------------------------

    def _per_item(self, spec: MetricSpec) -> tuple[PairedComparison, bool, list[float]] | None:
        pairs = []
        for k in self.keys:
            x, y = _finite(self.a.items[k].values.get(spec.name)), _finite(self.b.items[k].values.get(spec.name))
            if x is not None and y is not None:
                pairs.append((x, y))
        dropped = len(self.keys) - len(pairs)
        if dropped:
            self.notes.append(
                f"{spec.name}: {dropped} of {len(self.keys)} items have no value on one model or both; the test "
                f"runs on the other {len(pairs)}."
            )
        if not pairs:
            return None
        base, tuned = [p[0] for p in pairs], [p[1] for p in pairs]
        binary = all(v in (0.0, 1.0) for v in base + tuned)
        if binary:
            comparison = compare_binary([v > 0 for v in base], [v > 0 for v in tuned], self.seed)
            lost = sum(1 for x, y in pairs if x > y)
            gained = sum(1 for x, y in pairs if y > x)
            both = sum(1 for x, y in pairs if x > 0 and y > 0)
            self.outcomes.append(
                [
                    spec.label + (f" ({spec.group})" if spec.group else ""),
                    str(both),
                    str(lost),
                    str(gained),
                    str(len(pairs) - both - lost - gained),
                    _fmt_p(comparison.p_value),
                    _fmt_p(unpaired_z_p(base, tuned)),
                ]
            )
        else:
            comparison = compare_continuous(base, tuned, self.seed)
        if not dropped:
            self._check_reported(spec, comparison)
        return comparison, binary, base + tuned

    def _corpus(self, spec: MetricSpec) -> PairedComparison | None:
        records_a = [self.a.items[k].values.get(spec.name) for k in self.keys]
        records_b = [self.b.items[k].values.get(spec.name) for k in self.keys]
        how = pooling(spec.aggregation, records_a + records_b)
        if isinstance(how, str):
            self.notes.append(f"{spec.name} is left out: {how}.")
            return None
        try:
            if how.stats is not None and how.score is not None:
                comparison = bootstrap_sums(how.stats(records_a), how.stats(records_b), how.score, seed=self.seed)
            else:
                assert how.direct is not None
                comparison = bootstrap_aggregate(records_a, records_b, how.direct, seed=self.seed)
        except (ValueError, TypeError, ZeroDivisionError, OverflowError, IndexError) as exc:
            self.notes.append(f"{spec.name} is left out: its records cannot be pooled by {spec.aggregation} ({exc}).")
            return None
        self._check_reported(spec, comparison)
        return comparison

    def _check_reported(self, spec: MetricSpec, comparison: PairedComparison) -> None:
        """Say so when the value recomputed here is not the one the tool reported."""
        for role, log, value in (("base", self.a, comparison.base), ("tuned", self.b, comparison.tuned)):
            other = log.metric(spec.name)
            reported = other.reported if other is not None else None
            if reported is not None and value is not None and not _close(reported, value):
                self.notes.append(
                    f"{spec.name} on {role}: recomputed {value:.6g} from the samples, where the log's results report "
                    f"{reported:.6g}."
                )

    def build_metrics(self) -> None:
        for spec in self.a.metrics:
            other = self.b.metric(spec.name)
            if other is None:
                continue
            if other.kind != spec.kind or other.aggregation != spec.aggregation:
                self.notes.append(
                    f"{spec.name} is left out: the two logs aggregate it differently ({spec.aggregation} on base, "
                    f"{other.aggregation} on tuned)."
                )
                continue
            if spec.kind == "per_item":
                found = self._per_item(spec)
                if found is None:
                    continue
                comparison, binary, values = found
                if self.score_metric is None:
                    self.score_metric = spec.name
            else:
                comparison = self._corpus(spec)
                if comparison is None:
                    continue
                binary, values = False, []
            metric = metric_from(comparison, self.task, spec.name, spec.label, group=spec.group)
            self._declare(metric, spec, values, binary, headline=not self.metrics)
            self.metrics.append(metric)
        only_a = [m.name for m in self.a.metrics if self.b.metric(m.name) is None]
        only_b = [m.name for m in self.b.metrics if self.a.metric(m.name) is None]
        for role, names in (("base", only_a), ("tuned", only_b)):
            if names:
                self.notes.append(f"only the {role} log has {', '.join(names)}: left out (nothing to pair with).")

    def _declare(self, metric: Metric, spec: MetricSpec, values: list[float], binary: bool, headline: bool) -> None:
        unit, margin = _unit(spec, values, binary)
        higher = spec.higher_is_better
        if higher is None and binary:
            higher = True
        decl = MetricDecl(
            name=spec.name, label=spec.label, unit=unit, higher_is_better=higher, margin=margin, headline=headline
        )
        override = self.margins.get(f"{self.task}.{spec.name}")
        declare(metric, decl, override)
        if override is None and margin is None and unit not in DEFAULT_MARGINS:
            self.notes.append(
                f"{spec.name}: tunelens knows no margin of equivalence for its scale; it uses {metric.margin:g} "
                f"(set one with --margin {self.task}.{spec.name}=X)."
            )

    # -- evidence ------------------------------------------------------------------------------

    def items(self) -> list[ItemRecord]:
        name = self.score_metric
        records = []
        for k in self.keys:
            ia: LogItem = self.a.items[k]
            ib: LogItem = self.b.items[k]
            extra = dict(ia.extra)
            if "epochs" in ib.extra or "epochs" in ia.extra:
                extra = {"base_epochs": ia.extra.get("epochs", 1), "tuned_epochs": ib.extra.get("epochs", 1)}
            records.append(
                ItemRecord(
                    item_id=k,
                    section=name or self.task,
                    input=ia.input,
                    expected=ia.expected,
                    base_output=ia.output,
                    tuned_output=ib.output,
                    base_score=_finite(ia.values.get(name)) if name else None,
                    tuned_score=_finite(ib.values.get(name)) if name else None,
                    extra=extra,
                )
            )
        return records

    def outcome_table(self) -> list[Table]:
        if not self.outcomes:
            return []
        return [
            Table(
                id=f"{self.task}-paired-outcomes",
                title="Paired outcomes",
                columns=["Metric", "Both right", "Lost", "Gained", "Both wrong", "McNemar p", "Unpaired z p"],
                rows=self.outcomes,
                caption="Lost: right on base, wrong on tuned; gained: the reverse. The paired test (exact McNemar, "
                "unadjusted) reads only the items whose outcome changed. The unpaired z-test of the two accuracies, "
                "as lm-eval's model comparison computes it, treats the two runs as independent samples: when the two "
                "models agree on most items, as a fine-tune and its base do, it needs a far larger change to see one.",
            )
        ]

    def description(self) -> str:
        n = len(self.keys)
        corpus = [m.name for m in self.metrics if m.test == "bootstrap_aggregate"]
        tests = (
            "binary outcomes: exact McNemar test; other per-item scores: paired t-test (exact sign-flip test when "
            "few differ)"
        )
        if corpus:
            tests += f"; corpus-level {', '.join(corpus)}: paired bootstrap of the aggregate ({KOEHN})"
        if self.a.source == "lm-eval":
            shots = self.a.info.get("num_fewshot")
            kind = self.a.info.get("output_type")
            setting = ", ".join(x for x in (kind, f"{shots}-shot" if shots is not None else None) if x)
            setting = f" ({setting})" if setting else ""
            return (
                f"lm-evaluation-harness task {self.task}{setting}: the {n} documents both models answered, paired "
                f"by doc_id; {tests}. The first metric is the task's headline."
            )
        epochs = max(int(self.a.info.get("epochs", 1)), int(self.b.info.get("epochs", 1)))
        per = f", each sample's {epochs} epochs averaged first" if epochs > 1 else ""
        return (
            f"inspect_ai task {self.task}: the {n} samples both models answered, paired by sample id{per}; {tests}. "
            "The first scorer is the task's headline."
        )

    def config(self) -> dict[str, Any]:
        return {
            "base_log": str(self.a.path),
            "tuned_log": str(self.b.path),
            "base": {k: v for k, v in self.a.info.items() if v is not None},
            "tuned": {k: v for k, v in self.b.info.items() if v is not None},
        }

    def result(self) -> ProbeResult:
        self.build_metrics()
        if not self.metrics:
            self.notes.append("no metric of this task could be paired: see the notes above.")
        return ProbeResult(
            name=self.task,
            title=self.task,
            description=self.description(),
            config=self.config(),
            metrics=self.metrics,
            items=self.items(),
            tables=self.outcome_table(),
            notes=self.notes,
        )
