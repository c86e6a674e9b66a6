"""Methods against a reference method on the same items: paired tests, Holm-corrected over the
table, verdicts in the metric's direction, and no test where the audits kept different items."""

from __future__ import annotations

from tunelens.comparing._schema import Cell, Column, MethodRow
from tunelens.comparing._versus import versus_reference
from tunelens.stats import make_metric
from tunelens.stats._paired import holm_adjust

RECALL = Column(metric="facts_vs_patterns.fact_recall", label="Facts recalled", side="gain", higher_is_better=True)
LOSS = Column(metric="forgetting.general_text_nll", label="General-text loss", side="cost", higher_is_better=False)


def _metric(column: Column, base, tuned, binary: bool):
    probe, name = column.metric.split(".")
    return make_metric(probe, name, column.label, base, tuned, binary=binary, higher_is_better=column.higher_is_better)


def _row(method: str) -> MethodRow:
    cells = {c.metric: Cell(metric=c.metric) for c in (RECALL, LOSS)}
    return MethodRow(method=method, ref=method, audit_dir="", reused=False, cells=cells)


def test_paired_verdicts_against_the_reference_are_corrected_together() -> None:
    base_recall = [0] * 40
    base_loss = [2.0 + 0.01 * i for i in range(40)]
    metrics = {
        "lora": {
            RECALL.metric: _metric(RECALL, base_recall, [1] * 6 + [0] * 34, True),
            LOSS.metric: _metric(LOSS, base_loss, [x + 0.30 for x in base_loss], False),
        },
        "split": {  # recalls far more, same loss
            RECALL.metric: _metric(RECALL, base_recall, [1] * 30 + [0] * 10, True),
            LOSS.metric: _metric(
                LOSS, base_loss, [x + 0.30 + (0.001 if i % 2 else -0.001) for i, x in enumerate(base_loss)], False
            ),
        },
        "full": {  # recalls as much as lora, loses more
            RECALL.metric: _metric(RECALL, base_recall, [0] * 34 + [1] * 6, True),
            LOSS.metric: _metric(LOSS, base_loss, [x + 0.50 + 0.002 * i for i, x in enumerate(base_loss)], False),
        },
    }
    rows = [_row("lora"), _row("split"), _row("full")]
    n = versus_reference(rows, metrics, "lora", [RECALL, LOSS])
    assert n == 4
    assert all(c.versus is None for c in rows[0].cells.values())  # the reference itself
    split_recall = rows[1].cells[RECALL.metric].versus
    assert split_recall.verdict == "better" and split_recall.delta > 0.5 and split_recall.test == "mcnemar"
    assert rows[1].cells[LOSS.metric].versus.verdict == "no_difference_shown"
    full_loss = rows[2].cells[LOSS.metric].versus
    assert full_loss.verdict == "worse" and full_loss.delta > 0.15  # higher loss is worse
    # The same recall on other items: six discordant pairs each way, no difference
    full_recall = rows[2].cells[RECALL.metric].versus
    assert full_recall.delta == 0 and full_recall.verdict == "no_difference_shown"
    tested = [c.versus for r in rows[1:] for c in r.cells.values()]
    assert [v.p_adjusted for v in tested] == holm_adjust([v.p_value for v in tested])
    assert all(v.n_tests == 4 for v in tested)


def test_no_paired_test_where_the_audits_kept_different_items() -> None:
    metrics = {
        "lora": {RECALL.metric: _metric(RECALL, [0, 1, 0, 1], [1, 1, 0, 1], True)},
        "split": {RECALL.metric: _metric(RECALL, [0, 1, 1], [1, 1, 1], True)},  # another item set
    }
    rows = [_row("lora"), _row("split")]
    assert versus_reference(rows, metrics, "lora", [RECALL]) == 0
    versus = rows[1].cells[RECALL.metric].versus
    assert versus.verdict == "not_paired" and "different items" in versus.reason


def test_a_failed_reference_leaves_the_cells_alone() -> None:
    rows = [_row("split")]
    assert versus_reference(rows, {"split": {}}, "lora", [RECALL]) == 0
    assert rows[0].cells[RECALL.metric].versus is None
