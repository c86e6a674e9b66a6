"""The engine's work counters on the tiny model: positions (rows x new positions of every
forward pass, padding included), padding, passes and generated tokens, in scoring,
per-token log-probabilities and generation; and the CPU batch limits it starts with."""

from __future__ import annotations

import pytest

from tunelens.engine import Engine, GenRequest, LLRequest
from tunelens.engine._sizing import CPU_LIMITS, ModelShape, cpu_limits

pytestmark = pytest.mark.integration


@pytest.fixture
def engine(tiny_loaded) -> Engine:
    return Engine(tiny_loaded)


def test_cpu_engine_keeps_the_constants(engine: Engine, tiny_loaded) -> None:
    assert engine.limits == cpu_limits(ModelShape.from_config(tiny_loaded.model.config, 4))
    assert (engine.batch_tokens, engine.max_batch, engine.gen_max_batch) == (4096, 32, 256)
    assert engine.gen_batch_tokens == engine.limits.gen_batch_tokens > CPU_LIMITS.gen_batch_tokens  # a tiny model
    given = Engine(tiny_loaded, batch_tokens=100, gen_max_batch=2)
    assert (given.batch_tokens, given.max_batch, given.gen_batch_tokens, given.gen_max_batch) == (
        100,
        32,
        engine.gen_batch_tokens,
        2,
    )


def test_one_unpadded_text_counts_its_tokens(engine: Engine) -> None:
    ids = engine.encode("The capital of France is Paris.")
    assert engine.counters == {"positions": 0, "padding": 0, "passes": 0, "generated": 0}
    engine.token_logprobs_of([ids])
    assert engine.counters == {"positions": len(ids), "padding": 0, "passes": 1, "generated": 0}
    engine.reset_counters()
    assert engine.counters == {"positions": 0, "padding": 0, "passes": 0, "generated": 0}


def test_a_padded_batch_counts_its_padding(engine: Engine) -> None:
    long, short = engine.encode("A rather longer sentence about the weather in Paris today."), engine.encode("Hi.")
    engine.packed_scoring = False
    engine.token_logprobs_of([long, short])  # one batch, the short row left-padded
    assert engine.counters == {
        "positions": 2 * len(long),
        "padding": len(long) - len(short),
        "passes": 1,
        "generated": 0,
    }


def test_packed_texts_share_a_row_without_padding(engine: Engine) -> None:
    long, short = engine.encode("A rather longer sentence about the weather in Paris today."), engine.encode("Hi.")
    assert engine.packed_scoring
    engine.token_logprobs_of([long, short])  # one row: the two texts side by side
    assert engine.counters == {"positions": len(long) + len(short), "padding": 0, "passes": 1, "generated": 0}


@pytest.mark.parametrize("packed", [False, True])
def test_loglikelihood_counts_the_context_once_and_each_continuation_position(engine: Engine, packed: bool) -> None:
    engine.packed_scoring = packed
    context = "Question: what colour is the sky?\nAnswer:"
    ctx = engine.encode(context)
    engine.loglikelihood([LLRequest(context, " blue")])
    one = len(engine.encode_continuation(" blue"))
    assert one == 1
    # One context pass; a one-token continuation needs no pass of its own.
    assert engine.counters == {"positions": len(ctx), "padding": 0, "passes": 1, "generated": 0}
    engine.reset_counters()
    longer = " blue on a clear day, grey on others"
    n = len(engine.encode_continuation(longer))
    engine.loglikelihood([LLRequest(context, " blue"), LLRequest(context, longer)])
    # The context once (shared by both), then the longer continuation's first n - 1 tokens;
    # the one-token choice is read from the context's last position. Padded: the continuation
    # runs on the context's cache, a pass of its own; packed: a branch of the context's row.
    assert engine.counters["positions"] == len(ctx) + (n - 1)
    assert engine.counters["padding"] == 0
    assert engine.counters["passes"] == 1 if packed else engine.counters["passes"] >= 2


def test_generation_counts_the_prompt_and_one_position_per_step(engine: Engine) -> None:
    prompt = engine.encode("Tell me a story about a cat.")
    engine.generate_tokens([prompt], [GenRequest("", max_new_tokens=10)])
    c = engine.counters
    # A single row: the prompt's pass, then one pass per decoded token but the last.
    assert 1 <= c["generated"] <= 10
    assert c["passes"] == c["generated"]
    assert c["positions"] == len(prompt) + c["generated"] - 1 and c["padding"] == 0


def test_generation_of_two_rows_counts_prompt_padding(engine: Engine) -> None:
    a, b = engine.encode("Tell me a long story about a cat and a dog."), engine.encode("Hi")
    engine.generate_tokens([a, b], [GenRequest("", max_new_tokens=4), GenRequest("", max_new_tokens=4)])
    c = engine.counters
    assert c["padding"] == len(a) - len(b)  # decoding steps are never padded
    assert 2 <= c["generated"] <= 8
    assert c["positions"] >= 2 * len(a) and c["passes"] >= 2
