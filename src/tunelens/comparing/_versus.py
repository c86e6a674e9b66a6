"""Methods against a reference method, on the same items: "better than" as a verdict.

Every method of a comparison is audited on the same items (same probes, configs, task and
seed), and each audit keeps every headline metric's per-item outcomes
(``Metric.tuned_values``, paired by position with the base's ``base_values``). Two methods'
outcomes pair item by item when their audits kept the same items in the same order, which
the base's side shows: the base model is one, so its outcomes match exactly when the items
do. A metric whose items depend on the tuned model (the facts both models know) can keep
different items for two methods; then there is no paired test, and the cell says why.

Each paired test is the audit's own (exact McNemar for right/wrong outcomes, the sign-flip
or paired t test for scores) on (reference, method) in place of (base, tuned), and all of a
table's tests are corrected together with Holm's step-down method (Holm 1979), so a cell
that says "better than lora" is a corrected verdict, not a reading of two intervals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tunelens.comparing._schema import Column, MethodRow, Versus
from tunelens.results import Metric
from tunelens.stats import compare_binary, compare_continuous
from tunelens.stats._paired import holm_adjust

PAIRED_TESTS = frozenset({"mcnemar", "sign_flip_exact", "paired_t"})
"""Tests on per-item outcomes, which pair across methods; an aggregate's bootstrap does not."""
ALPHA = 0.05
VERDICT_WORDS = {"better": "better than", "worse": "worse than", "differs": "differs from"}
"""How a verdict reads before the reference method's name, wherever it is shown."""


def _same(a: Sequence[float] | None, b: Sequence[float] | None) -> bool:
    return a is not None and b is not None and len(a) == len(b) and all(abs(x - y) <= 1e-9 for x, y in zip(a, b))


def _versus(reference: str, ref: Metric, other: Metric) -> Versus:
    if ref.test not in PAIRED_TESTS or ref.tuned_values is None or other.tuned_values is None:
        return Versus(reference=reference, verdict="not_paired", reason="no per-item outcomes to pair")
    if not _same(ref.base_values, other.base_values):
        sizes = f"n={ref.n} each" if ref.n == other.n else f"n={ref.n} and n={other.n}"
        return Versus(
            reference=reference,
            verdict="not_paired",
            reason=f"the two audits kept different items ({sizes}): which items count depends on the model",
        )
    if ref.test == "mcnemar":
        result = compare_binary([bool(x) for x in ref.tuned_values], [bool(x) for x in other.tuned_values])
    else:
        result = compare_continuous(ref.tuned_values, other.tuned_values)
    fields = {name: getattr(result, name) for name in ("delta", "ci_low", "ci_high", "n", "test", "p_value")}
    return Versus(reference=reference, verdict="no_difference_shown", **fields)  # the correction may say more


def versus_reference(
    rows: Sequence[MethodRow],
    metrics: Mapping[str, Mapping[str, Metric]],
    reference: str,
    columns: Sequence[Column],
    alpha: float = ALPHA,
) -> int:
    """Fill each cell's ``versus`` (every method but ``reference``, every column) and correct
    the tests together; returns how many tests were made. ``metrics``: each method's audit
    metrics by 'probe.metric'."""
    if reference not in metrics:
        return 0
    tested: list[Versus] = []
    for row in rows:
        if row.method == reference or row.method not in metrics:
            continue
        for column in columns:
            ref, other = metrics[reference].get(column.metric), metrics[row.method].get(column.metric)
            cell = row.cells.get(column.metric)
            if cell is None or ref is None or other is None:
                continue
            cell.versus = _versus(reference, ref, other)
            if cell.versus.p_value is not None:
                tested.append(cell.versus)
    for versus, adjusted in zip(tested, holm_adjust([v.p_value for v in tested])):
        versus.p_adjusted = adjusted
        versus.n_tests = len(tested)
    by_metric = {c.metric: c for c in columns}
    for row in rows:
        for metric, cell in row.cells.items():
            versus = cell.versus
            if versus is None or versus.verdict == "not_paired":
                continue
            column = by_metric[metric]
            if versus.p_adjusted is None or versus.p_adjusted >= alpha or not versus.delta:
                versus.verdict = "no_difference_shown"
            elif column.higher_is_better is None:
                versus.verdict = "differs"
            else:
                versus.verdict = "better" if (versus.delta > 0) == column.higher_is_better else "worse"
    return len(tested)
