"""How many rows and token positions an engine batch may hold, from the memory there is.

On a CPU scoring keeps the constants it was tuned with (:data:`CPU_LIMITS`) and generation
holds up to 256 rows within a fixed memory budget for its cache (:func:`cpu_limits`). On a GPU
the limits come from the free device memory and the model's shape (:func:`limits_from_memory`):
an 80 GB card running an 8B model scores far more positions at once than a 24 GB one, and a
fixed 4096-token batch would leave most of a large card idle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BatchLimits:
    """The engine's batch bounds (see ``Engine.__init__``) and where they come from."""

    batch_tokens: int  # scoring: rows x longest sequence of a batch
    max_batch: int  # scoring: rows of a batch
    gen_batch_tokens: int  # generation: rows x (longest prompt + its reply budget)
    gen_max_batch: int  # generation: rows of a batch
    reason: str


CPU_LIMITS = BatchLimits(
    batch_tokens=4096,
    max_batch=32,
    gen_batch_tokens=16384,
    gen_max_batch=256,
    reason="CPU: the constants tuned on a 2-core CPU",
)
"""The CPU limits when the model's shape is unknown. A decoding step's matrix products run
far below the machine's rate at a few dozen rows (the weights are read once a step whatever
the rows): on the development machine 240 short chat replies took 39.3 s in batches of at
most 64 rows, 30.2 s of 128 and 28.5 s of 256, the same replies."""

CPU_GENERATION_BYTES = 2 * 2**30
"""Memory a CPU generation batch may plan for its key/value cache and prompt-pass activations."""

SAFETY_FRACTION = 0.7
"""Share of the free device memory a batch may plan to use: the rest absorbs the allocator's
fragmentation, library workspaces and what the formula leaves out."""
MIN_BATCH_TOKENS = 512
"""No token budget goes below this (a request longer than the budget still runs, alone)."""
ROW_TOKENS = 64
"""The short request the row bounds plan for: a batch of short rows stops at its row limit."""
MAX_ROWS = 512
"""Rows of one batch at most, however much memory is free (a decoding step of more rows
gains little once the GPU is busy)."""
LOGIT_COPY_BYTES = 12
"""Bytes per vocabulary entry of a scored position beyond the model's own logits: their
float32 copy and two float32 temporaries of the log normaliser (logsumexp)."""
SAMPLING_BYTES = 24
"""Bytes per vocabulary entry of a generated row at a step: float32 probabilities, their
float64 cumulative sum and a float32 temporary (top-p), besides the logits."""


