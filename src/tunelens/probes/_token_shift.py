"""The token-level view of ``behaviour``: which tokens the tuned model now favours.

Model-diffing work ranks tokens by the difference of the two models' log-probabilities on
text the tuned model writes (Minder et al. 2025, "Narrow finetuning leaves clearly readable
traces in activation differences"; the diffing-toolkit's logit-difference views): a token
the fine-tune taught shows up with a large rise wherever the tuned model uses it. Here both
models score the tuned model's own greedy replies, token by token, after the same prompt;
each token's rise is averaged over its occurrences, and a token counts only when it occurs
in several replies (one reply's quirk is not a habit).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tunelens.engine import Engine
from tunelens.results import Table

MIN_REPLIES = 3
"""A token is ranked only when it occurs in at least this many replies."""
CONTEXT_TOKENS = 6
"""Tokens of text shown before each occurrence."""


@dataclass(frozen=True)
class TokenShift:
    token: str
    mean_rise: float  # mean of log P_tuned - log P_base over its occurrences (nats)
    occurrences: int
    replies: int
    contexts: tuple[str, ...]


def _shown(text: str) -> str:
    return text.replace("\n", "\u21b5")


def token_shifts(
    base: Engine, tuned: Engine, prompts: Sequence[str], replies: Sequence[str], *, top: int, contexts: int
) -> list[TokenShift]:
    """The ``top`` tokens whose log-probability rose most, base to tuned, on ``replies`` (the
    tuned model's, each after its prompt text), each with up to ``contexts`` places it occurs."""
    tokenizer = tuned.tokenizer
    kept = [(p, r) for p, r in zip(prompts, replies) if r.strip()]
    if not kept:
        return []
    starts = [len(tuned.encode(p)) for p, _ in kept]
    ids_of = [tuned.encode(p + r) for p, r in kept]  # both models share the tokenizer (the audit checks)
    tuned_lp, base_lp = tuned.token_logprobs_of(ids_of), base.token_logprobs_of(ids_of)
    rises: dict[int, list[float]] = {}
    where: dict[int, list[tuple[int, int]]] = {}
    for row, (ids, start) in enumerate(zip(ids_of, starts)):
        diff = tuned_lp[row] - base_lp[row]  # position j scores token j + 1
        for pos in range(max(start, 1), len(ids)):
            token = ids[pos]
            rises.setdefault(token, []).append(float(diff[pos - 1]))
            where.setdefault(token, []).append((row, pos))
    out = []
    for token, values in rises.items():
        rows = sorted({r for r, _ in where[token]})
        if len(rows) < MIN_REPLIES:
            continue
        shown: list[str] = []
        for row, pos in where[token]:
            ids = ids_of[row]
            before = tokenizer.decode(ids[max(starts[row], pos - CONTEXT_TOKENS) : pos])
            text = f"\u2026{_shown(before)}[{_shown(tokenizer.decode([token]))}]"
            if text not in shown:  # distinct contexts: a stock phrase shows once
                shown.append(text)
            if len(shown) == contexts:
                break
        out.append(TokenShift(tokenizer.decode([token]), float(np.mean(values)), len(values), len(rows), tuple(shown)))
    out.sort(key=lambda s: -s.mean_rise)
    return out[:top]


def token_table(shifts: Sequence[TokenShift], n_replies: int) -> Table:
    rows = [
        [repr(s.token), f"{s.mean_rise:+.2f}", f"{np.exp(s.mean_rise):.1f}\u00d7", f"{s.replies} ({s.occurrences})",
         "  ".join(s.contexts)]
        for s in shifts
    ]  # fmt: skip
    return Table(
        id="token-shift",
        title="Tokens the tuned model now favours",
        columns=["token", "mean rise (nats)", "probability ratio", "replies (occurrences)", "contexts"],
        rows=rows,
        caption=(
            f"Both models scored the tuned model's {n_replies} greedy replies token by token; each token's rise in "
            f"log-probability (tuned minus base) is averaged over its occurrences, for tokens found in at least "
            f"{MIN_REPLIES} replies. The token is in brackets after the text before it; \u21b5 is a line break. A "
            "descriptive view: it ranks, it does not test."
        ),
    )
