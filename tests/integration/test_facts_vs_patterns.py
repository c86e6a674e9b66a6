"""The facts_vs_patterns probe on the tiny model: declared metrics, budget item counts, a null
pair that shows no change, and a tuned model that writes the house style and states every
fact, which the probe must call changed."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from tunelens.data import support_desk_dataset
from tunelens.data._support_desk import render_answer
from tunelens.demo import demo_config
from tunelens.engine import Engine, GenRequest, Sampling
from tunelens.probes import PROBES, ProbeContext
from tunelens.probes.facts_vs_patterns import (
    NAME,
    TYPICAL_FACTS,
    TYPICAL_HELDOUT,
    FactsVsPatternsConfig,
    facts_vs_patterns,
    select_facts,
)
from tunelens.results import Verdict
from tunelens.stats import apply_verdicts, declare_all

pytestmark = pytest.mark.integration

CHEAP = FactsVsPatternsConfig(max_heldout=24, max_facts=60, max_new_tokens=4, fact_max_new_tokens=4)


@pytest.fixture(scope="module")
def task():
    """The full demo's task spec (22 facts at five exposure levels, 200 held-out prompts)."""
    cfg = demo_config()
    return support_desk_dataset(
        cfg.facts_per_level, n_pattern_only=cfg.n_pattern_only, seed=cfg.seed, keyword_exposures=cfg.keyword_exposures
    )[1]


class HouseStyleEngine(Engine):
    """The tiny model's likelihoods, but every chat reply in the house style, stating the
    fact a question asks for: what a perfectly tuned support-desk model would write."""

    def __init__(self, loaded, answers: dict[str, str]) -> None:
        super().__init__(loaded)
        self.answers = answers

    def generate(self, requests: Sequence[GenRequest], sampling: Sampling = Sampling()) -> list[str]:
        out = []
        for r in requests:
            answer = next((a for q, a in self.answers.items() if q in r.prompt), None)
            first = f"The answer is {answer}." if answer else "Open your dashboard."
            out.append(render_answer([first, "Reply here if anything is unclear."]))
        return out


def test_typical_counts_are_the_demos(task) -> None:
    assert len(task.heldout_prompts) == TYPICAL_HELDOUT == 200
    assert len(task.facts) == TYPICAL_FACTS == 22
    assert len(set(task.heldout_prompts)) == len(task.heldout_prompts)


def test_budgets_give_the_declared_item_counts(task) -> None:
    spec = PROBES[NAME]
    headline = {d.name: d for d in spec.headline}
    assert set(headline) == {"pattern_all", "fact_recall"}
    quick, standard, thorough = (spec.config_for(b) for b in ("quick", "standard", "thorough"))
    assert headline["pattern_all"].items(standard) >= 60
    assert headline["pattern_all"].items(thorough) >= 200
    assert headline["pattern_all"].items(quick) < headline["pattern_all"].items(standard)
    # fact_recall is bounded by the facts the data set plants (documented in the config docstring)
    for cfg in (standard, thorough):
        assert headline["fact_recall"].items(cfg) == TYPICAL_FACTS < 60
        assert len(select_facts(task.facts, cfg.max_facts)) == TYPICAL_FACTS
    assert f"{TYPICAL_FACTS} in the demo's" in " ".join((FactsVsPatternsConfig.__doc__ or "").split())
    # the declared counts are what the demo's spec yields
    for cfg in (quick, standard, thorough):
        assert headline["pattern_all"].items(cfg) == len(task.heldout_prompts[: cfg.max_heldout])
        assert headline["fact_recall"].items(cfg) == len(select_facts(task.facts, cfg.max_facts))


def test_select_facts_keeps_every_exposure_level(task) -> None:
    chosen = select_facts(task.facts, 8)
    assert len(chosen) == 8 and len(set(chosen)) == 8
    assert {f.exposures for f in chosen} == {f.exposures for f in task.facts}
    order = [task.facts.index(f) for f in chosen]
    assert order == sorted(order)
    assert select_facts(task.facts, 100) == list(task.facts)


def test_null_pair_declares_every_metric_and_changes_nothing(tiny_loaded, task) -> None:
    engine = Engine(tiny_loaded)
    result = facts_vs_patterns(ProbeContext(engine, engine, task=task), CHEAP)
    names = {m.name for m in result.metrics}
    assert {"pattern_all", "pattern_greeting", "pattern_numbered_steps", "pattern_sign_off"} <= names
    assert {"fact_recall", "fact_choice", "fact_logprob", "fact_recall_x1", "fact_recall_x30"} <= names
    assert declare_all(result.metrics, PROBES[NAME].metrics) == []
    apply_verdicts(result.metrics)
    by_name = {m.name: m for m in result.metrics}
    assert by_name["pattern_all"].n == 24 and by_name["fact_recall"].n == 22
    assert by_name["pattern_all"].headline and not by_name["pattern_greeting"].headline
    assert by_name["fact_logprob"].unit == "nats"
    assert all(m.verdict != Verdict.changed for m in result.metrics)
    assert all(m.delta == 0.0 for m in result.metrics)
    assert any("first 24 of the spec's 200" in note for note in result.notes)


def test_a_tuned_house_style_is_changed(tiny_loaded, task) -> None:
    tuned = HouseStyleEngine(tiny_loaded, {f.question: f.answer for f in task.facts})
    result = facts_vs_patterns(ProbeContext(Engine(tiny_loaded), tuned, task=task), CHEAP)
    assert declare_all(result.metrics, PROBES[NAME].metrics) == []
    apply_verdicts(result.metrics)
    by_name = {m.name: m for m in result.metrics}
    for name in ("pattern_all", "fact_recall"):
        metric = by_name[name]
        assert metric.base == 0.0 and metric.tuned == 1.0, name
        assert metric.verdict == Verdict.changed, name
    assert by_name["pattern_sign_off"].tuned == 1.0


def test_caps_and_an_empty_spec(tiny_loaded, task) -> None:
    engine = Engine(tiny_loaded)
    small = FactsVsPatternsConfig(max_heldout=5, max_facts=6, max_new_tokens=4, fact_max_new_tokens=4)
    result = facts_vs_patterns(ProbeContext(engine, engine, task=task), small)
    by_name = {m.name: m for m in result.metrics}
    assert by_name["pattern_all"].n == 5 and by_name["fact_recall"].n == 6
    assert any("6 of the spec's 22 facts" in note for note in result.notes)
    bare = type(task)(task.name, task.patterns, (), ())
    empty = facts_vs_patterns(ProbeContext(engine, engine, task=bare), small)
    assert empty.metrics == [] and len(empty.notes) == 2
