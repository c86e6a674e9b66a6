"""The one-step vocabulary cross-entropy of training gives autograd's loss and gradients."""

from __future__ import annotations

import pytest
import torch

from tunelens.tuning._vocab_loss import vocab_cross_entropy


@pytest.mark.parametrize("frozen", [True, False])
@pytest.mark.parametrize("bias", [False, True])
def test_loss_and_gradients_are_autograds(frozen: bool, bias: bool) -> None:
    torch.manual_seed(0)
    head = torch.nn.Linear(24, 301, bias=bias)
    head.weight.requires_grad_(not frozen)
    if head.bias is not None:
        head.bias.requires_grad_(not frozen)
    hidden = torch.randn(37, 24)
    targets = torch.randint(0, 301, (37,))
    grads = []
    for way in ("autograd", "ours"):
        x = hidden.clone().requires_grad_(True)
        head.zero_grad(set_to_none=True)
        if way == "autograd":
            loss = torch.nn.functional.cross_entropy(head(x), targets)
        else:
            loss = vocab_cross_entropy(head, x, targets)
        (loss * 3.0).backward()  # an outer factor reaches the gradients
        grads.append((loss.item(), x.grad, [None if p.grad is None else p.grad.clone() for p in head.parameters()]))
    (want, want_x, want_params), (got, got_x, got_params) = grads
    assert got == pytest.approx(want, rel=1e-5)
    assert torch.allclose(got_x, want_x, atol=1e-6, rtol=1e-4)
    for g, w in zip(got_params, want_params):
        assert (g is None) == (w is None) == frozen
        if g is not None:
            assert torch.allclose(g, w, atol=1e-6, rtol=1e-4)


def test_a_head_that_is_not_a_plain_linear_layer_runs_as_it_is() -> None:
    class Scaled(torch.nn.Linear):  # an adapter's extra term, say
        def forward(self, x):
            return super().forward(x) * 2.0

    torch.manual_seed(0)
    head, hidden, targets = Scaled(8, 50), torch.randn(5, 8), torch.randint(0, 50, (5,))
    want = torch.nn.functional.cross_entropy(head(hidden), targets)
    assert vocab_cross_entropy(head, hidden, targets).item() == pytest.approx(want.item(), rel=1e-6)
