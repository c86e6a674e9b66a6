"""A generation batch's prompt pass (``engine._prefill``): the prefix the prompts share runs
once and their own tokens run in length groups whose caches are merged; every row then
decodes what it would alone, on the tiny model."""

from __future__ import annotations

import pytest
import torch

from tunelens.engine import Engine, GenRequest, Sampling
from tunelens.engine._prefill import prefill, prefill_padded, shared_prefix

pytestmark = pytest.mark.integration

QUESTIONS = [
    "Hi",
    "What is the capital of France?",
    "Write a short poem about the sea, the wind and the long grey winter evenings by the harbour.",
    "2+2?",
    "Explain photosynthesis to a child in a few sentences, with one example from a garden.",
    "Name three colours.",
    "Tell me a joke about cats and dogs that live in the same small flat in a big city.",
]


def _engine(tiny_loaded, overhead: int = 0) -> Engine:
    engine = Engine(tiny_loaded)
    engine.step_overhead_tokens = overhead  # 0: every length its own group, any shared prefix its own pass
    return engine


def test_shared_prefix_leaves_every_prompt_a_token_of_its_own() -> None:
    assert shared_prefix([[1, 2, 3, 4], [1, 2, 3, 5], [1, 2, 9]]) == 2
    assert shared_prefix([[1, 2], [1, 2]]) == 1
    assert shared_prefix([[7], [7, 8]]) == 0


def test_grouped_prefill_gives_the_padded_pass_logits_and_runs_the_prefix_once(tiny_loaded) -> None:
    engine = _engine(tiny_loaded)
    prompts = [engine.encode(engine.chat_prompt(q)) for q in QUESTIONS]
    shared = shared_prefix(prompts)
    assert shared > 10  # the chat template's system prompt and opening tags
    with torch.inference_mode():
        plain = prefill_padded(engine, prompts)
        engine.reset_counters()
        grouped = prefill(engine, prompts)
    assert sorted(grouped.order) == list(range(len(prompts)))
    back = torch.argsort(torch.tensor(grouped.order))
    assert torch.allclose(grouped.logits[back], plain.logits, atol=1e-4)
    assert grouped.next_pos[back].tolist() == [len(p) for p in prompts]
    # the prefix once, then each prompt's own tokens; no group pads more than the one padded pass
    real = sum(len(p) - shared for p in prompts)
    assert engine.counters["positions"] - engine.counters["padding"] == shared + real
    assert engine.counters["passes"] >= 3
    assert engine.counters["positions"] < len(prompts) * max(len(p) for p in prompts)
    # the merged mask marks the prefix and each prompt's own tokens, nothing else
    assert grouped.mask.sum(-1)[back].tolist() == [len(p) for p in prompts]
    assert grouped.cache.get_seq_length() == grouped.mask.shape[1]


@pytest.mark.parametrize("overhead", [0, 48, 10**9])
def test_generation_is_what_each_prompt_gives_alone(tiny_loaded, overhead: int) -> None:
    """Rows end at different steps (budgets 4 to 22 tokens) and leave the batch as they do."""
    engine = _engine(tiny_loaded, overhead)
    requests = [GenRequest(engine.chat_prompt(q), max_new_tokens=4 + 3 * k) for k, q in enumerate(QUESTIONS)]
    alone = Engine(tiny_loaded, gen_max_batch=1)
    assert engine.generate(requests) == [alone.generate([r])[0] for r in requests]
    # A request's draws come from its own stream (seeded by its place in the call), so a
    # sampled batch equals the same call with one padded prompt pass.
    padded = _engine(tiny_loaded, overhead)
    padded.prefill_merges = False
    sampling = Sampling(temperature=1.0, seed=5)
    assert engine.generate(requests, sampling) == padded.generate(requests, sampling)


def test_a_cache_the_merge_cannot_repad_falls_back_to_one_padded_pass(tiny_loaded) -> None:
    """A model whose cache is not plain full-attention layers (here: one reported as such)
    gets the padded pass, decided once per engine; the replies do not change."""
    engine = _engine(tiny_loaded)
    requests = [GenRequest(engine.chat_prompt(q), max_new_tokens=5) for q in QUESTIONS]
    expected = engine.generate(requests)
    assert engine.prefill_merges is True
    other = _engine(tiny_loaded)
    import tunelens.engine._prefill as module

    original = module._plain_layers
    module._plain_layers = lambda cache: False
    try:
        assert other.generate(requests) == expected
    finally:
        module._plain_layers = original
    assert other.prefill_merges is False
    other.reset_counters()
    prompts = [other.encode(r.prompt) for r in requests]
    with torch.inference_mode():
        prefill(other, prompts)
    assert other.counters["passes"] == 1  # straight to the padded pass now
