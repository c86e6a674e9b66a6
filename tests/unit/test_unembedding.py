"""The engine's CPU unembedding (``_fast_unembedding``): the plain layer's numbers for few rows
and many, strided inputs and training passes; a deep copy computes with its own weight."""

from __future__ import annotations

import copy

import pytest
import torch

from tunelens.engine._engine import UNEMBED_ROWS, _fast_unembedding


class _Model(torch.nn.Module):
    def __init__(self, bias: bool = False) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.head = torch.nn.Linear(16, 300, bias=bias)

    def get_output_embeddings(self) -> torch.nn.Module:
        return self.head


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("rows", [1, 7, UNEMBED_ROWS, UNEMBED_ROWS + 1])
def test_same_logits_as_the_plain_layer(rows: int, bias: bool) -> None:
    model = _Model(bias)
    hidden = torch.randn(rows, 3, 16)
    with torch.inference_mode():
        plain = model.head(hidden[:, -1:, :])
        _fast_unembedding(model)
        fast = model.head(hidden[:, -1:, :])  # a strided view, as logits_to_keep=1 hands it
    assert fast.shape == plain.shape == (rows, 1, 300)
    assert fast.is_contiguous()
    assert torch.allclose(fast, plain, atol=1e-5)


def test_training_passes_and_copies() -> None:
    model = _Model()
    _fast_unembedding(model)
    _fast_unembedding(model)  # once per model
    hidden = torch.randn(4, 16, requires_grad=True)
    model.head(hidden).sum().backward()  # gradients flow as through the plain layer
    assert hidden.grad is not None and model.head.weight.grad is not None
    twin = copy.deepcopy(model)
    with torch.no_grad():
        twin.head.weight.mul_(2)
        assert torch.allclose(twin.head(hidden), 2 * model.head(hidden), atol=1e-4)
