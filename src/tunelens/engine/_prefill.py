"""The prompt pass of a generation batch: a shared prefix once, the rest in length groups.

A generation batch wants many rows (a decoding step costs little more for 60 rows than for
30 on a CPU), but one prompt pass over many rows pads every prompt to the longest. Here:

* the prefix every prompt of the batch shares (a chat template's system prompt and its
  opening tags: 24 of the 37 tokens of a short SmolLM2 chat question) runs once, as one row,
  and its keys and values are copied to every row (as ``Engine._context_pass`` does for
  scoring; prefix caching, as in SGLang's RadixAttention, Zheng et al. 2024);
* the prompts' own tokens run in groups of like length (cut by ``length_batches`` where the
  padding saved outweighs another pass's fixed cost), each on a copy of the prefix's cache;
* the groups' caches are merged into one left-padded cache for decoding: each row's keys
  and values sit at the right end, its prefix at the left, zeros (masked) between.

Every row computes what it would alone: padding is masked and position ids follow the real
tokens. The merge needs plain full-attention layers (``DynamicLayer``): a model with
sliding-window layers (Gemma 3) or a composite cache (proxy-tuning) gets one padded pass, as
before, and no shared prefix (padding between prefix and prompt would take room in a window).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tunelens.engine._batching import length_batches
from tunelens.models import cache_kwargs, cache_of

if TYPE_CHECKING:
    from tunelens.engine._engine import Engine


@dataclass
class Prefilled:
    """A prompt pass's result, rows in ``order`` (indices into the prompts given)."""

    logits: Any  # (rows, vocabulary): each row's next-token logits
    cache: Any  # keys and values of every prompt position, left-padded
    mask: Any  # (rows, width): 1 on real positions
    next_pos: Any  # (rows,): the position id of each row's next token
    order: list[int]


def shared_prefix(prompts: Sequence[Sequence[int]]) -> int:
    """Length of the prefix every prompt shares, leaving each at least one token of its own
    (the pass over a row's own tokens gives its next-token logits)."""
    first = prompts[0]
    limit = min(len(p) for p in prompts) - 1
    n = 0
    while n < limit and all(p[n] == first[n] for p in prompts):
        n += 1
    return n


def _plain_layers(cache: Any) -> bool:
    """Whether every layer of ``cache`` is a plain full-attention layer whose tensors can be
    re-padded (transformers' ``DynamicLayer`` or the engine's ``ReservedLayer``)."""
    from transformers.cache_utils import DynamicLayer

    layers = getattr(cache, "layers", None)
    return bool(layers) and all(
        type(layer) is DynamicLayer and layer.keys is not None and layer.keys.dim() == 4 for layer in layers
    )


def _full_attention(model: Any) -> bool:
    """Whether the model's config declares only full attention (no sliding-window layers)."""
    config = getattr(model, "config", None)
    if config is None:
        return False
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    kinds = getattr(text, "layer_types", None)
    if kinds is not None:
        return all(kind == "full_attention" for kind in kinds)
    return not (getattr(text, "sliding_window", None) and getattr(text, "use_sliding_window", True))


def prefill(engine: Engine, prompts: Sequence[Sequence[int]]) -> Prefilled:
    """Run the prompts of one generation batch (see the module's docstring)."""
    torch = engine._torch()
    device = engine.loaded.device
    rows = len(prompts)
    if rows == 1 or not _full_attention(engine.model) or engine.prefill_merges is False:
        return prefill_padded(engine, prompts)
    shared = shared_prefix(prompts)
    if (rows - 1) * shared <= engine.step_overhead_tokens:
        shared = 0  # not worth a pass of its own
    tails = [list(p[shared:]) for p in prompts]
    groups = list(
        length_batches(tails, len, engine.gen_batch_tokens, engine.gen_max_batch, engine.step_overhead_tokens)
    )
    if not shared and len(groups) == 1:
        return prefill_padded(engine, prompts)
    head = None
    if shared:
        head = prefix_pass(engine, prompts[0][:shared])
        engine.prefill_merges = _plain_layers(head)
        if not engine.prefill_merges:  # a cache this module cannot re-pad: found once per engine
            return prefill_padded(engine, prompts)
    parts = []
    for group in groups:
        own = copy.deepcopy(head) if head is not None and len(groups) > 1 else head
        parts.append(group_pass(engine, [tails[i] for i in group], own, shared))
        if engine.prefill_merges is None:
            engine.prefill_merges = _plain_layers(parts[-1][1])
            if not engine.prefill_merges:
                return prefill_padded(engine, prompts)
    order = [i for group in groups for i in group]
    next_pos = torch.tensor([len(prompts[i]) for i in order], dtype=torch.long, device=device)
    logits, cache, mask = parts[0] if len(parts) == 1 else _merge(parts, shared)
    return Prefilled(logits, cache, mask, next_pos, order)


