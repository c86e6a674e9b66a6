"""The cot_faithfulness probe end to end on the tiny model.

A random 2-layer model writes no sentences worth the name and no numbers, so most tests
script the chain of thought and the arithmetic answers (a number that depends on the
context, so curves move); the chains' continuations after a mistake and every
multiple-choice answer by likelihood are the tiny model's own. The interventions then run
on a known three-sentence chain and can be checked exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from tunelens.engine import Engine, GenRequest, LLRequest, LLResult, Sampling
from tunelens.models import LoadedModel
from tunelens.probes import PROBES
from tunelens.probes._cot import number_values, split_sentences
from tunelens.probes._registry import ProbeContext
from tunelens.probes.cot_faithfulness import (
    ANSWER_CUE,
    GRID,
    CotFaithfulnessConfig,
    cot_faithfulness,
    cot_items,
)
from tunelens.results import ProbeResult
from tunelens.stats import apply_verdicts, declare_all

pytestmark = pytest.mark.integration

TINY = CotFaithfulnessConfig(
    n_word_problems=5,
    n_facts=3,
    max_cot_tokens=12,
    continuation_tokens=6,
    answer_tokens=3,
    mistake_positions=2,
    n_examples=2,
)
SCRIPT = "Ben has 5 apples. He buys 3 more, so he has 5 + 3 = 8.\nThen he gives 2 away, so 8 - 2 = 6 are left."


class ScriptedChains(Engine):
    """The tiny model, except that every chain of thought is SCRIPT and every arithmetic
    answer a number read off its context; records what it is asked."""

    def __init__(self, loaded: LoadedModel) -> None:
        super().__init__(loaded)
        self.generated: list[GenRequest] = []
        self.scored: list[LLRequest] = []

    def generate(self, requests: Sequence[GenRequest], sampling: Sampling = Sampling()) -> list[str]:
        self.generated += requests
        scripted = {
            TINY.max_cot_tokens: lambda r: SCRIPT,
            TINY.answer_tokens: lambda r: f" {r.prompt.count('.') % 3}.",
        }
        others = [r for r in requests if r.max_new_tokens not in scripted]
        replies = iter(super().generate(others, sampling) if others else [])
        return [scripted[r.max_new_tokens](r) if r.max_new_tokens in scripted else next(replies) for r in requests]

    def loglikelihood(self, requests: Sequence[LLRequest]) -> list[LLResult]:
        self.scored += requests
        return super().loglikelihood(requests)


@pytest.fixture(scope="module")
def scripted(tiny_loaded) -> tuple[ProbeResult, ScriptedChains]:
    engine = ScriptedChains(tiny_loaded)
    result = cot_faithfulness(ProbeContext(base=engine, tuned=engine, seed=0), TINY)
    apply_verdicts(result.metrics)
    return result, engine


def test_registered_after_retrieval_heads() -> None:
    names = list(PROBES)
    assert PROBES["cot_faithfulness"].config_type is CotFaithfulnessConfig
    assert names.index("cot_faithfulness") == names.index("retrieval_heads") + 1


def test_result_is_valid_with_every_metric(scripted) -> None:
    result, _ = scripted
    assert ProbeResult.model_validate_json(result.model_dump_json()) == result
    n_items = TINY.n_word_problems + TINY.n_facts
    by_name = {m.name: m for m in result.metrics}
    assert set(by_name) == {
        "cot_accuracy",
        "no_cot_accuracy",
        "early_answering_aoc",
        "adding_mistakes_aoc",
        "early_answering_aoc_normalised",
        "paraphrase_accuracy",
        "paraphrase_accuracy_change",
        "paraphrase_same_answer",
        "filler_accuracy",
        "filler_accuracy_change",
    }
    # Every scripted chain has three sentences: every item is usable for both models.
    assert all(m.n == n_items for m in result.metrics)
    assert 0.0 <= by_name["early_answering_aoc"].base <= 1.0
    assert any(f"base {n_items} of {n_items}" in note for note in result.notes)


def test_every_metric_is_declared_with_two_headlines(scripted) -> None:
    result, _ = scripted
    spec = PROBES["cot_faithfulness"]
    assert declare_all(result.metrics, spec.metrics) == []
    assert [d.name for d in spec.headline] == ["cot_accuracy", "early_answering_aoc"]
    by_name = {m.name: m for m in result.metrics}
    assert by_name["early_answering_aoc"].unit == "score" and by_name["cot_accuracy"].unit == "accuracy"
    # A change in accuracy can be negative: not a bounded unit, so no floor is read into it.
    assert by_name["filler_accuracy_change"].margin == 0.05 and by_name["filler_accuracy_change"].room == ""


@pytest.mark.parametrize(("budget", "least"), [("standard", 60), ("thorough", 200)])
def test_budgets_give_every_headline_metric_enough_items(budget: str, least: int) -> None:
    spec = PROBES["cot_faithfulness"]
    config = spec.config_for(budget)
    for decl in spec.headline:
        assert decl.items is not None and decl.items(config) >= least, decl.name
    items = cot_items(config, seed=0)
    assert len(items) == config.n_items and len({i.question for i in items}) == len(items)


def test_null_comparison_changes_nothing(scripted) -> None:
    result, _ = scripted
    for metric in result.metrics:
        assert metric.delta in (0.0, None), metric
        assert metric.verdict != "changed"
    assert all(i.base_output == i.tuned_output for i in result.items)


def test_plots_have_both_models_on_the_grid(scripted) -> None:
    result, _ = scripted
    assert [p.id for p in result.plots] == ["early-answering", "adding-mistakes"]
    for plot in result.plots:
        assert plot.kind == "line"
        assert [s.name for s in plot.series] == ["base", "tuned"]
        for series in plot.series:
            assert series.y_low is not None and series.y_high is not None
            for y, low, high in zip(series.y, series.y_low, series.y_high):
                assert y is None or (low is not None and high is not None and 0.0 <= low <= y <= high <= 1.0)
    early, mistakes = result.plots
    assert all(s.x == list(GRID) and None not in s.y for s in early.series)
    # With the whole chain kept the answer is the full-chain answer by definition.
    assert early.series[0].y[-1] == 1.0
    # Mistakes are pooled in quarter bins; the scripted chain has 3 sentences, so a mistake
    # sits at 0, 1/3 or 2/3 of it and the last bin stays empty.
    assert mistakes.series[0].x == [0.125, 0.375, 0.625, 0.875]
    assert mistakes.series[0].y[-1] is None and any(y is not None for y in mistakes.series[0].y)


def test_answers_are_elicited_after_every_truncation_paraphrase_filler_and_mistake(scripted) -> None:
    _, engine = scripted
    item = cot_items(TINY, seed=0)[0]
    assert item.kind == "word problem"
    prompt = engine.chat_prompt(item.user)
    answer_prompts = [r.prompt for r in engine.generated if r.max_new_tokens == TINY.answer_tokens]
    mine = [p[len(prompt) :] for p in answer_prompts if p.startswith(prompt)]
    sentences = split_sentences(SCRIPT)
    for k in range(len(sentences) + 1):
        chain = " ".join(sentences[:k])
        assert (f"{chain}\n{ANSWER_CUE}" if chain else ANSWER_CUE) in mine
    assert any(m.startswith("... ...") for m in mine), "filler"
    assert any("purchases three more" in m for m in mine), "paraphrase"
    # Facts are answered by likelihood after the same cue, one request per option.
    assert any(r.context.endswith(ANSWER_CUE) for r in engine.scored)
    # Each mistake continues the chain from a sentence with one number changed.
    continued = [
        r.prompt[len(prompt) :]
        for r in engine.generated
        if r.max_new_tokens == TINY.continuation_tokens and r.prompt.startswith(prompt)
    ]
    assert continued
    for text in continued:
        last = split_sentences(text)[-1]
        original = sentences[len(split_sentences(text)) - 1]
        assert last != original and len(number_values(last)) == len(number_values(original))


def test_items_show_chains_interventions_and_both_answers(scripted) -> None:
    result, _ = scripted
    sections = [i.section for i in result.items]
    n_items = TINY.n_word_problems + TINY.n_facts
    assert sum(s.startswith("early answering") for s in sections) == n_items
    assert sections.count("adding mistakes") == TINY.n_examples
    assert sections.count("paraphrase") == sections.count("filler") == TINY.n_examples
    early = result.items[0]
    assert "[1] Ben has 5 apples." in early.base_output and "Answer with k sentences kept" in early.base_output
    assert len(early.extra["base_answers_by_sentences_kept"]) == 4
    mistake = next(i for i in result.items if i.section == "adding mistakes")
    assert "changed" in mistake.base_output and "unchanged chain" in mistake.base_output


def test_unusable_chains_are_counted_and_left_inconclusive(tiny_loaded) -> None:
    engine = Engine(tiny_loaded)
    cfg = CotFaithfulnessConfig(n_word_problems=3, n_facts=0, max_cot_tokens=8, answer_tokens=3)
    result = cot_faithfulness(ProbeContext(base=engine, tuned=engine, seed=0), cfg)
    apply_verdicts(result.metrics)
    by_name = {m.name: m for m in result.metrics}
    assert by_name["cot_accuracy"].n == 3
    aoc = by_name["early_answering_aoc"]
    assert aoc.n < 8 and aoc.verdict == "inconclusive" and aoc.reason.startswith("too few items")
    assert any("Too few items" in note for note in result.notes)


def test_no_mistakes_skips_the_continuations(tiny_loaded) -> None:
    engine = ScriptedChains(tiny_loaded)
    cfg = CotFaithfulnessConfig(n_word_problems=2, n_facts=1, max_cot_tokens=12, answer_tokens=3, mistake_positions=0)
    result = cot_faithfulness(ProbeContext(base=engine, tuned=engine, seed=0), cfg)
    by_name = {m.name: m for m in result.metrics}
    assert by_name["adding_mistakes_aoc"].n == 0 and by_name["early_answering_aoc"].n == 3
    assert not [r for r in engine.generated if r.max_new_tokens == cfg.continuation_tokens]
    assert all(y is None for y in result.plots[1].series[0].y)
