"""Retrieval heads on the embedded SmolLM2-135M-Instruct: it recalls short-haystack needles,
its head scores are shares in [0, 1], and the one-pass scorer matches step-by-step decoding
with attention outputs on a real model."""

from __future__ import annotations

import numpy as np
import pytest

from tunelens.engine import Engine
from tunelens.engine._attention import eos_ids, head_grid
from tunelens.probes._needles import copy_scores, needle_instances, one_pass_argmax
from tunelens.probes._retrieval_reference import reference_decode
from tunelens.probes.retrieval_heads import measure

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def engine() -> Engine:
    from tunelens.models import load_model

    return Engine(load_model("embedded:smollm2-135m-instruct"))


def test_needles_recalled_and_scores_are_shares(engine: Engine) -> None:
    instances = needle_instances(engine, (128, 256), (0.5,), 1, seed=0)
    run = measure(engine, instances, 16)
    assert sum(run.recalled) >= 1, run.answers
    assert run.scores.shape == head_grid(engine.model) == (30, 9)
    assert ((run.scores >= 0) & (run.scores <= 1)).all()
    assert run.scores.max() > 0  # a recalled needle is copied by some head


def test_one_pass_matches_reference(engine: Engine) -> None:
    model = engine.model
    inst = needle_instances(engine, (128,), (0.5,), 1, seed=0)[0]
    ref_ids, ref_argmax = reference_decode(model, inst.prompt_ids, 12, eos_ids(model, engine.tokenizer), use_cache=True)
    argmax = one_pass_argmax(model, inst.prompt_ids, ref_ids)
    context = list(inst.prompt_ids) + ref_ids
    agree = float((argmax == ref_argmax).mean())
    assert agree > 0.99  # float rounding may flip a near-tie between two positions
    ours = copy_scores(argmax, context, ref_ids, inst.needle_span)
    theirs = copy_scores(ref_argmax, context, ref_ids, inst.needle_span)
    assert np.abs(ours - theirs).max() <= 1.0 / (inst.needle_span[1] - inst.needle_span[0]) + 1e-9
