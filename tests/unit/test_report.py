"""Unit tests of the HTML report and its SVG plots, on hand-built results (no model).

Run: PYTHONPATH=src python -m pytest tests/unit/test_report.py -q
"""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import pytest

from tunelens.report import render_html, write_report
from tunelens.report._format import fmt_ci, fmt_delta, fmt_num, fmt_p, fmt_value
from tunelens.report._svg import bar_plot, line_plot, render_plot
from tunelens.results import (
    SCHEMA_VERSION,
    AuditResults,
    ItemRecord,
    Metric,
    ModelInfo,
    Plot,
    ProbeResult,
    Series,
    TrainingInfo,
    Verdict,
)

SCRIPT = "<script>alert(1)</script>"
IMG = '<img src=x onerror="alert(2)">'
URL = "https://evil.example/x.js"


def metric(name: str, probe: str, verdict: str, **kw: object) -> Metric:
    fields: dict[str, object] = {
        "name": name,
        "probe": probe,
        "label": name.replace("_", " "),
        "base": 0.5,
        "tuned": 0.5,
        "delta": 0.0,
        "ci_low": -0.01,
        "ci_high": 0.01,
        "n": 100,
        "test": "paired_bootstrap",
        "p_value": 0.5,
        "p_adjusted": 1.0,
        "verdict": verdict,
    }
    fields.update(kw)
    return Metric.model_validate(fields)


def model(ref: str) -> ModelInfo:
    return ModelInfo(
        ref=ref,
        kind="embedded",
        n_params=134_515_008,
        n_layers=30,
        n_heads=9,
        dtype="float32",
        tokenizer_fingerprint="3f9a0c1d2e4b5a69",
    )


def make_results(n_items: int = 3) -> AuditResults:
    forgetting = ProbeResult(
        name="forgetting",
        title="Forgetting",
        description=f"General capability before and after. {SCRIPT}",
        metrics=[
            metric(
                "arithmetic_acc",
                "forgetting",
                "changed",
                unit="accuracy",
                higher_is_better=True,
                base=0.62,
                tuned=0.41,
                delta=-0.21,
                ci_low=-0.3,
                ci_high=-0.12,
                test="mcnemar",
                p_value=1e-5,
                p_adjusted=6e-5,
            ),
            metric(
                "world_facts",
                "forgetting",
                "changed",
                unit="accuracy",
                higher_is_better=True,
                base=0.7,
                tuned=0.74,
                delta=0.04,
                ci_low=0.01,
                ci_high=0.07,
                test="mcnemar",
                p_value=0.004,
                p_adjusted=0.02,
            ),
            metric(
                "perplexity",
                "forgetting",
                "equivalent",
                unit="nats/token",
                higher_is_better=False,
                base=3.1,
                tuned=3.11,
                delta=0.01,
                ci90_low=-0.005,
                ci90_high=0.02,
                margin=0.03,
            ),
            metric(
                "instruction_following",
                "forgetting",
                "inconclusive",
                reason="too few items (4 paired; a verdict needs at least 8)",
                unit="rate",
                n=4,
                p_value=None,
                p_adjusted=None,
                test="none",
                label=f"instructions {IMG}",
            ),
        ],
        items=[
            ItemRecord(
                item_id=f"f{i}",
                section="arithmetic",
                input=f"What is {i} + {i}? {URL}",
                expected=str(2 * i),
                base_output=str(2 * i),
                tuned_output=f"{SCRIPT} {2 * i + 1}",
                base_score=1.0,
                tuned_score=0.0 if i % 2 else 1.0,
            )
            for i in range(n_items)
        ],
        plots=[
            Plot(
                id="acc-by-exposure",
                title=f"Accuracy by exposure {SCRIPT}",
                kind="line",
                x_label="exposures",
                y_label="accuracy",
                x_log=True,
                series=[
                    Series(
                        name="base",
                        x=[1, 2, 4, 8, 16],
                        y=[0.1, 0.2, None, 0.5, 0.6],
                        y_low=[0.05, 0.1, None, 0.4, 0.5],
                        y_high=[0.15, 0.3, None, 0.6, 0.7],
                    ),
                    Series(name=f"tuned {SCRIPT}", x=[1, 2, 4, 8, 16], y=[0.2, 0.3, 0.4, 0.6, 0.8]),
                ],
            ),
        ],
        notes=[f"Only {n_items} arithmetic items; intervals are wide. {SCRIPT}"],
        config={"n_items": n_items, "seed": 0},
        seconds=12.5,
    )
    context = ProbeResult(
        name="context",
        title="Context faithfulness",
        description="Knowledge conflicts between the prompt and the weights.",
        metrics=[
            metric(
                "context_recall",
                "context",
                "changed",
                unit="rate",
                higher_is_better=None,
                base=0.8,
                tuned=0.6,
                delta=-0.2,
                ci_low=-0.28,
                ci_high=-0.12,
                p_adjusted=0.0004,
            ),
            metric("memorization_ratio", "context", "equivalent", group="high exposure", margin=0.05),
        ],
        plots=[
            Plot(
                id="formats",
                title="Answer formats",
                kind="bar",
                x_label="format",
                y_label="share",
                series=[
                    Series(
                        name="base",
                        x=["list", "prose", "json"],
                        y=[0.3, 0.6, 0.1],
                        y_low=[0.25, 0.55, 0.05],
                        y_high=[0.35, 0.65, 0.15],
                    ),
                    Series(name="tuned", x=["list", "prose", "json"], y=[0.7, 0.2, None]),
                ],
            ),
        ],
    )
    return AuditResults(
        tunelens_version="0.1.0",
        created="2025-05-04T10:20:30+00:00",
        seed=1234,
        base=model(f"embedded:smollm2-135m-instruct {SCRIPT}"),
        tuned=model("runs/lora-capitals"),
        training=TrainingInfo(
            method="lora",
            data="capitals.jsonl",
            n_examples=500,
            epochs=3,
            steps=120,
            learning_rate=2e-4,
            batch_size=8,
            trainable_params=1_843_200,
            loss_curve=[(s, 3.0 / (1 + s / 20)) for s in range(0, 121, 10)],
            seconds=95.0,
            checkpoint="runs/lora-capitals",
        ),
        probes=[forgetting, context],
        summary=["Arithmetic accuracy fell by 21 points.", f"World facts improved slightly. {SCRIPT}"],
    )


