"""The context probe end to end on the tiny model: closed-book rounds, the conflict
conditions on the facts both models know, declarations and budgets."""

from __future__ import annotations

import pytest

from tunelens.engine import Engine
from tunelens.probes import BUDGETS, PROBES, ProbeContext
from tunelens.probes.context import ContextConfig
from tunelens.results import ProbeResult, Verdict
from tunelens.stats import apply_verdicts, declare_all

pytestmark = pytest.mark.integration


def test_context_probe_runs_and_a_null_pair_shows_no_change(tiny_loaded) -> None:
    engine = Engine(tiny_loaded)
    # The random tiny model knows nothing closed-book: the rounds spend the (capped) pool.
    cfg = ContextConfig(target_known=4, min_round=6, max_facts=14, max_new_tokens=6)
    result = PROBES["context"].run(ProbeContext(engine, engine), cfg)
    ProbeResult.model_validate(result.model_dump())
    names = {m.name for m in result.metrics}
    for variant in ("plain", "opinion", "instructed"):
        assert {f"{variant}_p_s", f"{variant}_p_o", f"{variant}_memorization_ratio"} <= names
    assert declare_all(result.metrics, PROBES["context"].metrics) == []
    apply_verdicts(result.metrics)
    assert all(m.delta in (0.0, None) for m in result.metrics)
    assert all(m.verdict != Verdict.changed for m in result.metrics)
    assert {m.name for m in result.metrics if m.headline} == {"instructed_p_s", "plain_memorization_ratio"}
    assert {m.name: m.n for m in result.metrics}["closed_book_acc"] == 14
    # Round 1 asks ceil(1.1 * 4 / 0.4) = 11; with none known, round 2 asks the 3 left.
    assert "spent the packaged pool of 14 facts before the target" in result.notes[0]
    assert "after 2 round(s) and 14 facts asked" in result.notes[0]
    assert result.plots[0].series[0].x == ["plain", "opinion", "instructed"]


def test_known_items_are_asked_under_every_context(tiny_loaded, monkeypatch: pytest.MonkeyPatch) -> None:
    # Count every reply as a mention so every fact is known: one round reaches the target,
    # and only the first target of the known facts are asked again under each context.
    monkeypatch.setattr("tunelens.probes.context.mentions", lambda reply, answer: True)
    engine = Engine(tiny_loaded)
    cfg = ContextConfig(target_known=6, min_round=10, max_new_tokens=2)
    result = PROBES["context"].run(ProbeContext(engine, engine), cfg)
    metrics = {m.name: m for m in result.metrics}
    # One round of ceil(1.1 * 6 / 0.4) = 17 facts, all known.
    assert metrics["closed_book_acc"].n == 17 and metrics["closed_book_acc"].base == 1.0
    assert metrics["plain_p_s"].n == 6 and metrics["consistent_acc"].base == 1.0
    assert len(result.items) == 6
    item = result.items[0]
    assert item.base_output == item.tuned_output and item.input.endswith("\nA:")
    assert set(item.extra) == {"closed_book", "consistent", "irrelevant", "opinion", "instructed"}
    assert item.extra["opinion"]["base"] == item.extra["opinion"]["tuned"]
    assert (
        "reached the target: 6 facts both models know (target 6), after 1 round(s) and 17 facts asked"
        in (result.notes[0])
    )


def test_rounds_grow_until_the_paired_set_reaches_the_target(tiny_loaded, monkeypatch: pytest.MonkeyPatch) -> None:
    # Only element symbols (one or two letters) count as known: a fifth of the interleaved
    # pool, half the expected share, so the first round falls short and a second one follows.
    monkeypatch.setattr("tunelens.probes.context.mentions", lambda reply, answer: len(answer) <= 2)
    engine = Engine(tiny_loaded)
    cfg = ContextConfig(target_known=8, min_round=5, max_new_tokens=2)
    result = PROBES["context"].run(ProbeContext(engine, engine), cfg)
    metrics = {m.name: m for m in result.metrics}
    asked = metrics["closed_book_acc"].n
    assert metrics["instructed_p_s"].n == 8 and len(result.items) == 8
    assert all(i.section == "counterfactual: element_symbol" for i in result.items)
    # Round 1 asks ceil(1.1 * 8 / 0.4) = 22 facts (4 symbols); round 2 asks for the 4 missing at 4/22.
    assert asked == 22 + 25
    assert "reached the target" in result.notes[0] and "after 2 round(s)" in result.notes[0]


def test_every_budget_gives_the_headline_metrics_their_items() -> None:
    spec = PROBES["context"]
    assert {d.name for d in spec.headline} == {"instructed_p_s", "plain_memorization_ratio"}
    need = {"quick": 1, "standard": 60, "thorough": 200}
    for budget in BUDGETS:
        config = spec.config_for(budget)
        for decl in spec.headline:
            assert decl.items is not None and decl.items(config) >= need[budget], (budget, decl.name)
    assert spec.config_for("quick").target_known < spec.config_for("standard").target_known
