"""The engine on a tiny model: batched results equal one-at-a-time results and a plain
full-sequence reference; greedy generation does not depend on the batch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tunelens.engine import Engine, GenRequest, LLRequest, Sampling

pytestmark = pytest.mark.integration

REQUESTS = [
    LLRequest("The capital of France is", " Paris"),
    LLRequest("The capital of France is", " the city of Lyon, probably"),
    LLRequest("The capital of France is", " Berlin"),
    LLRequest("Question: what is two plus two?\nAnswer:", " four"),
    LLRequest(
        "A much longer context that goes on for a while, so that padding really matters here, and then", " it ends."
    ),
    LLRequest("Hi", " there, how are you doing today?"),
]


def _reference(engine: Engine, req: LLRequest) -> float:
    """Score by one plain forward pass over context + continuation, no cache, no padding."""
    ctx, cont = engine.encode(req.context), engine.encode_continuation(req.continuation)
    ids = torch.tensor([ctx + cont])
    with torch.no_grad():
        logprobs = torch.log_softmax(engine.model(input_ids=ids).logits[0].float(), -1)
    return float(sum(logprobs[len(ctx) - 1 + k, tok] for k, tok in enumerate(cont)))


def _engine(tiny_loaded, packed: bool, **limits) -> Engine:
    """An engine scoring packed rows under tree masks (the default) or padded batches."""
    engine = Engine(tiny_loaded, **limits)
    assert engine.packed_scoring  # the tiny Llama takes custom masks
    engine.packed_scoring = packed
    return engine


@pytest.mark.parametrize("packed", [True, False])
def test_loglikelihood_matches_reference_and_is_batch_invariant(tiny_loaded, packed: bool) -> None:
    batched = _engine(tiny_loaded, packed, max_batch=16).loglikelihood(REQUESTS)
    single = _engine(tiny_loaded, packed, max_batch=1)
    one_by_one = [single.loglikelihood([r])[0] for r in REQUESTS]
    for req, b, s in zip(REQUESTS, batched, one_by_one):
        ref = _reference(single, req)
        assert b.logprob == pytest.approx(ref, abs=1e-4)
        assert s.logprob == pytest.approx(ref, abs=1e-4)
        assert b.n_tokens == s.n_tokens == len(single.encode_continuation(req.continuation))
        assert b.is_greedy == s.is_greedy
    # Different continuations of one context really get different scores.
    assert len({round(r.logprob, 3) for r in batched[:3]}) == 3


@pytest.mark.parametrize("packed", [True, False])
def test_token_budget_splits_batches_without_changing_numbers(tiny_loaded, packed: bool) -> None:
    wide = _engine(tiny_loaded, packed, batch_tokens=100_000).loglikelihood(REQUESTS)
    narrow = _engine(tiny_loaded, packed, batch_tokens=24, max_batch=3).loglikelihood(REQUESTS)
    assert np.allclose([r.logprob for r in wide], [r.logprob for r in narrow], atol=1e-4)


@pytest.mark.parametrize("packed", [True, False])
def test_token_logprobs_batch_invariant(tiny_loaded, packed: bool) -> None:
    texts = ["One short line.", "A somewhat longer line of text that needs more tokens than the first one does.", "x"]
    batched = _engine(tiny_loaded, packed).token_logprobs(texts)
    single = _engine(tiny_loaded, packed, max_batch=1)
    for text, lp in zip(texts, batched):
        alone = single.token_logprobs([text])[0]
        ids = single.encode(text)
        assert lp.shape == alone.shape == (len(ids) - 1,)
        assert np.allclose(lp, alone, atol=1e-4)
        with torch.no_grad():  # a plain pass over the text alone
            plain = torch.log_softmax(single.model(input_ids=torch.tensor([ids])).logits[0, :-1].float(), -1)
        targets = torch.tensor(ids[1:], dtype=torch.long)
        assert np.allclose(lp, plain[torch.arange(len(ids) - 1), targets].numpy(), atol=1e-4)


def test_greedy_generation_identical_across_batch_sizes(tiny_loaded) -> None:
    engine = Engine(tiny_loaded)
    prompts = [engine.chat_prompt(q) for q in ["Hello?", "Tell me a long story about a dragon and a knight.", "2+2?"]]
    requests = [GenRequest(p, max_new_tokens=n) for p, n in zip(prompts, (12, 20, 5))]
    batched = engine.generate(requests)
    one_by_one = [Engine(tiny_loaded, max_batch=1).generate([r])[0] for r in requests]
    assert batched == one_by_one
    assert all(text for text in batched)


def test_sampling_is_seeded_per_request(tiny_loaded) -> None:
    engine = Engine(tiny_loaded)
    requests = [GenRequest(engine.chat_prompt("Say something."), max_new_tokens=8)] * 3
    first = engine.generate(requests, Sampling(temperature=1.0, seed=3))
    again = engine.generate(requests, Sampling(temperature=1.0, seed=3))
    alone = Engine(tiny_loaded, max_batch=1).generate(requests[:1], Sampling(temperature=1.0, seed=3))
    assert first == again
    assert first[0] == alone[0]
    assert len(set(first)) > 1  # each request draws its own stream


def test_stop_strings_cut_the_output(tiny_loaded) -> None:
    engine = Engine(tiny_loaded)
    prompt = engine.chat_prompt("Write anything.")
    full = engine.generate([GenRequest(prompt, max_new_tokens=20)])[0]
    assert len(full) > 3
    stop = full[2:4]
    cut = engine.generate([GenRequest(prompt, max_new_tokens=20, stop=(stop,))])[0]
    assert stop not in cut
    assert full.startswith(cut)


def test_reserved_cache_decodes_like_the_growing_cache(tiny_loaded) -> None:
    """Greedy steps with the reserved cache give the growing cache's logits, also after
    rows leave the batch and past the reservation (where the buffers double)."""
    from tunelens.engine._kv_cache import ReservedLayer, reserve
    from tunelens.models import cache_kwargs, cache_of

    model = tiny_loaded.model
    ids = torch.randint(10, 1000, (3, 7), generator=torch.Generator().manual_seed(0))
    runs = []
    for reserved in (False, True):
        with torch.no_grad():
            out = model(input_ids=ids, use_cache=True)
            cache = reserve(cache_of(out), 2) if reserved else cache_of(out)
            if reserved:
                assert all(isinstance(layer, ReservedLayer) for layer in cache.layers)
            token, logits = out.logits[:, -1].argmax(-1), []
            for step in range(5):  # 5 steps > 2 reserved
                if step == 2:
                    keep = torch.tensor([0, 2])
                    cache.batch_select_indices(keep)
                    token = token[keep]
                out = model(input_ids=token[:, None], **cache_kwargs(model, cache), use_cache=True)
                logits.append(out.logits[:, -1])
                token = out.logits[:, -1].argmax(-1)
            assert cache.get_seq_length() == 12
        runs.append(logits)
    for plain, reserved in zip(*runs):
        torch.testing.assert_close(reserved, plain, rtol=0, atol=1e-5)
