"""Retrieval heads on the tiny model: the one-pass scorer equals step-by-step decoding with
attention outputs, head ablation changes only what it should and leaves the model as it
was, and the probe runs end to end with a valid result."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tunelens.engine import Engine
from tunelens.engine._attention import ablate_heads, attention_argmax, eos_ids, greedy_decode, head_grid
from tunelens.probes._needles import copy_scores, needle_instances, one_pass_argmax, rouge1_recall
from tunelens.probes._registry import BUDGETS, PROBES, ProbeContext
from tunelens.probes._retrieval_reference import reference_decode
from tunelens.probes.retrieval_heads import TEN_DEPTHS, RetrievalHeadsConfig, measure, retrieval_heads
from tunelens.results import ProbeResult, Verdict
from tunelens.stats import apply_verdicts, declare_all

pytestmark = pytest.mark.integration

TINY = RetrievalHeadsConfig(lengths=(48, 96), depths=(0.2, 0.8), per_cell=2, max_new_tokens=6, top_k=2, random_draws=2)


@pytest.fixture(scope="module")
def engine(tiny_loaded) -> Engine:
    return Engine(tiny_loaded)


def test_rouge1_recall() -> None:
    assert rouge1_recall("smoked paprika", "It is Smoked paprika!") == 1.0
    assert rouge1_recall("smoked paprika", "paprika") == 0.5
    assert rouge1_recall("a a b", "a b") == pytest.approx(2 / 3)


def test_needle_span_covers_the_needle(engine: Engine) -> None:
    for inst in needle_instances(engine, (64,), (0.0, 0.5, 1.0), 1, seed=3):
        start, end = inst.needle_span
        assert engine.tokenizer.decode(list(inst.prompt_ids[start:end])).strip() == inst.needle
        assert list(inst.prompt_ids) == engine.encode(inst.prompt)


def test_batched_greedy_ids_equal_one_needle_at_a_time(engine: Engine) -> None:
    """The probe decodes every needle's answer in one batch; the tokens are the ones a
    one-prompt greedy loop decodes, EOS excluded and the budget kept."""
    stop = eos_ids(engine.model, engine.tokenizer)
    instances = [i for seed in (1, 2) for i in needle_instances(engine, (48, 96), (0.3, 0.7), 1, seed=seed)]
    prompts = [i.prompt_ids for i in instances]
    assert len({len(p) for p in prompts}) > 1  # rows of unequal length share the batch
    batched = engine.greedy_token_ids(prompts, 8)
    assert batched == [greedy_decode(engine.model, p, 8, stop) for p in prompts]
    assert all(0 < len(ids) <= 8 for ids in batched)


@pytest.mark.parametrize("use_cache", [False, True])
def test_one_pass_equals_step_by_step(engine: Engine, use_cache: bool) -> None:
    model = engine.model
    stop = eos_ids(model, engine.tokenizer)
    copied = 0.0
    # Three draws of needles, so that the random model copies something in at least one.
    instances = [i for seed in (1, 2, 6) for i in needle_instances(engine, (64,), (0.3, 0.7), 1, seed=seed)]
    for inst in instances:
        ref_ids, ref_argmax = reference_decode(model, inst.prompt_ids, 8, stop, use_cache=use_cache)
        ids = greedy_decode(model, inst.prompt_ids, 8, stop)
        assert ids == ref_ids and ids
        argmax = one_pass_argmax(model, inst.prompt_ids, ids)
        assert argmax.shape == (*head_grid(model), len(ids))
        assert np.array_equal(argmax, ref_argmax)
        context = list(inst.prompt_ids) + ids
        # The random model rarely copies the needle; score against the whole context too so copies occur.
        for span in (inst.needle_span, (0, len(context))):
            ours = copy_scores(argmax, context, ids, span)
            assert np.array_equal(ours, copy_scores(ref_argmax, context, ids, span))
            assert ((ours >= 0) & (ours <= 1)).all()
            copied += float(ours.sum())
    assert copied > 0
    assert model.config._attn_implementation == "sdpa"


def test_attention_argmax_restores_implementation_on_error(engine: Engine) -> None:
    with pytest.raises(ValueError):
        attention_argmax(engine.model, [1, 2, 3], [5])
    before = engine.model.config._attn_implementation
    with pytest.raises(IndexError):
        attention_argmax(engine.model, [10**9, 2, 3], [1])  # an out-of-vocabulary id fails inside the pass
    assert engine.model.config._attn_implementation == before


def test_needles_are_distinct_and_fill_every_cell(engine: Engine) -> None:
    instances = needle_instances(engine, (48, 64), TEN_DEPTHS, 5, seed=0)
    assert len(instances) == 100 == len({i.needle for i in instances}) == len({i.id for i in instances})
    assert {(i.length, i.depth) for i in instances} == {(n, d) for n in (48, 64) for d in TEN_DEPTHS}


def test_every_budget_gives_needle_accuracy_its_items() -> None:
    spec = PROBES["retrieval_heads"]
    need = {"quick": 8, "standard": 60, "thorough": 200}
    for budget in BUDGETS:
        config = spec.config_for(budget)
        (decl,) = spec.headline
        assert decl.name == "needle_acc" and decl.items is not None
        assert decl.items(config) == len(config.lengths) * len(config.depths) * config.per_cell >= need[budget]


def test_ablate_heads_changes_only_inside_and_restores(engine: Engine) -> None:
    model = engine.model
    ids = torch.tensor([engine.encode("A short sentence about nothing in particular, repeated twice.")])
    params = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        before = model(input_ids=ids).logits
        with ablate_heads(model, [(0, 1), (1, 2)]):
            ablated = model(input_ids=ids).logits
        after = model(input_ids=ids).logits
        with ablate_heads(model, []):
            nothing = model(input_ids=ids).logits
    assert not torch.allclose(before, ablated)
    assert torch.equal(before, after) and torch.equal(before, nothing)
    assert all(torch.equal(params[k], v) for k, v in model.state_dict().items())
    # A masked head attends uniformly: its argmax is the first position it may see.
    with ablate_heads(model, [(1, 2)]):
        argmax = attention_argmax(model, ids[0].tolist(), [3, 7])
    assert argmax[1, 2].tolist() == [0, 0]
    with pytest.raises(ValueError), ablate_heads(model, [(5, 0)]):
        pass


def test_measure_without_recall_filter(engine: Engine) -> None:
    instances = needle_instances(engine, (48,), (0.5,), 2, seed=0)
    run = measure(engine, instances, 6, require_recall=False)
    assert run.scores.shape == head_grid(engine.model)
    assert all(s is not None for s in run.instance_scores)
    assert ((run.scores >= 0) & (run.scores <= 1)).all()


def test_probe_end_to_end_and_null_comparison(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    # The random tiny model recalls no needle; count every answer as recalled so the whole
    # path (scores, top heads, ablation) runs.
    monkeypatch.setattr("tunelens.probes.retrieval_heads.RECALL_THRESHOLD", -1.0)
    result = retrieval_heads(ProbeContext(base=engine, tuned=engine, seed=0), TINY)
    result = ProbeResult.model_validate(result.model_dump())
    assert declare_all(result.metrics, PROBES["retrieval_heads"].metrics) == []
    assert [m.name for m in result.metrics if m.headline] == ["needle_acc"]
    metrics = {m.name: m for m in result.metrics}
    assert {"needle_acc", "retrieval_head_share", "head_score", "needle_acc_top_masked"} <= metrics.keys()
    assert metrics["head_score"].n == np.prod(head_grid(engine.model))
    assert metrics["needle_acc_top_masked"].n == len(TINY.lengths) * len(TINY.depths) * TINY.per_cell
    for metric in result.metrics:  # the same model on both sides: nothing changes
        assert metric.delta in (0.0, None)
    heads = [i for i in result.items if i.section == "head retrieval scores"]
    assert len(heads) == np.prod(head_grid(engine.model))
    assert all(i.base_score == i.tuned_score for i in result.items)
    assert {p.id for p in result.plots} >= {"ablation", "heads-base", "heads-tuned", "heads-delta"}
    assert any("Jaccard" in n for n in result.notes)


def test_a_model_that_recalls_nothing_leaves_head_comparisons_inconclusive(engine: Engine) -> None:
    result = retrieval_heads(ProbeContext(base=engine, tuned=engine, seed=0), TINY)
    metrics = {m.name: m for m in result.metrics}
    assert metrics["needle_acc"].n == 8 and metrics["needle_acc"].base == 0.0
    for name in ("retrieval_head_share", "head_score", "needle_acc_top_masked", "needle_acc_random_masked"):
        assert metrics[name].n == 0 and metrics[name].p_value is None, name
    apply_verdicts(result.metrics)
    assert all(m.verdict == Verdict.inconclusive for m in result.metrics)  # needle_acc: 0% on both, at the floor
    assert not result.plots  # no heatmap of zeros, no ablation of nothing
    assert any("recalled none of the 8 needles" in n for n in result.notes)
