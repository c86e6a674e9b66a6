"""Step-by-step reference for retrieval-head scores, as Wu et al. (2024) compute them.

Greedy decoding one token at a time with eager attention and ``output_attentions=True``;
at every step each head's attention row of the last query is read and its argmax taken.
It exists to check the one-pass scorer (``tunelens.probes._needles.one_pass_argmax``)
in the tests and to time it in ``benchmarks/retrieval_heads.py``; the probe never uses it.

``use_cache=False`` re-runs the whole sequence at every step (the plainest form, nothing
shared between steps); ``use_cache=True`` prefills the prompt once and then feeds one
token per step with its attention outputs, as the authors' detection script does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tunelens.engine._attention import attention_implementation, head_grid
from tunelens.models import cache_kwargs, cache_of


def reference_decode(
    model: Any, prompt_ids: Sequence[int], max_new_tokens: int, stop_ids: set[int], use_cache: bool = False
) -> tuple[list[int], np.ndarray]:
    """Greedy answer ids and each head's argmax position at every step, shape (layers, heads, steps)."""
    import torch

    n_layers, n_heads = head_grid(model)
    device = next(model.parameters()).device
    sequence = list(prompt_ids)
    answer: list[int] = []
    steps: list[np.ndarray] = []
    with attention_implementation(model, "eager"), torch.inference_mode():
        cache = None
        if use_cache:
            prefill = model(input_ids=torch.tensor([sequence[:-1]], device=device), use_cache=True)
            cache = cache_of(prefill)
        for _ in range(max_new_tokens):
            if use_cache:
                out = model(
                    input_ids=torch.tensor([sequence[-1:]], device=device),
                    **cache_kwargs(model, cache),
                    use_cache=True,
                    output_attentions=True,
                )
                cache = cache_of(out)
            else:
                out = model(input_ids=torch.tensor([sequence], device=device), output_attentions=True)
            token = int(out.logits[0, -1].argmax())
            if token in stop_ids:
                break
            steps.append(np.stack([a[0, :, -1, :].float().argmax(-1).cpu().numpy() for a in out.attentions]))
            answer.append(token)
            sequence.append(token)
    if not steps:
        return answer, np.zeros((n_layers, n_heads, 0), dtype=np.int64)
    return answer, np.stack(steps, axis=-1).astype(np.int64)
