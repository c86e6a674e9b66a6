"""Proxy-tuning: steer a large base model with the difference a small fine-tune made.

Liu et al. 2024, "Tuning Language Models by Proxy": at every position the logits are

    s = s_large + alpha * (s_small_tuned - s_small_base)

over the vocabulary the three models share; no weight changes. ``ProxyModel`` is a torch
module whose forward runs the three models and combines their logits, so everything the
engine does (shared-context log-likelihood, per-token log-probabilities, greedy and
sampled generation) works unchanged. Its key/value cache, ``ProxyCache``, holds the three
models' caches and forwards row selection to each.

    tunelens audit BASE_LARGE "proxy:BASE_LARGE+runs/small/adapter-SMALL_BASE"
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tunelens.errors import TunelensError
from tunelens.models._cache_api import cache_kwargs, cache_of, library_name

SHOWN_DIFFERENCES = 3
"""How many differing tokens an error message names."""


class ProxyCache:
    """The three models' key/value caches, kept in step: row selection applies to each."""

    def __init__(self, caches: Sequence[Any]) -> None:
        self.caches = list(caches)

    def batch_select_indices(self, indices: Any) -> None:
        for cache in self.caches:
            cache.batch_select_indices(indices)

    def reorder_cache(self, beam_idx: Any) -> None:
        self.batch_select_indices(beam_idx)

    def get_seq_length(self, layer_idx: int = 0) -> int:
        return int(self.caches[0].get_seq_length(layer_idx))


def _proxy_module() -> type:
    """The module class, built on first use so ``import tunelens`` does not import torch."""
    import torch
    from transformers.modeling_outputs import CausalLMOutputWithPast

    class ProxyModel(torch.nn.Module):
        """Three causal LMs behind one forward that returns proxy-tuned logits (float32),
        sliced to the shared vocabulary size."""

        def __init__(self, large: Any, tuned: Any, small: Any, alpha: float, vocab_size: int) -> None:
            super().__init__()
            self.large, self.tuned, self.small = large, tuned, small
            self.alpha = alpha
            self.vocab_size = vocab_size
            self.config = large.config  # layers and heads of the model that is steered
            self.generation_config = getattr(large, "generation_config", None)

        def forward(
            self,
            input_ids: Any,
            attention_mask: Any = None,
            position_ids: Any = None,
            cache: ProxyCache | None = None,
            use_cache: bool = False,
            logits_to_keep: int = 0,
            past_key_values: ProxyCache | None = None,  # the name before transformers' rename
            **kwargs: Any,
        ) -> Any:
            past = cache if cache is not None else past_key_values
            caches = past.caches if past is not None else [None, None, None]
            outs = [
                model(
                    input_ids=input_ids,
                    attention_mask=attention_mask,
                    position_ids=position_ids,
                    use_cache=use_cache,
                    logits_to_keep=logits_to_keep,
                    **cache_kwargs(model, part),
                )
                for model, part in zip((self.large, self.tuned, self.small), caches)
            ]
            large, tuned, small = (o.logits[..., : self.vocab_size].float() for o in outs)
            logits = large + self.alpha * (tuned - small)
            joint = None
            if use_cache:
                joint = past or ProxyCache([None, None, None])
                joint.caches = [cache_of(o) for o in outs]
            return CausalLMOutputWithPast(logits=logits, **{library_name(): joint})

    return ProxyModel


def _id_to_token(tokenizer: Any) -> dict[int, str]:
    return {idx: token for token, idx in tokenizer.get_vocab().items()}


def _logit_width(model: Any) -> int:
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    if head is not None and getattr(head, "weight", None) is not None:
        return int(head.weight.shape[0])
    return int(getattr(model.config, "vocab_size", 0) or 0)


def shared_vocab_size(named: Sequence[tuple[str, Any, Any]]) -> int:
    """The vocabulary size the three models share, checking they agree on it.

    ``named`` holds (reference, tokenizer, model) for the large base, small tuned and small
    base. The ids below the smallest tokenizer's size must name the same tokens in all
    three; a model whose embedding matrix is padded past its vocabulary is fine (the
    padding is sliced off). Raises TunelensError naming the tokens that differ.
    """
    vocabs = [_id_to_token(tokenizer) for _, tokenizer, _ in named]
    size = min(len(tokenizer) for _, tokenizer, _ in named)
    first_ref, first = named[0][0], vocabs[0]
    for (ref, _, _), vocab in zip(named[1:], vocabs[1:]):
        differing = [i for i in range(size) if vocab.get(i) != first.get(i)]
        if differing:
            shown = ", ".join(f"id {i}: {first.get(i)!r} vs {vocab.get(i)!r}" for i in differing[:SHOWN_DIFFERENCES])
            raise TunelensError(
                f"proxy-tuning needs one shared vocabulary, but {ref} and {first_ref} map {len(differing)} of "
                f"the first {size} token ids differently ({shown}); use a small tuned/base pair from the large "
                "model's family, trained with the same tokenizer"
            )
    for ref, _, model in named:
        width = _logit_width(model)
        if width < size:
            raise TunelensError(
                f"{ref} produces {width} logits per position but its tokenizer has {size} tokens; "
                "the checkpoint and its tokenizer do not belong together"
            )
    return size


def build_proxy(large: Any, tuned: Any, small: Any, alpha: float = 1.0, refs: Sequence[str] = ()) -> Any:
    """A ``ProxyModel`` over three loaded models (``LoadedModel``), after the vocabulary check."""
    refs = list(refs) or [large.ref, tuned.ref, small.ref]
    size = shared_vocab_size([(r, m.tokenizer, m.model) for r, m in zip(refs, (large, tuned, small))])
    model = _proxy_module()(large.model, tuned.model, small.model, alpha, size)
    model.eval()
    model.requires_grad_(False)
    return model