def prefill_padded(engine: Engine, prompts: Sequence[Sequence[int]]) -> Prefilled:
    """One left-padded pass over every prompt: any model, any cache."""
    ids, mask, positions = engine._left_pad(prompts)
    out = engine.model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True, logits_to_keep=1)
    engine._count_padded(prompts)
    return Prefilled(out.logits[:, -1, :], cache_of(out), mask, positions[:, -1] + 1, list(range(len(prompts))))


def prefix_pass(engine: Engine, prefix: Sequence[int]) -> Any:
    """The cache of ``prefix`` run once, as one row (for :func:`group_pass`)."""
    torch = engine._torch()
    device = engine.loaded.device
    ids = torch.tensor([list(prefix)], dtype=torch.long, device=device)
    out = engine.model(
        input_ids=ids,
        attention_mask=torch.ones_like(ids),
        position_ids=torch.arange(len(prefix), device=device)[None, :],
        use_cache=True,
        logits_to_keep=1,
    )
    engine._count_pass(1, len(prefix), len(prefix))
    return cache_of(out)


def group_pass(engine: Engine, tails: Sequence[Sequence[int]], head: Any, shared: int) -> tuple[Any, Any, Any]:
    """Rows' own tokens, left-padded, on the ``shared``-token prefix cache ``head`` (one row,
    taken over and copied to every row; None: no prefix): (next-token logits, cache, mask
    over prefix and tails). The padding sits between prefix and tail, masked, and position
    ids follow the real tokens, so every row computes what it would alone."""
    torch = engine._torch()
    ids, mask, positions = engine._left_pad(tails)
    engine._count_padded(tails)
    cache = head
    if head is not None:
        cache.batch_select_indices(torch.zeros(len(tails), dtype=torch.long, device=mask.device))
        mask = torch.cat([torch.ones((len(tails), shared), dtype=mask.dtype, device=mask.device), mask], dim=1)
    out = engine.model(
        input_ids=ids,
        attention_mask=mask,
        position_ids=positions + shared,
        **cache_kwargs(engine.model, cache),
        use_cache=True,
        logits_to_keep=1,
    )
    return out.logits[:, -1, :], cache_of(out), mask


def _merge(parts: list[tuple[Any, Any, Any]], shared: int) -> tuple[Any, Any, Any]:
    """The groups' logits, caches and masks as one left-padded batch: each group's tail
    positions move to the right end, its prefix stays at the left; the gap is zeros, masked."""
    import torch

    width = max(mask.shape[1] for _, _, mask in parts)
    logits = torch.cat([logit for logit, _, _ in parts])
    masks = []
    for _, _, mask in parts:
        gap = width - mask.shape[1]
        masks.append(
            torch.cat([mask[:, :shared], mask.new_zeros((mask.shape[0], gap)), mask[:, shared:]], dim=1)
            if gap
            else mask
        )
    cache = parts[0][1]
    for index, layer in enumerate(cache.layers):
        for name in ("keys", "values"):
            pieces = [getattr(part[1].layers[index], name) for part in parts]
            rows = sum(p.shape[0] for p in pieces)
            merged = pieces[0].new_zeros((rows, pieces[0].shape[1], width, pieces[0].shape[3]))
            at = 0
            for piece in pieces:
                n, length = piece.shape[0], piece.shape[2]
                merged[at : at + n, :, :shared] = piece[:, :, :shared]
                merged[at : at + n, :, width - (length - shared) :] = piece[:, :, shared:]
                at += n
            setattr(layer, name, merged)
    return logits, cache, torch.cat(masks)
