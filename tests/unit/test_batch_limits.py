"""Batch limits from memory: the CPU constants, and on a (faked) GPU limits that follow the
free memory and the model's shape, with floors and caps. No model is loaded."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from tunelens.engine import Engine, _sizing
from tunelens.engine._sizing import (
    CPU_LIMITS,
    MAX_ROWS,
    MIN_BATCH_TOKENS,
    ROW_TOKENS,
    BatchLimits,
    ModelShape,
    batch_limits,
    limits_from_memory,
)

GB = 10**9
LLAMA_8B = dict(
    hidden_size=4096,
    intermediate_size=14336,
    num_hidden_layers=32,
    num_attention_heads=32,
    num_key_value_heads=8,
    vocab_size=128256,
)


class _FakeModel:
    """Just what batch_limits reads: a config and input embeddings of some dtype."""

    def __init__(self, dtype: torch.dtype = torch.bfloat16, **config) -> None:
        self.config = SimpleNamespace(**config)
        self.embed = torch.nn.Embedding(2, 2, dtype=dtype)

    def get_input_embeddings(self) -> torch.nn.Module:
        return self.embed


def _loaded(device: str = "cuda:0", **config) -> SimpleNamespace:
    return SimpleNamespace(device=torch.device(device), model=_FakeModel(**(config or LLAMA_8B)))


def test_cpu_keeps_the_scoring_constants_and_sizes_generation_by_the_model() -> None:
    assert (CPU_LIMITS.batch_tokens, CPU_LIMITS.max_batch, CPU_LIMITS.gen_batch_tokens, CPU_LIMITS.gen_max_batch) == (
        4096,
        32,
        16384,
        256,
    )
    large = batch_limits(_loaded("cpu"))  # an 8B shape: 2 GiB holds fewer tokens than the floor
    assert (large.batch_tokens, large.max_batch, large.gen_batch_tokens, large.gen_max_batch) == (4096, 32, 16384, 256)
    smollm = dict(hidden_size=576, intermediate_size=1536, num_hidden_layers=30, num_attention_heads=9,
                  num_key_value_heads=3, vocab_size=49152)  # fmt: skip
    small = batch_limits(SimpleNamespace(device=torch.device("cpu"), model=_FakeModel(torch.float32, **smollm)))
    per_token = 2 * 30 * 3 * 64 * 4 + 4 * (4 * 576 + 3 * 1536)  # cache + prompt-pass activations
    assert per_token == 72 * 1024
    assert small.gen_batch_tokens == _sizing.CPU_GENERATION_BYTES // per_token == 29127
    assert (small.batch_tokens, small.max_batch, small.gen_max_batch) == (4096, 32, 256)
    assert "72 KiB a token" in small.reason
    # A stand-in without a model to place gets the constants.
    assert batch_limits(SimpleNamespace(model=None, tokenizer=None)) is CPU_LIMITS


def test_shape_from_an_8b_config() -> None:
    shape = ModelShape.from_config(SimpleNamespace(**LLAMA_8B), 2)
    assert (shape.hidden, shape.intermediate, shape.layers, shape.vocab) == (4096, 14336, 32, 128256)
    assert shape.kv_dim == 8 * 128  # kv heads x head dim
    assert shape.kv_bytes() == 2 * 32 * 1024 * 2  # 128 KiB of cache a position
    assert shape.scored_logit_bytes() == 128256 * (2 + 12)  # logits dominate a scored position
    # Missing entries fall back (head_dim from hidden / heads, kv heads = heads).
    small = ModelShape.from_config(SimpleNamespace(hidden_size=64, num_attention_heads=4, vocab_size=10), 4)
    assert (small.kv_dim, small.intermediate, small.layers) == (64, 256, 1)


def test_more_free_memory_gives_larger_batches() -> None:
    small, large = batch_limits(_loaded(), free_bytes=10 * GB), batch_limits(_loaded(), free_bytes=80 * GB)
    assert large.batch_tokens >= 7 * small.batch_tokens
    assert large.gen_batch_tokens >= 7 * small.gen_batch_tokens
    assert large.max_batch >= small.max_batch and large.gen_max_batch >= small.gen_max_batch
    # An 8B model scoring on 80 GB free: ~2 MiB a position, so tens of thousands of positions.
    assert 10_000 < large.batch_tokens < 60_000
    assert large.batch_tokens > CPU_LIMITS.batch_tokens and large.gen_batch_tokens > CPU_LIMITS.gen_batch_tokens
    assert "74.5 GiB free on cuda:0" in large.reason


def test_limits_are_monotone_in_free_memory_and_floored() -> None:
    shape = ModelShape.from_config(SimpleNamespace(**LLAMA_8B), 2)
    previous = None
    for free in [0, 10**6, 10**8, 10**9, 4 * GB, 10 * GB, 24 * GB, 80 * GB, 140 * GB, 10**13]:
        limits = limits_from_memory(free, shape)
        assert limits.batch_tokens >= MIN_BATCH_TOKENS and limits.gen_batch_tokens >= MIN_BATCH_TOKENS
        assert 1 <= limits.max_batch <= MAX_ROWS and 1 <= limits.gen_max_batch <= MAX_ROWS
        if previous is not None:
            for field in ("batch_tokens", "max_batch", "gen_batch_tokens", "gen_max_batch"):
                assert getattr(limits, field) >= getattr(previous, field), (free, field)
        previous = limits
    nothing = limits_from_memory(0, shape)  # the floors: the minimum token budget, in rows of ROW_TOKENS
    assert (nothing.batch_tokens, nothing.max_batch, nothing.gen_batch_tokens, nothing.gen_max_batch) == (
        MIN_BATCH_TOKENS,
        MIN_BATCH_TOKENS // ROW_TOKENS,
        MIN_BATCH_TOKENS,
        1,
    )
    assert previous.max_batch == MAX_ROWS and previous.gen_max_batch == MAX_ROWS  # capped however large


def test_float32_weights_and_a_larger_vocabulary_cost_more() -> None:
    bf16 = batch_limits(_loaded(), free_bytes=40 * GB)
    fp32 = batch_limits(
        SimpleNamespace(device=torch.device("cuda"), model=_FakeModel(torch.float32, **LLAMA_8B)), 40 * GB
    )
    assert fp32.batch_tokens < bf16.batch_tokens and fp32.gen_batch_tokens < bf16.gen_batch_tokens
    wide = batch_limits(_loaded(**{**LLAMA_8B, "vocab_size": 256000}), free_bytes=40 * GB)
    assert wide.batch_tokens < bf16.batch_tokens


def test_the_free_memory_reader_is_injectable() -> None:
    seen = []

    def memory(model, device) -> int:
        seen.append(device)
        return 40 * GB

    limits = batch_limits(_loaded("cuda:1"), memory=memory)
    assert seen == [torch.device("cuda:1")]
    assert limits == limits_from_memory(40 * GB, ModelShape.from_config(SimpleNamespace(**LLAMA_8B), 2), "cuda:1")


def test_engine_limits_come_from_batch_limits_and_explicit_values_win(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = BatchLimits(10_000, 100, 50_000, 200, "fake GPU")
    monkeypatch.setattr(_sizing, "batch_limits", lambda loaded: fake)
    stand_in = SimpleNamespace(model=None, tokenizer=SimpleNamespace(pad_token_id=0), rewrite_messages=None)
    engine = Engine(stand_in)  # type: ignore[arg-type]
    assert (engine.batch_tokens, engine.max_batch, engine.gen_batch_tokens, engine.gen_max_batch) == (
        10_000,
        100,
        50_000,
        200,
    )
    assert engine.limits is fake
    engine = Engine(stand_in, batch_tokens=7, gen_max_batch=3)  # type: ignore[arg-type]
    assert (engine.batch_tokens, engine.max_batch, engine.gen_batch_tokens, engine.gen_max_batch) == (7, 100, 50_000, 3)
