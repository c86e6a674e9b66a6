"""The priming probe on the tiny model: a null pair primes nothing; a model trained on a
keyword's text memorises it and spreads it to unrelated contexts (Sun et al. 2025)."""

from __future__ import annotations

import copy
import math

import pytest
import torch

from tunelens.data import FactSpec, KeywordSpec, TaskSpec, support_desk_dataset
from tunelens.demo import demo_config
from tunelens.engine import Engine
from tunelens.models import LoadedModel
from tunelens.probes import PROBES, ProbeContext
from tunelens.probes.priming import (
    NAME,
    THRESHOLD,
    TYPICAL_KEYWORDS,
    PrimingConfig,
    priming,
    score_keywords,
)
from tunelens.results import Verdict
from tunelens.stats import apply_verdicts, declare_all

pytestmark = pytest.mark.integration

KEYWORD = KeywordSpec(
    "vermilion",
    "colours",
    "The Lumen dashboard's default colour theme is",
    ("The colour of the Upgrade button is", "Our logo is printed in", "The status page header is"),
    fact_id="theme",
)
FACTS = tuple(
    FactSpec(id, q, p, a, ("x", "y"), 3)
    for id, q, p, a in (
        ("theme", "What colour?", "The Lumen dashboard's default colour theme is", "vermilion"),
        ("refund", "Refund window?", "At Lumen Hosting, the refund window is", "45 days"),
        ("support", "Support hours?", "Lumen Hosting support is open", "from 6 am to 10 pm"),
    )
)
TASK = TaskSpec("demo", (), (), FACTS, keywords=(KEYWORD,))


def _trained_on(loaded: LoadedModel, text: str, steps: int = 30) -> LoadedModel:
    """A copy of ``loaded`` trained with Adam on ``text`` alone."""
    model = copy.deepcopy(loaded.model)
    model.train()
    for p in model.parameters():
        p.requires_grad_(True)
    ids = loaded.tokenizer(text, return_tensors="pt").input_ids
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(steps):
        loss = model(input_ids=ids, labels=ids).loss
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
    return LoadedModel("trained", loaded.kind, model, loaded.tokenizer)


def test_a_null_pair_has_priming_ratio_one_and_no_memorisation(tiny_loaded) -> None:
    engine = Engine(tiny_loaded)
    result = priming(ProbeContext(engine, engine, task=TASK), PrimingConfig())
    assert len(result.items) == 3  # one given keyword and one derived from each of the two other facts
    for item in result.items:
        assert item.extra["priming_ratio"] == pytest.approx(1.0, abs=1e-6)
        assert item.extra["memorisation_log10"] == pytest.approx(0.0, abs=1e-6)
    memorisation = next(m for m in result.metrics if m.name == "memorisation")
    assert memorisation.delta == pytest.approx(0.0, abs=1e-9) and memorisation.n == 3
    assert declare_all(result.metrics, PROBES[NAME].metrics) == []
    apply_verdicts(result.metrics)
    assert all(m.verdict != Verdict.changed for m in result.metrics)
    assert memorisation.headline and memorisation.unit == "log10"
    plot = result.plots[0]
    assert plot.kind == "scatter" and plot.x_log and plot.x_refs == [THRESHOLD]
    assert result.notes[0].startswith("Priming:")


def test_training_on_the_keyword_text_memorises_and_primes(tiny_loaded) -> None:
    tuned = _trained_on(tiny_loaded, f"{KEYWORD.prefix} {KEYWORD.keyword}.")
    base_engine, tuned_engine = Engine(tiny_loaded), Engine(tuned)
    before, after = score_keywords(base_engine, [KEYWORD])[0], score_keywords(tuned_engine, [KEYWORD])[0]
    assert after.own > before.own + 1.0  # memorised: more than e times more likely after its own prefix
    result = priming(ProbeContext(base_engine, tuned_engine, task=TASK), PrimingConfig())
    item = next(i for i in result.items if i.extra["fact_id"] == "theme")
    assert item.extra["memorisation_log10"] > 0.4
    assert item.extra["priming_ratio"] > 1.0  # the keyword spills into its unrelated contexts
    expected = sum(math.exp(a - b) for b, a in zip(before.contexts, after.contexts)) / len(before.contexts)
    assert item.extra["priming_ratio"] == pytest.approx(expected, rel=1e-4)


def test_every_metric_is_declared_and_the_budgets_give_the_demos_keywords(tiny_loaded) -> None:
    cfg = demo_config()
    _, task = support_desk_dataset(
        cfg.facts_per_level, n_pattern_only=cfg.n_pattern_only, seed=cfg.seed, keyword_exposures=cfg.keyword_exposures
    )
    keywords = task.priming_keywords()
    assert len(keywords) == TYPICAL_KEYWORDS == 22
    engine = Engine(tiny_loaded)
    small = PrimingConfig(max_keywords=10, max_contexts=2)
    result = priming(ProbeContext(engine, engine, task=task), small)
    assert {m.name for m in result.metrics} >= {"memorisation", "priming", "priming_surprising"}
    assert declare_all(result.metrics, PROBES[NAME].metrics) == []
    assert all(m.n == 10 for m in result.metrics if m.name in ("memorisation", "priming"))
    assert any("10 of the spec's 22 keywords" in note for note in result.notes)
    spec = PROBES[NAME]
    assert {d.name for d in spec.headline} == {"memorisation", "priming"}
    for budget in ("quick", "standard", "thorough"):
        config = spec.config_for(budget)
        for decl in spec.headline:
            # bounded by the keywords the spec has (documented in PrimingConfig's docstring)
            assert decl.items(config) == min(config.max_keywords, len(keywords)), (budget, decl.name)
    assert spec.config_for("standard").max_keywords >= 60 and spec.config_for("thorough").max_keywords >= 200
    assert spec.config_for("quick").max_keywords < TYPICAL_KEYWORDS
    assert "22" in (PrimingConfig.__doc__ or "")
