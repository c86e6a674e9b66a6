"""The scoring kernel: batched log-likelihood, per-token log-probabilities and generation."""

from tunelens.engine._engine import Engine, GenRequest, LLRequest, LLResult, Sampling
from tunelens.engine._memo import Memo, MemoEngine, memo_scope, memoised

__all__ = ["Engine", "GenRequest", "LLRequest", "LLResult", "Memo", "MemoEngine", "Sampling", "memo_scope", "memoised"]
