"""Linear layers routed through reordered weights (``engine._prepack``): the plain layer's
numbers for any number of rows and strided inputs; training passes, weights changed in place,
replaced weights and deep copies never meet a stale copy; the memory cap and a head that is
not a plain linear layer."""

from __future__ import annotations

import copy

import pytest
import torch

from tunelens.engine import _prepack
from tunelens.engine._prepack import prepack_linears

needs_onednn = pytest.mark.skipif(not _prepack._works(), reason="this PyTorch build has no oneDNN reorder")


class _Model(torch.nn.Module):
    def __init__(self, bias: bool = False) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.inner = torch.nn.Linear(16, 16, bias=bias)
        self.head = torch.nn.Linear(16, 300, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.inner(x)))

    def get_output_embeddings(self) -> torch.nn.Module:
        return self.head


@needs_onednn
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("rows", [1, 7, 64, 97, 300])
def test_same_numbers_as_the_plain_layers(rows: int, bias: bool) -> None:
    model = _Model(bias)
    hidden = torch.randn(rows, 3, 16)
    with torch.inference_mode():
        plain = model(hidden[:, -1:, :])
        assert prepack_linears(model) == 2
        routed = model(hidden[:, -1:, :])  # a strided view, as logits_to_keep=1 hands it
    assert routed.shape == plain.shape == (rows, 1, 300)
    assert routed.is_contiguous()
    assert torch.allclose(routed, plain, atol=1e-5)


@needs_onednn
def test_training_passes_run_the_plain_layer() -> None:
    model = _Model(bias=True)
    twin = copy.deepcopy(model)
    prepack_linears(model)
    prepack_linears(model)  # once per model: the layer is not wrapped twice
    hidden = torch.randn(4, 16, requires_grad=True)
    out = model(hidden)
    assert torch.equal(out, twin(hidden))  # gradients on: the plain product, bit for bit
    out.sum().backward()
    assert hidden.grad is not None and model.head.weight.grad is not None


@needs_onednn
def test_a_weight_changed_in_place_or_replaced_is_reordered_again() -> None:
    model = _Model()
    prepack_linears(model)
    hidden = torch.randn(5, 16)
    with torch.no_grad():
        before = model(hidden)
        model.head.weight.mul_(2)  # as a training step or a merge does
        assert torch.allclose(model(hidden), 2 * before, atol=1e-4)
        model.head.weight = torch.nn.Parameter(torch.zeros(300, 16))
        assert torch.equal(model(hidden), torch.zeros(5, 300))


@needs_onednn
def test_a_deep_copy_computes_with_its_own_weight() -> None:
    model = _Model()
    prepack_linears(model)
    hidden = torch.randn(4, 16)
    with torch.no_grad():
        model(hidden)  # the original holds reordered copies now; the deep copy must not need them
        twin = copy.deepcopy(model)
        twin.head.weight.mul_(2)
        assert torch.allclose(twin(hidden), 2 * model(hidden), atol=1e-4)


def test_over_the_memory_cap_the_layers_stay_plain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_prepack, "PREPACK_MAX_BYTES", 1000)
    model = _Model()
    assert prepack_linears(model) == 0
    hidden = torch.randn(3, 2, 16)
    with torch.inference_mode():
        assert torch.equal(
            model.head(hidden[:, -1:, :]), torch.nn.functional.linear(hidden[:, -1:, :], model.head.weight)
        )
    assert getattr(model.head, "_tunelens_contiguous", False)  # the head still gets a contiguous input


def test_a_head_that_is_not_a_plain_linear_layer_gets_a_contiguous_input() -> None:
    class Head(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.seen: list[bool] = []

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            self.seen.append(x.is_contiguous())
            return x

    class WithHead(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.head = Head()

        def get_output_embeddings(self) -> torch.nn.Module:
            return self.head

    model = WithHead()
    assert prepack_linears(model) == 0
    prepack_linears(model)
    model.head(torch.randn(3, 4, 8)[:, -1:, :])
    assert model.head.seen == [True]


def test_an_engine_without_a_model_routes_nothing() -> None:
    assert prepack_linears(None) == 0
