"""The comparison page: one point per method with both intervals, colours only behind a
corrected verdict, and the stale-fact table, all from compare.json's models."""

from __future__ import annotations

from tunelens.comparing import COLUMNS, Cell, ComparisonResults, MethodRow, StaleFact, StaleStage
from tunelens.comparing._html import render_comparison_html, trade_off_svg

NLL, STYLE = "forgetting.general_text_nll", "facts_vs_patterns.pattern_all"


def _row(method: str, nll: tuple[float, float, float], style: tuple[float, float, float], verdict: str) -> MethodRow:
    cells = {
        NLL: Cell(metric=NLL, base=3.0, value=3.0 + nll[0], delta=nll[0], ci_low=nll[1], ci_high=nll[2], n=16,
                  verdict=verdict),
        STYLE: Cell(metric=STYLE, base=0.0, value=style[0], delta=style[0], ci_low=style[1], ci_high=style[2], n=8,
                    verdict=verdict),
    }  # fmt: skip
    fact = StaleFact(id="f", old="75 days", new="30 days", logprob_old=-1.0, logprob_new=-2.0, share_new=0.27,
                     reply="Kept for 75 days.", says_old=True, says_new=False)  # fmt: skip
    stage = StaleStage(stage="update", ref="x", facts=[fact], share_new=0.27, says_old=1.0, says_new=0.0)
    return MethodRow(method=method, ref=method, audit_dir="", reused=False, cells=cells, stale=[stage])


def _results() -> ComparisonResults:
    columns = [c.model_copy() for c in COLUMNS]
    for c in columns:
        c.higher_is_better = c.metric != NLL
    return ComparisonResults(
        tunelens_version="0", created="2026-01-01T00:00:00+00:00", base="b", data="d.jsonl", n_examples=10,
        task="t", seed=0, columns=columns, changed_facts=["f: 75 days → 30 days"],
        methods=[_row("lora", (0.5, 0.4, 0.6), (1.0, 0.8, 1.0), "changed"),
                 _row("retrieval", (0.0, 0.0, 0.0), (0.1, -0.2, 0.4), "no_change")],
    )  # fmt: skip


def test_trade_off_plot_has_a_point_and_whiskers_per_method() -> None:
    svg = trade_off_svg(_results(), NLL, STYLE)
    assert svg.count("<circle") == 2
    assert svg.count('stroke-width="1.6"') == 2 and "lora" in svg and "retrieval" in svg


def test_page_colours_only_corrected_changes_and_shows_the_update() -> None:
    page = render_comparison_html(_results())
    assert 'class="d worse"' in page and 'class="d better"' in page  # lora: more loss (worse), more style
    assert page.count('class="d worse"') == 1 and page.count('class="d better"') == 1  # retrieval: uncoloured
    assert "Stale facts" in page and "75 days → 30 days" in page and "27%" in page
    assert "lora: loss on general text" in page or "lora: held-out replies in the trained pattern" in page
