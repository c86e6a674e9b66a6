"""The forgetting probe on the tiny model: every metric it emits is declared, a model
against itself shows no change, and each budget gives its headline metrics the items the
budget promises (60 at standard, 200 at thorough)."""

from __future__ import annotations

import pytest

from tunelens.data import arithmetic_items, world_facts
from tunelens.engine import Engine
from tunelens.probes import PROBES, ProbeContext
from tunelens.probes.forgetting import QUICK, ForgettingConfig
from tunelens.results import ProbeResult, Verdict
from tunelens.stats import apply_verdicts, declare_all

pytestmark = pytest.mark.integration

TINY = ForgettingConfig(
    n_text_chunks=6, chars_per_chunk=300, facts_per_category=2, n_arithmetic=8, n_instructions=6, max_new_tokens=8
)
MINIMUM = {"standard": 60, "thorough": 200}


@pytest.fixture(scope="module")
def null_result(tiny_loaded) -> ProbeResult:
    engine = Engine(tiny_loaded)
    result = PROBES["forgetting"].run(ProbeContext(engine, engine, seed=0), TINY)
    assert declare_all(result.metrics, PROBES["forgetting"].metrics) == []
    apply_verdicts(result.metrics)
    return result


def test_every_emitted_metric_is_declared(null_result: ProbeResult) -> None:
    spec = PROBES["forgetting"]
    names = {m.name for m in null_result.metrics}
    assert {
        "general_text_nll",
        "world_facts_acc",
        "arithmetic_choice_acc",
        "arithmetic_ten_bias",
        "arithmetic_acc",
    } <= names
    assert declare_all(null_result.metrics, spec.metrics) == []
    headline = {m.name for m in null_result.metrics if m.headline}
    assert (
        headline == {d.name for d in spec.headline} == {"general_text_nll", "world_facts_acc", "arithmetic_choice_acc"}
    )
    text = next(m for m in null_result.metrics if m.name == "general_text_nll")
    assert (text.unit, text.higher_is_better) == ("nats/token", False)
    bias = next(m for m in null_result.metrics if m.name == "arithmetic_ten_bias")
    assert (bias.unit, bias.higher_is_better) == ("ratio", None)
    assert all(
        m.unit == "rate" for m in null_result.metrics if m.name not in ("general_text_nll", "arithmetic_ten_bias")
    )


def test_null_pair_shows_no_change(null_result: ProbeResult) -> None:
    for metric in null_result.metrics:
        assert metric.delta == 0.0, metric.name
        assert metric.verdict != Verdict.changed, metric.name
    assert all(i.base_score == i.tuned_score for i in null_result.items)


def test_item_counts_match_the_declarations(null_result: ProbeResult) -> None:
    """The n each headline metric reports is what its declaration says for the config."""
    spec = PROBES["forgetting"]
    for decl in spec.headline:
        metric = next(m for m in null_result.metrics if m.name == decl.name)
        assert decl.items is not None and metric.n == decl.items(TINY), decl.name


def test_arithmetic_items_carry_their_slips(null_result: ProbeResult) -> None:
    arithmetic = [i for i in null_result.items if i.section == "arithmetic"]
    assert len(arithmetic) == TINY.n_arithmetic
    for record in arithmetic:
        choices = record.extra["choices"]
        assert choices[0] == record.expected and len(set(choices)) == 4
        assert record.extra["base_choice"] in choices
        assert record.extra["base_choice_right"] == (record.extra["base_choice"] == record.expected)


@pytest.mark.parametrize("budget", ["standard", "thorough"])
def test_budgets_reach_their_headline_item_counts(budget: str) -> None:
    spec = PROBES["forgetting"]
    config = spec.config_for(budget)
    assert len(spec.headline) == 3
    for decl in spec.headline:
        assert decl.items is not None and decl.items(config) >= MINIMUM[budget], (budget, decl.name)
    # The declared counts are the true ones: distinct facts and arithmetic items.
    facts = world_facts(config.facts_per_category, seed=0)
    assert len(facts) == len({(f.category, f.subject) for f in facts}) >= MINIMUM[budget]
    problems = arithmetic_items(config.n_arithmetic, seed=0)
    assert len({p.expression for p in problems}) == config.n_arithmetic


def test_quick_stays_small() -> None:
    spec = PROBES["forgetting"]
    assert spec.quick == QUICK
    assert QUICK.n_text_chunks <= 16 and QUICK.n_arithmetic <= 16 and QUICK.n_instructions <= 12
    assert spec.config_for("standard").n_instructions <= 24  # chat generation is the costly part on a CPU
