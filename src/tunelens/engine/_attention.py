"""Model internals for head-level probes: where each attention head looks, and head ablation.

Two tools on a loaded Hugging Face causal LM whose attention goes through transformers'
``AttentionInterface`` (Llama, Mistral, Qwen2/3, Gemma and most current decoder models):

* :func:`attention_argmax` runs ONE forward pass over a token sequence and returns, for
  chosen query positions, the key position each head attends to most. It swaps in an
  attention function that computes the layer's output with SDPA as usual and, beside it,
  the pre-softmax scores of only the requested query rows, so memory grows with
  rows x sequence length rather than with the full attention matrix. The model's own
  attention implementation is restored afterwards, also when the pass fails.
* :func:`ablate_heads` makes chosen heads attend uniformly over their causal context by
  zeroing their query slice (a forward hook on ``q_proj``); with a zero query every
  attention logit is equal. Hooks are removed on exit and no weight is touched.

:func:`greedy_decode` returns the token ids a model generates greedily for one prompt, the
reference for the engine's batched ``Engine.greedy_token_ids`` that the retrieval-heads probe
uses: its teacher-forced scoring needs the decoded tokens exactly (re-encoding decoded text
need not give the same tokens).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tunelens.models import cache_kwargs, cache_of

IMPLEMENTATION = "tunelens_argmax"
"""Name under which the capturing attention function is registered with transformers."""


@dataclass
class _Capture:
    rows: Any  # LongTensor of query positions
    argmax: dict[int, Any] = field(default_factory=dict)  # layer index -> (heads, rows)


_CAPTURE: ContextVar[_Capture | None] = ContextVar("tunelens_attention_capture", default=None)


def head_grid(model: Any) -> tuple[int, int]:
    """(number of layers, query heads per layer) of a decoder model."""
    config = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
    return int(config.num_hidden_layers), int(config.num_attention_heads)


def _attention_modules(model: Any) -> list[Any]:
    """The self-attention module of every decoder layer, in layer order."""
    layers = model.model.layers if hasattr(model, "model") and hasattr(model.model, "layers") else None
    if layers is None:
        raise ValueError(f"{type(model).__name__}: expected decoder layers at model.model.layers")
    return [layer.self_attn for layer in layers]


def _capturing_attention(
    module: Any,
    query: Any,
    key: Any,
    value: Any,
    attention_mask: Any,
    scaling: float | None = None,
    **kwargs: Any,
) -> tuple[Any, Any]:
    """SDPA attention plus the argmax key position of the captured query rows of every head."""
    import torch
    from transformers.integrations.sdpa_attention import repeat_kv, sdpa_attention_forward

    output = sdpa_attention_forward(module, query, key, value, attention_mask, scaling=scaling, **kwargs)
    capture = _CAPTURE.get()
    if capture is not None:
        groups = query.shape[1] // key.shape[1]
        keys = repeat_kv(key, groups) if groups > 1 else key
        scale = scaling if scaling is not None else query.shape[-1] ** -0.5
        # The same arithmetic as eager attention, restricted to the wanted rows.
        scores = torch.matmul(query[:, :, capture.rows, :], keys.transpose(2, 3)) * scale
        if attention_mask is not None and attention_mask.dim() == 4:
            rows_mask = attention_mask[:, :, capture.rows, : keys.shape[2]]
            if rows_mask.dtype == torch.bool:
                scores = scores.masked_fill(~rows_mask, float("-inf"))
            else:
                scores = scores + rows_mask
        else:
            future = torch.arange(keys.shape[2], device=scores.device)[None, :] > capture.rows[:, None]
            scores = scores.masked_fill(future, float("-inf"))
        weights = torch.softmax(scores, dim=-1, dtype=torch.float32)
        capture.argmax[int(module.layer_idx)] = weights[0].argmax(-1).cpu()
    return output


def _register() -> None:
    from transformers import AttentionInterface
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask

    AttentionInterface.register(IMPLEMENTATION, _capturing_attention)
    ALL_MASK_ATTENTION_FUNCTIONS.register(IMPLEMENTATION, sdpa_mask)


@contextmanager
def attention_implementation(model: Any, name: str) -> Iterator[None]:
    """Switch the model's attention implementation for the block, restoring it on exit."""
    previous = model.config._attn_implementation
    model.set_attn_implementation(name)
    try:
        yield
    finally:
        model.set_attn_implementation(previous)


