"""Cross-entropy over the vocabulary from hidden states, in one autograd step.

``cross_entropy(unembedding(hidden), targets)`` through autograd writes the logits, their
log-softmax, a zero-filled gradient of the same size and the log-softmax's gradient: four
passes over a matrix of positions x vocabulary (586 x 49,152 floats, 115 MB, in a demo step).
Here the forward writes the logits once and keeps them; the backward turns them in place into
the softmax minus the one-hot targets, which is the loss's gradient with respect to the
logits, and multiplies it back through the unembedding. A frozen unembedding (a LoRA's)
multiplies on its reordered oneDNN copy (``engine._prepack.frozen_linear``).
"""

from __future__ import annotations

import functools
from typing import Any


def vocab_cross_entropy(head: Any, hidden: Any, targets: Any) -> Any:
    """Mean cross-entropy of ``targets`` (n) under ``head(hidden)`` (hidden: n x d), with the
    gradients ``torch.nn.functional.cross_entropy`` would give ``hidden`` and, where they
    take one, the head's weight and bias (float tolerance). A head that is not a plain linear
    layer (an adapter on the unembedding) goes through autograd as it is."""
    import torch

    if type(head) is not torch.nn.Linear:
        return torch.nn.functional.cross_entropy(head(hidden).float(), targets)
    return _loss_function().apply(hidden, head.weight, head.bias, head, targets)


@functools.cache
def _loss_function() -> Any:
    """The autograd function (made at first use: torch is imported lazily)."""
    import torch

    from tunelens.engine._prepack import frozen_linear

    class VocabLoss(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, h: Any, weight: Any, bias: Any, head: Any, targets: Any) -> Any:
            logits = frozen_linear(head, h).float()
            lse = torch.logsumexp(logits, dim=1)
            ctx.save_for_backward(h, weight, targets)
            ctx.logits, ctx.lse = logits, lse  # intermediates: the backward reuses the logits' memory
            return (lse - logits.gather(1, targets[:, None]).squeeze(1)).mean()

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            h, weight, targets = ctx.saved_tensors
            probs = ctx.logits.sub_(ctx.lse[:, None]).exp_()
            ctx.logits = ctx.lse = None
            probs[torch.arange(len(targets), device=probs.device), targets] -= 1.0
            dlogits = probs.mul_(grad / len(targets)).to(weight.dtype)
            dh = dlogits @ weight if ctx.needs_input_grad[0] else None
            dweight = dlogits.T @ h if ctx.needs_input_grad[1] else None
            dbias = dlogits.sum(0) if ctx.needs_input_grad[2] else None
            return dh, dweight, dbias, None, None

    return VocabLoss
