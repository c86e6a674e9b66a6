"""The self_conditioning probe end to end on the tiny model: a valid result, one metric per
error rate, both curves in the plot, and no change when both sides are the same model."""

from __future__ import annotations

import pytest

from tunelens.engine import Engine
from tunelens.probes._registry import BUDGETS, PROBES, ProbeContext
from tunelens.probes.self_conditioning import (
    FLOOR,
    SelfConditioningConfig,
    self_conditioning,
)
from tunelens.results import ProbeResult, Verdict
from tunelens.stats import apply_verdicts, declare_all, wilson_interval

pytestmark = pytest.mark.integration

RATES = (0.0, 0.5, 1.0)
TINY = SelfConditioningConfig(n_episodes=4, error_rates=RATES, n_turns=4, dict_size=4, max_new_tokens=4)


@pytest.fixture(scope="module")
def null_result(tiny_loaded) -> ProbeResult:
    engine = Engine(tiny_loaded)
    result = self_conditioning(ProbeContext(base=engine, tuned=engine, seed=0), TINY)
    assert declare_all(result.metrics, PROBES["self_conditioning"].metrics) == []
    apply_verdicts(result.metrics)
    return result


def test_registered() -> None:
    assert PROBES["self_conditioning"].config_type is SelfConditioningConfig


def test_every_metric_is_declared_and_the_headlines_are_clean_accuracy_and_drop(null_result: ProbeResult) -> None:
    assert {m.name for m in null_result.metrics if m.headline} == {"acc_errors_0", "self_conditioning_drop"}
    drop = next(m for m in null_result.metrics if m.name == "self_conditioning_drop")
    assert drop.unit == "rate difference" and drop.higher_is_better is False  # a difference in [-1, 1], unbounded below


def test_every_budget_gives_the_headline_metrics_their_items() -> None:
    spec = PROBES["self_conditioning"]
    need = {"quick": 8, "standard": 60, "thorough": 200}
    for budget in BUDGETS:
        config = spec.config_for(budget)
        assert 0.0 in config.error_rates and len(config.error_rates) >= 2
        for decl in spec.headline:
            assert decl.items is not None and decl.items(config) >= need[budget], (budget, decl.name)


def test_result_is_valid_with_a_metric_per_rate(null_result: ProbeResult) -> None:
    again = ProbeResult.model_validate_json(null_result.model_dump_json())
    assert again == null_result
    groups = [m.group for m in null_result.metrics if m.name.startswith("acc_errors_")]
    assert groups == ["0% errors", "50% errors", "100% errors"]
    assert all(m.n == TINY.n_episodes for m in null_result.metrics if m.name.startswith("acc_errors_"))
    assert {m.name for m in null_result.metrics} >= {"self_conditioning_drop"}
    assert len(null_result.items) == len(RATES) * TINY.n_episodes
    item = null_result.items[-1]
    assert item.expected is not None and item.extra["error_turns"] == [1, 2]


def test_null_comparison_has_zero_deltas_and_no_change(null_result: ProbeResult) -> None:
    for metric in null_result.metrics:
        assert metric.delta in (0.0, None)
        assert metric.verdict != Verdict.changed
    assert all(i.base_output == i.tuned_output for i in null_result.items)


def test_plot_has_both_curves_with_intervals(null_result: ProbeResult) -> None:
    (plot,) = null_result.plots
    assert [s.name for s in plot.series] == ["base", "tuned"]
    for series in plot.series:
        assert series.x == list(RATES)
        assert series.y_low is not None and series.y_high is not None
        for y, low, high in zip(series.y, series.y_low, series.y_high):
            assert low is not None and high is not None and y is not None
            assert low <= y <= high


def test_render_chat_uses_the_template_or_plain_turns(tiny_loaded) -> None:
    engine = Engine(tiny_loaded)
    messages = [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "apple"},
        {"role": "assistant", "content": "Sum: 3"},
        {"role": "user", "content": "river"},
    ]
    text = engine.chat_messages(messages)
    assert text.index("apple") < text.index("Sum: 3") < text.index("river")
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == 1.0


def test_render_chat_without_a_template_falls_back_to_plain_turns() -> None:
    from types import SimpleNamespace

    tokenizer = SimpleNamespace(chat_template=None, pad_token_id=0)
    engine = Engine(SimpleNamespace(model=None, tokenizer=tokenizer, rewrite_messages=None))  # type: ignore[arg-type]
    messages = [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "Sum: 1"},
    ]
    text = engine.chat_messages(messages + [{"role": "user", "content": "b"}])
    assert text == "S\n\nUser: a\nAssistant: Sum: 1\nUser: b\nAssistant:"


def test_floor_is_noted_when_clean_accuracy_leaves_no_room(null_result: ProbeResult) -> None:
    clean = next(m for m in null_result.metrics if m.group == "0% errors")
    at_floor = any("near the floor" in n for n in null_result.notes)
    assert at_floor == (clean.base is not None and clean.base <= FLOOR)


def test_drop_is_compared_only_when_neither_model_is_at_the_floor(
    tiny_loaded, null_result: ProbeResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The random tiny model scores 0%: at the floor, its drop is left inconclusive.
    drop = next(m for m in null_result.metrics if m.name == "self_conditioning_drop")
    assert drop.n == 0 and drop.verdict == Verdict.inconclusive
    monkeypatch.setattr("tunelens.probes.self_conditioning.FLOOR", -1.0)
    engine = Engine(tiny_loaded)
    result = self_conditioning(ProbeContext(base=engine, tuned=engine, seed=0), TINY)
    drop = next(m for m in result.metrics if m.name == "self_conditioning_drop")
    assert drop.n == TINY.n_episodes and drop.delta == 0.0