@dataclass(frozen=True)
class ModelShape:
    """The sizes that set a batch's memory."""

    hidden: int
    intermediate: int
    layers: int
    kv_dim: int  # key/value heads x head dimension
    vocab: int
    dtype_bytes: int  # of activations and the KV cache (a quantized model: its compute dtype)

    @classmethod
    def from_config(cls, config: Any, dtype_bytes: int) -> ModelShape:
        """Read a transformers config (a multimodal one: its text config)."""
        if hasattr(config, "get_text_config"):
            config = config.get_text_config()
        hidden = int(getattr(config, "hidden_size", 0) or getattr(config, "n_embd", 0) or 0)
        heads = int(getattr(config, "num_attention_heads", 0) or getattr(config, "n_head", 0) or 1)
        kv_heads = int(getattr(config, "num_key_value_heads", 0) or heads)
        head_dim = int(getattr(config, "head_dim", 0) or (hidden // heads if heads else 0))
        return cls(
            hidden=hidden,
            intermediate=int(getattr(config, "intermediate_size", 0) or 4 * hidden),
            layers=int(getattr(config, "num_hidden_layers", 0) or getattr(config, "n_layer", 0) or 1),
            kv_dim=kv_heads * head_dim,
            vocab=int(getattr(config, "vocab_size", 0) or 1),
            dtype_bytes=int(dtype_bytes),
        )

    def kv_bytes(self) -> int:
        """Key and value cache of one position over every layer."""
        return 2 * self.layers * self.kv_dim * self.dtype_bytes

    def activation_bytes(self) -> int:
        """Live activations of one position inside one layer (inference keeps one layer's at a
        time): a few hidden-size vectors (residual, normed input, attention output, projected
        queries) and the MLP's gate, up and their product."""
        return self.dtype_bytes * (4 * self.hidden + 3 * self.intermediate)

    def scored_logit_bytes(self) -> int:
        """The logits of one scored position: the model's, in its dtype, and the float32 work
        of reading a log-probability from them."""
        return self.vocab * (self.dtype_bytes + LOGIT_COPY_BYTES)

    def sampled_row_bytes(self) -> int:
        """A generated row's last-position logits and the sampling work on them."""
        return self.vocab * (self.dtype_bytes + SAMPLING_BYTES)


def limits_from_memory(free_bytes: float, shape: ModelShape, where: str = "the GPU") -> BatchLimits:
    """Batch limits that fit ``free_bytes`` of device memory (the weights already loaded).

    Assumes attention that does not form the (positions x positions) score matrix (SDPA's
    memory-efficient or flash kernels), one layer's activations alive at a time (inference),
    and the engine's own buffers as written today. Of the free memory ``SAFETY_FRACTION`` is
    planned for:

    * a scored position (``batch_tokens``) costs its logits over the vocabulary (every
      position of a scoring pass keeps them) + its activations + its KV cache;
    * a generation token (``gen_batch_tokens`` counts prompt + reply budget of every row)
      costs its KV cache (the decoding cache is reserved for the whole reply up front) and
      the activations of the prefill; each row also holds its last logits and sampling work.

    Row limits allow ``ROW_TOKENS``-long rows, between 1 and ``MAX_ROWS``; token limits never go
    below ``MIN_BATCH_TOKENS``. More free memory never gives smaller limits.
    """
    budget = max(0.0, float(free_bytes)) * SAFETY_FRACTION
    per_position = shape.scored_logit_bytes() + shape.activation_bytes() + shape.kv_bytes()
    batch_tokens = max(MIN_BATCH_TOKENS, int(budget // per_position))
    max_batch = min(MAX_ROWS, max(1, batch_tokens // ROW_TOKENS))

    per_token = shape.kv_bytes() + shape.activation_bytes()
    per_row = shape.sampled_row_bytes() + ROW_TOKENS * per_token
    gen_max_batch = min(MAX_ROWS, max(1, int(budget // per_row)))
    gen_budget = budget - gen_max_batch * shape.sampled_row_bytes()
    gen_batch_tokens = max(MIN_BATCH_TOKENS, int(max(0.0, gen_budget) // per_token))
    gib = 2**30
    reason = (
        f"{free_bytes / gib:.1f} GiB free on {where}, {SAFETY_FRACTION:.0%} planned: "
        f"{per_position / 2**20:.2f} MiB a scored position, {per_token / 2**10:.0f} KiB a generation token"
    )
    return BatchLimits(batch_tokens, max_batch, gen_batch_tokens, gen_max_batch, reason)


def cpu_limits(shape: ModelShape) -> BatchLimits:
    """:data:`CPU_LIMITS`, with a generation token budget of :data:`CPU_GENERATION_BYTES` for the
    model's shape, never below the constant's 16,384 tokens (the embedded model: 72 KiB a token,
    29,127 tokens; a Llama-3-8B shape in bfloat16: 244 KiB, so the 16,384)."""
    per_token = shape.kv_bytes() + shape.activation_bytes()
    tokens = max(CPU_LIMITS.gen_batch_tokens, CPU_GENERATION_BYTES // max(1, per_token))
    return BatchLimits(
        CPU_LIMITS.batch_tokens,
        CPU_LIMITS.max_batch,
        tokens,
        CPU_LIMITS.gen_max_batch,
        f"CPU: scoring constants tuned on a 2-core CPU; generation {CPU_GENERATION_BYTES / 2**30:.0f} GiB of "
        f"cache and activations at {per_token / 2**10:.0f} KiB a token",
    )


def _devices(model: Any, first: Any) -> list[Any]:
    """The CUDA devices holding the model's weights (several under a device map)."""
    import torch

    placed = getattr(model, "hf_device_map", None)
    devices = {torch.device(first)}
    if isinstance(placed, dict):
        for where in placed.values():
            if isinstance(where, int):
                devices.add(torch.device("cuda", where))
            elif isinstance(where, str) and where.startswith("cuda"):
                devices.add(torch.device(where))
    return sorted((d for d in devices if d.type == "cuda"), key=str)


def free_device_memory(model: Any, device: Any) -> int:
    """Bytes a batch can still get on the model's GPUs: the least over the devices its weights
    sit on of the driver's free memory plus what PyTorch's allocator holds unused."""
    import torch

    free = []
    for d in _devices(model, device):
        driver_free, _ = torch.cuda.mem_get_info(d)
        cached = torch.cuda.memory_reserved(d) - torch.cuda.memory_allocated(d)
        free.append(int(driver_free) + max(0, int(cached)))
    return min(free) if free else 0


def _dtype_bytes(model: Any) -> int:
    """Bytes of one activation value: the input embeddings' dtype (never quantized)."""
    try:
        weight = model.get_input_embeddings().weight
    except (AttributeError, NotImplementedError, TypeError):
        weight = next(iter(model.parameters()))
    return int(weight.element_size()) if weight.is_floating_point() else 2


def batch_limits(
    loaded: Any, free_bytes: int | float | None = None, memory: Callable[[Any, Any], int] | None = None
) -> BatchLimits:
    """The batch limits of an engine over ``loaded`` (a LoadedModel).

    On a CPU: :func:`cpu_limits` of the model's shape (:data:`CPU_LIMITS` without a config). On a
    GPU, or whenever ``free_bytes`` is given (tests feed
    made-up numbers): :func:`limits_from_memory` of the free memory, read by ``memory(model,
    device)`` (default :func:`free_device_memory`), and the model's config and dtype."""
    try:
        device = loaded.device
    except (AttributeError, StopIteration):  # no model to place (a stand-in engine in tests)
        return CPU_LIMITS
    kind = getattr(device, "type", str(device).split(":")[0])
    model = loaded.model
    if free_bytes is None and kind != "cuda":
        config = getattr(model, "config", None)
        return cpu_limits(ModelShape.from_config(config, _dtype_bytes(model))) if config is not None else CPU_LIMITS
    if free_bytes is None:
        free_bytes = (memory or free_device_memory)(model, device)
    shape = ModelShape.from_config(model.config, _dtype_bytes(model))
    return limits_from_memory(free_bytes, shape, str(device))