def attention_argmax(model: Any, input_ids: Sequence[int], query_positions: Sequence[int]) -> np.ndarray:
    """Each head's most-attended key position for the given query positions, from one pass.

    Returns an int array of shape (layers, heads, len(query_positions)). The sequence is
    one unpadded row starting at position 0, so query row r sees keys 0..r.
    """
    import torch

    n_layers, n_heads = head_grid(model)
    if not query_positions:
        return np.zeros((n_layers, n_heads, 0), dtype=np.int64)
    if max(query_positions) >= len(input_ids) or min(query_positions) < 0:
        raise ValueError(f"query positions must lie in [0, {len(input_ids)})")
    _register()
    device = next(model.parameters()).device
    ids = torch.tensor([list(input_ids)], dtype=torch.long, device=device)
    capture = _Capture(rows=torch.tensor(list(query_positions), dtype=torch.long, device=device))
    token = _CAPTURE.set(capture)
    try:
        with attention_implementation(model, IMPLEMENTATION), torch.inference_mode():
            model(input_ids=ids, use_cache=False, logits_to_keep=1)
    finally:
        _CAPTURE.reset(token)
    if len(capture.argmax) != n_layers:
        raise RuntimeError(f"captured {len(capture.argmax)} of {n_layers} layers; is attention dispatched?")
    return np.stack([capture.argmax[i].numpy() for i in range(n_layers)]).astype(np.int64)


@contextmanager
def ablate_heads(model: Any, heads: Iterable[tuple[int, int]]) -> Iterator[None]:
    """Within the block, the given (layer, head) pairs attend uniformly (zeroed queries)."""
    by_layer: dict[int, list[int]] = {}
    n_layers, n_heads = head_grid(model)
    for layer, head in heads:
        if not (0 <= layer < n_layers and 0 <= head < n_heads):
            raise ValueError(f"head ({layer}, {head}) outside the model's {n_layers} x {n_heads} grid")
        by_layer.setdefault(int(layer), []).append(int(head))
    modules = _attention_modules(model)
    handles = []

    def zero_heads(chosen: list[int], head_dim: int) -> Any:
        def hook(_module: Any, _inputs: Any, output: Any) -> Any:
            output = output.clone()
            for head in chosen:
                output[..., head * head_dim : (head + 1) * head_dim] = 0
            return output

        return hook

    try:
        for layer, chosen in by_layer.items():
            attn = modules[layer]
            head_dim = int(getattr(attn, "head_dim", attn.q_proj.out_features // n_heads))
            handles.append(attn.q_proj.register_forward_hook(zero_heads(sorted(set(chosen)), head_dim)))
        yield
    finally:
        for handle in handles:
            handle.remove()


def eos_ids(model: Any, tokenizer: Any) -> set[int]:
    """Token ids that end a reply: the tokenizer's EOS and the generation config's."""
    ids = {int(tokenizer.eos_token_id)} if tokenizer.eos_token_id is not None else set()
    extra = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    if isinstance(extra, int):
        ids.add(extra)
    elif isinstance(extra, list):
        ids.update(int(e) for e in extra)
    return ids


def greedy_decode(model: Any, prompt_ids: Sequence[int], max_new_tokens: int, stop_ids: set[int]) -> list[int]:
    """Greedy continuation token ids of one prompt (the stop token excluded), with a KV cache."""
    import torch

    device = next(model.parameters()).device
    ids = torch.tensor([list(prompt_ids)], dtype=torch.long, device=device)
    out_ids: list[int] = []
    with torch.inference_mode():
        out = model(input_ids=ids, use_cache=True, logits_to_keep=1)
        for _ in range(max_new_tokens):
            token = int(out.logits[0, -1].argmax())
            if token in stop_ids:
                break
            out_ids.append(token)
            if len(out_ids) == max_new_tokens:
                break
            step = torch.tensor([[token]], dtype=torch.long, device=device)
            out = model(input_ids=step, **cache_kwargs(model, cache_of(out)), use_cache=True)
    return out_ids