class _Walker(HTMLParser):
    """Collects tags, attributes, ids and text, and checks that elements nest properly."""

    VOID: ClassVar[set[str]] = {"meta", "br", "hr", "img", "input", "link", "wbr", "col", "area", "base", "source"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []
        self.ids: list[str] = []
        self.tags: list[str] = []
        self.style = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._record(tag, attrs)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._record(tag, attrs)

    def _record(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for k, v in attrs:
            self.attrs.append((tag, k, v or ""))
            if k == "id":
                self.ids.append(v or "")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1] == "style":
            self.style += data


def walk(html: str) -> _Walker:
    w = _Walker()
    w.feed(html)
    w.close()
    return w


@pytest.fixture(scope="module")
def html() -> str:
    return render_html(make_results())


def first_screen(html: str) -> str:
    start = html.index('id="tl-what-changed"')
    return html[start : html.index("</section>", start)]


def test_markup_is_well_formed_with_unique_ids(html: str) -> None:
    w = walk(html)
    assert w.errors == []
    assert w.stack == []
    assert len(w.ids) == len(set(w.ids))
    assert html.startswith("<!DOCTYPE html>")


def test_sections_anchors_and_contents(html: str) -> None:
    w = walk(html)
    for probe in ("forgetting", "context"):
        assert probe in w.ids
        assert ("a", "href", f"#{probe}") in w.attrs
    assert {"tl-what-changed", "tl-training", "tl-contents"} <= set(w.ids)
    assert html.index('id="forgetting"') < html.index('id="context"')
    assert "How the model was tuned" in html and "1.84M" in html
    assert "Every number here is read from results.json" in html and f"results schema {SCHEMA_VERSION}" in html
    assert "seed 1234" in html and "tunelens 0.1.0" in html and "2025-05-04 10:20 UTC" in html


def test_user_text_and_model_output_are_escaped(html: str) -> None:
    assert "<script" not in html.lower()
    assert "<img" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "onerror" not in {k for _, k, _ in walk(html).attrs}


def test_no_external_urls_outside_escaped_text(html: str) -> None:
    w = walk(html)
    for tag, key, value in w.attrs:
        assert not re.search(r"https?://|^\s*//", value), (tag, key, value)
        assert key not in {"src", "srcset", "action", "formaction"}, (tag, key)
    assert "http" not in w.style and "url(" not in w.style and "@import" not in w.style
    assert 'src="//' not in html
    assert "https://evil.example" in html  # the item text survives, as text
    outside_text = re.sub(r">[^<]*<", "><", html)
    assert "http://" not in outside_text and "https://" not in outside_text
    assert "Content-Security-Policy" in html and "default-src 'none'" in html


def test_plots_render_inline_as_svg(html: str) -> None:
    assert html.count("<svg") == 3  # two probe plots and the loss curve
    assert "Training loss" in html and "Answer formats" in html
    assert "Accuracy by exposure &lt;script&gt;" in html


def test_first_screen_counts_and_changed_table(html: str) -> None:
    screen = first_screen(html)
    counts = dict(re.findall(r'class="count (\w+)" data-n="(\d+)"', screen))
    assert counts == {"changed": "3", "equivalent": "2", "inconclusive": "1"}
    assert "6 metrics tested across 2 probes" in screen and "Holm" in screen and "0.05" in screen
    shown_same = screen[screen.index('<table class="equivalent"') : screen.index('id="tl-inconclusive"')]
    assert "perplexity" in shown_same and "memorization ratio" in shown_same and "±0.03" in shown_same
    unsure = screen[screen.index('<table class="inconclusive"') :]
    assert "instructions" in unsure and "too few items (4 paired" in unsure
    table = screen[screen.index('<table class="changed"') : screen.index('id="tl-equivalent"')]
    for label in ("arithmetic acc", "world facts", "context recall"):
        assert label in table
    for label in ("perplexity", "memorization ratio", "instructions"):
        assert label not in table
    rows = re.findall(r'<tr class="(\w+)"><td class="lbl">([^<]+)', table)
    # largest change relative to the metric's size first: arithmetic (-34%), context (-25%), facts (+5%)
    assert rows == [("worse", "arithmetic acc"), ("neutral", "context recall"), ("better", "world facts")]
    assert "62.0%" in table and "41.0%" in table and "\u221221.0 pp" in table and "&lt;0.001" in table


def test_verdict_badges_in_probe_tables(html: str) -> None:
    assert '<span class="badge changed worse">changed</span>' in html
    assert '<span class="badge changed better">changed</span>' in html
    assert '<span class="badge equivalent">equivalent</span>' in html
    assert '<span class="badge inconclusive">inconclusive</span><small class="why">too few items' in html
    assert "high exposure" in html  # group column shown when a probe has groups


def test_nothing_changed_is_said_plainly() -> None:
    results = make_results()
    for p in results.probes:
        for m in p.metrics:
            m.verdict = Verdict.equivalent
    screen = first_screen(render_html(results))
    assert "No change detected" in screen and '<table class="changed"' not in screen


def test_items_are_capped_with_a_note() -> None:
    html = render_html(make_results(n_items=250))
    assert "Showing 200 of 250 items" in html
    assert "50 left out here are in results.json" in html
    assert html.count("What is ") == 200


def test_number_formatting() -> None:
    assert fmt_p(0.0004) == "<0.001" and fmt_p(0.003) == "0.003" and fmt_p(0.0412) == "0.04" and fmt_p(None) == "\u2014"
    assert fmt_value(0.4567, "accuracy") == "45.7%" and fmt_value(3.14159, "nats/token") == "3.14"
    assert fmt_delta(-0.12, "rate") == "\u221212.0 pp" and fmt_delta(0.5, "") == "+0.500"
    assert fmt_ci(-0.3, 0.1, "accuracy") == "[\u221230.0, +10.0]"
    assert fmt_num(12345.6) == "12,346" and fmt_num(0.000012345) == "1.23e\u221205"
    assert fmt_num(float("nan")) == "\u2014" and fmt_num(None) == "\u2014"


def test_svg_plots_directly() -> None:
    results = make_results()
    line, bar = results.probes[0].plots[0], results.probes[1].plots[0]
    svg = line_plot(line)
    assert svg.startswith("<svg") and svg.endswith("</svg>") and "<polyline" in svg and "<polygon" in svg
    assert "&lt;script&gt;" in svg and "<script" not in svg
    assert svg.count("<polygon") == 2  # the band breaks where y_low/y_high are missing
    assert ">10<" in svg  # a decade tick on the log axis
    svg = bar_plot(bar)
    assert svg.count("<rect") == 2 + 5  # two legend swatches, five bars (one value is None)
    assert "<path" in svg  # error bars
    assert render_plot(bar) == svg
    cat = Plot(id="c", title="c", kind="line", series=[Series(name="s", x=["a", "b", "c"], y=[1.0, None, 3.0])])
    assert "<circle" in render_plot(cat) and "<polyline" not in render_plot(cat)
    empty = Plot(id="e", title="e", kind="bar", series=[Series(name="s", x=[], y=[])])
    assert "no data" in render_plot(empty)


def test_write_report_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "deep" / "dir" / "report.html"
    assert write_report(make_results(), target) == target
    assert target.read_text(encoding="utf-8") == render_html(make_results())
    assert os.listdir(target.parent) == ["report.html"]

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    before = target.read_text(encoding="utf-8")
    with pytest.raises(OSError):
        write_report(make_results(n_items=1), target)
    assert target.read_text(encoding="utf-8") == before
    assert os.listdir(target.parent) == ["report.html"]


def test_layer_head_heatmap() -> None:
    from tunelens.report._heatmap import heatmap_svg

    plot = Plot.layer_head("heads", "Score per head", [[0.0, 0.5, 1.0], [0.25, 0.0, 0.0]])
    assert plot.kind == "heatmap" and [s.name for s in plot.series] == ["L0", "L1"]
    assert plot.series[0].x == ["h0", "h1", "h2"] and plot.series[1].y == [0.25, 0.0, 0.0]
    svg = heatmap_svg(plot)
    assert svg.count("<rect") == 6 + 3  # one cell per head, three colour-key swatches
    assert 'fill="#2f5d8a"' in svg and "L1, h0: 0.25" in svg  # the maximum at full colour; a tooltip per cell
    diverging = heatmap_svg(Plot.layer_head("delta", "Change", [[-1.0, 0.5]]))
    cells = re.findall(r'<rect [^>]*fill="(#[0-9a-f]{6})"><title>', diverging)
    assert cells == ["#2f5d8a", "#f0c280"]  # -1 at full blue, +0.5 half way from white to orange
    assert "no data to plot" in heatmap_svg(Plot.layer_head("empty", "Empty", []))


def test_scatter_plot_draws_points_without_lines_and_a_reference_line() -> None:
    from tunelens.report._svg import render_plot
    from tunelens.results import Plot, Series

    points = Series(name="keywords", x=[1e-5, 1e-3 * 3, 0.2], y=[1.5, 0.2, 0.0])
    scatter = render_plot(Plot(id="s", title="t", kind="scatter", x_log=True, x_refs=[1e-3], series=[points]))
    assert "<polyline" not in scatter and scatter.count("<circle") == 3
    assert 'stroke-dasharray="4 3"' in scatter
    line = render_plot(Plot(id="l", title="t", kind="line", x_log=True, series=[points]))
    assert "<polyline" in line and "stroke-dasharray" not in line


def test_an_incomplete_audit_says_so_and_how_to_resume() -> None:
    results = make_results()
    assert "Incomplete" not in render_html(results)
    results.complete = False
    page = render_html(results)
    assert "Incomplete: the audit stopped before its last probe" in page and "Run the same command again" in page
