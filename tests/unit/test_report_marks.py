"""Report pieces the locality probe added: a marked span inside an item's input, the badge
and count of descriptive metrics (no test), and grid heatmaps (no model)."""

from __future__ import annotations

import re

from tunelens.report import render_html
from tunelens.report._sections import items_details, marked
from tunelens.results import AuditResults, ItemRecord, Metric, ModelInfo, Plot, ProbeResult
from tunelens.stats import apply_verdicts


def test_marked_wraps_the_span_and_escapes_every_part() -> None:
    text = "a <b> & then <script>"
    assert marked(text, [3, 6]) == "a &lt;<mark>b&gt; </mark>&amp; then &lt;script&gt;"
    assert marked(text, None) == marked(text, [5, 99]) == marked(text, [3, 1]) == marked(text, ["0", 1])
    assert "<mark>" not in marked(text, None)


def test_items_table_marks_the_highlighted_token() -> None:
    item = ItemRecord(item_id="hot-1", section="KL hot spots", input="The cat<sat", extra={"highlight": [7, 11]})
    html = items_details([item])
    assert "The cat<mark>&lt;sat</mark>" in html


def _model(ref: str) -> ModelInfo:
    return ModelInfo(
        ref=ref, kind="directory", n_params=1, n_layers=2, n_heads=4, dtype="float32", tokenizer_fingerprint="f"
    )


def test_descriptive_metrics_get_their_own_badge_and_count() -> None:
    common = dict(probe="locality", ci_low=None, ci_high=None)
    metrics = [
        Metric(name="cka", label="CKA", base=1.0, tuned=0.9, delta=-0.1, n=50, test="descriptive", **common),
        Metric(
            name="layer",
            label="layer",
            base=3.0,
            tuned=3.0,
            delta=0.0,
            n=4,
            test="paired_bootstrap",
            p_value=1.0,
            **common,
        ),
    ]
    apply_verdicts(metrics)
    results = AuditResults(
        tunelens_version="0",
        created="2026-01-01T00:00:00+00:00",
        seed=0,
        base=_model("b"),
        tuned=_model("t"),
        probes=[ProbeResult(name="locality", title="Locality", description="", metrics=metrics)],
    )
    html = render_html(results)
    assert '<span class="badge descriptive">descriptive</span>' in html
    assert '<span class="badge inconclusive">inconclusive</span><small class="why">too few items' in html
    counts = dict(re.findall(r'class="count (\w+)" data-n="(\d+)"', html))
    assert counts == {"changed": "0", "equivalent": "0", "inconclusive": "1"}
    assert "1 metric tested across 1 probe" in html
    assert "1 metric describes the pair without a test." in html


def test_grid_plot_rows_columns_and_empty_cells() -> None:
    plot = Plot.grid("g", "Grid", ["L0", "other"], ["q", "embed"], [[0.5, None], [None, 2]], x_label="matrix")
    assert [s.name for s in plot.series] == ["L0", "other"]
    assert plot.series[0].x == ["q", "embed"] and plot.series[0].y == [0.5, None] and plot.series[1].y == [None, 2.0]
    heads = Plot.layer_head("h", "Heads", [[1, 2, 3]])
    assert heads.series[0].name == "L0" and heads.series[0].x == ["h0", "h1", "h2"] and heads.y_label == "layer"
