"""Test tiers (see README): unit tests load no model; integration tests share one tiny
model built locally with the real SmolLM2 tokenizer; slow tests load the embedded model
(skip them with ``-m "not slow"``)."""

from __future__ import annotations

from pathlib import Path

import pytest

TINY_CONFIG = dict(
    hidden_size=64,
    intermediate_size=128,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    max_position_embeddings=1024,
    tie_word_embeddings=True,
)


@pytest.fixture(autouse=True)
def _own_results_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test its own results cache: no test reuses a probe result another test computed."""
    root = tmp_path_factory.mktemp("results-cache")
    monkeypatch.setenv("TUNELENS_RESULTS_CACHE", str(root))
    return root


@pytest.fixture(scope="session")
def smollm_tokenizer():
    """The real SmolLM2 tokenizer, read from the embedded GGUF once and cached."""
    from tunelens.models import load_tokenizer

    return load_tokenizer("embedded:smollm2-135m-instruct")


def build_tiny_model(directory: Path, tokenizer, seed: int = 0) -> Path:
    """A 2-layer Llama with the given tokenizer, saved as safetensors: a model reference."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **TINY_CONFIG,
    )
    model = LlamaForCausalLM(config)
    # Larger-than-default init so logits are peaked and greedy decoding has no near-ties.
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() == 2:
                p.normal_(0.0, 0.08)
    model.save_pretrained(str(directory), safe_serialization=True)
    tokenizer.save_pretrained(str(directory))
    return directory


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory, smollm_tokenizer) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model", smollm_tokenizer)


@pytest.fixture(scope="session")
def tiny_loaded(tiny_model_dir: Path):
    from tunelens.models import load_model

    return load_model(str(tiny_model_dir))
