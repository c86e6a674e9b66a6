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

from typing import Any


def vocab_cross_entropy(head: Any, hidden: Any, targets: Any) -> Any:
    """Mean cross-entropy of ``targets`` (n) under ``head(hidden)`` (hidden: n x d), with the
    gradients ``torch.nn.functional.cross_entropy`` would give ``hidden`` and, where they
    take one, the head's weight and bias (float tolerance). A head that is not a plain linear
    layer (an adapter on the unembedding) goes through autograd as it is."""
    import torch

    if type(head) is not torch.nn.Linear:
        return torch.nn.functional.cross_entropy(head(hidden).float(), targets)

    class _Loss(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, h: Any, weight: Any, bias: Any) -> Any:
            from tunelens.engine._prepack import frozen_linear

            logits = frozen_linear(head, h).float()
            lse = torch.logsumexp(logits, dim=1)
            loss = (lse - logits.gather(1, targets[:, None]).squeeze(1)).mean()
            ctx.save_for_backward(h, weight)
            ctx.logits, ctx.lse = logits, lse  # intermediates: the backward reuses the logits' memory
            return loss

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            h, weight = ctx.saved_tensors
            probs = ctx.logits.sub_(ctx.lse[:, None]).exp_()
            probs[torch.arange(len(targets), device=probs.device), targets] -= 1.0
            probs.mul_(grad / len(targets))
            ctx.logits = ctx.lse = None
            dlogits = probs.to(weight.dtype)
            dh = dlogits @ weight if ctx.needs_input_grad[0] else None
            dweight = dlogits.T @ h if ctx.needs_input_grad[1] else None
            dbias = dlogits.sum(0) if ctx.needs_input_grad[2] else None
            return dh, dweight, dbias

    return _Loss.apply(hidden, head.weight, head.bias)
