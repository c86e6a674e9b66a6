"""Inference passes on a CPU run every linear layer on a copy of its weight reordered once
for oneDNN (the layout its matrix-product kernels read fastest), instead of handing MKL the
plain row-major weight at every call.

This is the weight "prepacking" that PyTorch's own CPU compiler applies to frozen linear
layers (inductor's mkldnn fusion passes); here it is applied without a compiler, one layer at
a time. Measured on the 2-core development machine (AVX2, float32), the embedded model's
seven projections of one layer: 1.35 ms against 3.16 at 8 rows, 5.2 against 6.7 at 60, 57
against 68 at 1,024; its 49,152 x 576 unembedding: 6.7 ms against 14.1 at one row, 32
against 63 at 60, 58 against 119 at 128. In the engine, two copies of the embedded model
alternated in one process: 60 chat replies of up to 128 tokens in 38.6 and 39.0 s against
43.3 and 44.8 s (the same replies), 40 texts scored in 15.6 and 16.9 s against 18.8 and
19.6. Results agree with ``x @ W.T`` to float tolerance (3e-6 on logits of order 1); only
the order of summation changes. Training was tried on reordered weights too (a LoRA's frozen
base layers, the input's gradient from a reordered transpose): eight demo steps took as long
either way, so training keeps the plain layers; only a frozen unembedding is multiplied on its
reordered copy there (:func:`frozen_linear`, inside the training loss's own autograd step).

Rules, so that nothing changes but speed:

* only ``torch.nn.Linear`` modules (a PEFT LoRA layer's base layer and factors are such
  modules), float32, on the CPU, and only with gradients off: training and anything that
  needs a gradient run the plain layer;
* the reordered copy belongs to the weight it was made from: a weight changed in place (its
  version counter moves: a training step, a merge) or replaced is reordered again at its
  next inference call, so a stale copy is never used;
* the copies are kept outside the modules (a weak map), so deep copies and pickles of a
  model carry none; a copy computes with its own weight;
* the copies cost as much memory as the weights they mirror, so a model whose linear weights
  exceed :data:`PREPACK_MAX_BYTES` keeps the plain layers;
* a PyTorch build without oneDNN, or one whose reorder operator is missing or fails, keeps the
  plain layers too.
"""

from __future__ import annotations

import functools
import types
import weakref
from typing import Any

PREPACK_MAX_BYTES = 1 << 30
"""Largest total size of a model's linear weights that gets reordered copies: 1 GiB, about
270M parameters in float32. The copies double that memory, and an audit holds two models, so
a larger model keeps the plain layers rather than risk running a CPU out of memory."""

PACK_ROWS_HINT = 64
"""The number of rows oneDNN is told to expect when it reorders a weight; any number of rows
runs on the result (measured above from 1 to 1,024 rows with this hint)."""

_copies: weakref.WeakKeyDictionary[Any, tuple[tuple[int, int, int], Any]] = weakref.WeakKeyDictionary()


def _key(weight: Any) -> tuple[int, int, int] | None:
    """What identifies the weight's current values: its storage, its version counter and its
    size. None for a tensor without a version counter (an inference tensor)."""
    try:
        return (weight.data_ptr(), weight._version, weight.numel())
    except RuntimeError:
        return None


def _reordered(module: Any) -> Any | None:
    """The reordered copy of ``module``'s weight, made again when the weight changed; None for
    an inference tensor."""
    import torch

    key = _key(module.weight)
    if key is None:
        return None
    held = _copies.get(module)
    if held is not None and held[0] == key:
        return held[1]
    copy = torch.ops.mkldnn._reorder_linear_weight(module.weight.detach(), PACK_ROWS_HINT)
    _copies[module] = (key, copy)
    return copy


def _on_copy(module: Any, x: Any) -> Any | None:
    """``module(x)`` on the reordered copy of its weight, or None where the rules keep the
    plain layer (another device or dtype, an inference tensor). Computes no gradient."""
    import torch

    weight = module.weight
    if weight.device.type != "cpu" or weight.dtype != torch.float32 or x.dtype != weight.dtype:
        return None
    packed = _reordered(module)
    if packed is None:
        return None
    return torch.ops.mkldnn._linear_pointwise(x.contiguous(), packed, module.bias, "none", [], "")


def _forward(self: Any, x: Any) -> Any:
    """``forward`` of a linear layer under :func:`prepack_linears`: training and anything
    else that needs a gradient runs the plain layer."""
    import torch

    x = x.contiguous()
    out = None if torch.is_grad_enabled() else _on_copy(self, x)
    return torch.nn.Linear.forward(self, x) if out is None else out


def frozen_linear(module: Any, x: Any) -> Any:
    """``module(x)`` computed without autograd (call it under ``torch.no_grad`` or inside an
    autograd function that supplies its own gradients): on the reordered copy of the weight
    where the rules above allow it and the weight is frozen (a training step's unembedding
    under a LoRA), else as the plain layer (a weight that changes every step would be
    reordered at every step)."""
    import torch

    out = None if module.weight.requires_grad or not _works() else _on_copy(module, x)
    return torch.nn.functional.linear(x, module.weight, module.bias) if out is None else out


@functools.cache
def _works() -> bool:
    """Whether this PyTorch build reorders a weight and multiplies with it correctly (asked once)."""
    import torch

    if not torch.backends.mkldnn.is_available():
        return False
    try:
        weight = torch.linspace(-1, 1, 24).reshape(6, 4)
        x = torch.linspace(0, 1, 8).reshape(2, 4)
        packed = torch.ops.mkldnn._reorder_linear_weight(weight, PACK_ROWS_HINT)
        out = torch.ops.mkldnn._linear_pointwise(x, packed, None, "none", [], "")
        return bool(torch.allclose(out, x @ weight.T, atol=1e-5))
    except (AttributeError, RuntimeError, NotImplementedError):
        return False


def _contiguous_head(model: Any) -> None:
    """Give the unembedding a contiguous input where it is not routed through a reordered
    weight: ``logits_to_keep=1`` hands it ``hidden[:, -1:, :]``, a strided view, which torch
    multiplies as a batched product with the weight expanded per row (0.24 s against 0.05 s
    for 32 rows of the embedded model)."""
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    if head is None or getattr(head, "_tunelens_prepacked", False) or getattr(head, "_tunelens_contiguous", False):
        return
    head.register_forward_pre_hook(lambda _m, args: (args[0].contiguous(), *args[1:]) if args else args)
    head._tunelens_contiguous = True


def prepack_linears(model: Any) -> int:
    """Route the inference passes of ``model``'s CPU float32 linear layers through reordered
    weights (see the module docstring); returns how many layers do. Idempotent: no layer is
    wrapped twice. Other layers, and every layer of a model whose linear weights exceed
    :data:`PREPACK_MAX_BYTES`, run as they do, the unembedding with a contiguous input."""
    import torch

    if not hasattr(model, "modules"):  # no module tree (an engine used for its tokenizer alone)
        return 0
    cpu32 = [
        m
        for m in model.modules()
        if type(m) is torch.nn.Linear and m.weight.device.type == "cpu" and m.weight.dtype == torch.float32
    ]
    size = sum({m.weight.data_ptr(): m.weight.numel() * 4 for m in cpu32}.values())
    if size > PREPACK_MAX_BYTES or (cpu32 and not _works()):
        cpu32 = []
    for module in cpu32:
        if not getattr(module, "_tunelens_prepacked", False):
            module.forward = types.MethodType(_forward, module)  # a method: a deep copy binds to the copy
            module._tunelens_prepacked = True
    _contiguous_head(model)
    return len(cpu32)
