"""The scoring kernel: batched log-likelihood, per-token log-probabilities and generation."""

from tunelens.engine._engine import Engine, GenRequest, LLRequest, LLResult, Sampling

__all__ = ["Engine", "GenRequest", "LLRequest", "LLResult", "Sampling"]
