"""The engine's shared work gives the numbers of plain, unshared scoring: a prefix shared by
the contexts of a batch computed once, and continuations fed in chunks with rows leaving
as they finish (``Engine.step_overhead_tokens`` decides both), on the tiny model."""

from __future__ import annotations

import pytest
import torch

from tunelens.engine import Engine, LLRequest

pytestmark = pytest.mark.integration

TEMPLATE = "Question: what is the capital city of the country called {}?\nAnswer:"
COUNTRIES = ["France", "Peru", "the United Kingdom of Great Britain", "Chad", "Japan", "New Zealand"]
CHOICES = [" Paris", " Lima", " London, the big city on the Thames", " N'Djamena", " Tokyo", " Wellington"]
REQUESTS = [LLRequest(TEMPLATE.format(country), choice) for country in COUNTRIES for choice in CHOICES]


def _reference(engine: Engine, req: LLRequest) -> float:
    ctx, cont = engine.encode(req.context), engine.encode_continuation(req.continuation)
    with torch.no_grad():
        logprobs = torch.log_softmax(engine.model(input_ids=torch.tensor([ctx + cont])).logits[0].float(), -1)
    return float(sum(logprobs[len(ctx) - 1 + k, tok] for k, tok in enumerate(cont)))


@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.parametrize("overhead", [0, 48, 10**9])
def test_shared_prefix_and_chunked_continuations_match_plain_scoring(tiny_loaded, overhead: int, packed: bool) -> None:
    """0: every shared prefix gets its own pass and every continuation position its own step;
    10**9: nothing shared, one padded continuation pass; 48: the default in between. Packed:
    the shared prefix once, then contexts and continuations side by side under tree masks."""
    engine = Engine(tiny_loaded, max_batch=4)
    engine.packed_scoring = packed
    engine.step_overhead_tokens = overhead
    results = engine.loglikelihood(REQUESTS)
    greedy = Engine(tiny_loaded, max_batch=1)
    greedy.step_overhead_tokens = 10**9
    alone = [greedy.loglikelihood([r])[0] for r in REQUESTS]
    for req, got, single in zip(REQUESTS, results, alone):
        assert got.logprob == pytest.approx(_reference(engine, req), abs=1e-4)
        assert got.n_tokens == single.n_tokens and got.is_greedy == single.is_greedy


def test_the_shared_prefix_runs_once(tiny_loaded) -> None:
    """A batch of contexts that share a template runs the template once, as one row."""
    engine = Engine(tiny_loaded, max_batch=8)
    engine.packed_scoring = False
    # the template, saved on 5 of the 6 rows, outweighs the cost of its own pass (48 positions)
    seen: list[tuple[int, int]] = []
    forward = engine.model.forward

    def spy(*args, **kwargs):
        seen.append(tuple(kwargs["input_ids"].shape))
        return forward(*args, **kwargs)

    engine.model.forward = spy
    try:
        engine.loglikelihood([LLRequest(TEMPLATE.format(c), " Paris") for c in COUNTRIES])
    finally:
        del engine.model.forward
    shared = len(engine.encode("Question: what is the capital city of the country called"))
    assert seen[0] == (1, shared)  # the template, once
    assert seen[1][0] == len(COUNTRIES)  # then each country's own tokens


def test_packed_scoring_runs_the_shared_prefix_once_then_one_row(tiny_loaded) -> None:
    """Packed: the template once, then every country's own tokens side by side in one row;
    the five choices of a question are branches of its row, read where they start."""
    engine = Engine(tiny_loaded)
    assert engine.packed_scoring
    contexts = [engine.encode(TEMPLATE.format(c)) for c in COUNTRIES]
    shared = len(engine.encode("Question: what is the capital city of the country called"))
    results = engine.loglikelihood(REQUESTS)
    branches = {len(engine.encode_continuation(c)) - 1 for c in CHOICES}  # fed tokens of each choice
    own = sum(len(c) - shared for c in contexts) + len(COUNTRIES) * sum(
        len(engine.encode_continuation(c)) - 1 for c in CHOICES
    )
    assert max(branches) > 0
    assert engine.counters == {"positions": shared + own, "padding": 0, "passes": 2, "generated": 0}
    assert [r.logprob for r in results] == pytest.approx([_reference(engine, r) for r in REQUESTS], abs=1e-4)
