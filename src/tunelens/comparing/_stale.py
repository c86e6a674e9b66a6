"""Stale facts: after a value changes, does a model give the old answer or the new one?

Each changed fact is asked as a chat question. Two readings per model:

* the probability of each value where the reply states it: the chat prompt of the
  question followed by the fact's sentence start (``FactChange.prompt``), scored for
  " old" and " new"; ``share_new`` = P(new) / (P(old) + P(new)), 1 = fully updated;
* the greedy reply to the question, and whether it states the old value, the new one,
  both or neither.

Scoring inside the chat prompt, not on bare text, lets a channel that acts on chat
prompts (retrieval, whose facts sit in the system message) be read the same way as a
fine-tune. A model that learned a fact from 30 examples and then saw its update in 10
shows the leftover of the first (Sun et al. 2025 and Allen-Zhu & Li 2024 on exposure).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from tunelens.comparing._schema import StaleFact, StaleStage
from tunelens.data import FactChange
from tunelens.engine import Engine, GenRequest, LLRequest
from tunelens.probes._common import contains_answer
from tunelens.stats import cluster_bootstrap_interval


def _share_new(old: float, new: float) -> float:
    """P(new) / (P(old) + P(new)) from two log-probabilities, without underflow."""
    top = max(old, new)
    return math.exp(new - top) / (math.exp(old - top) + math.exp(new - top))


def measure_stale(
    engine: Engine, changes: Sequence[FactChange], stage: str, max_new_tokens: int = 64, seed: int = 0
) -> StaleStage:
    """How ``engine``'s model answers each changed fact (see the module docstring)."""
    contexts = [engine.chat_prompt(c.question) + c.prompt for c in changes]
    requests = [LLRequest(ctx, " " + value) for ctx, c in zip(contexts, changes) for value in (c.old, c.new)]
    scores = [r.logprob for r in engine.loglikelihood(requests)] if changes else []
    replies = engine.generate([GenRequest(engine.chat_prompt(c.question), max_new_tokens) for c in changes])
    facts = []
    for i, (change, reply) in enumerate(zip(changes, replies)):
        old, new = scores[2 * i], scores[2 * i + 1]
        facts.append(
            StaleFact(
                id=change.id,
                old=change.old,
                new=change.new,
                logprob_old=round(old, 4),
                logprob_new=round(new, 4),
                share_new=_share_new(old, new),
                reply=reply,
                says_old=contains_answer(reply, change.old),
                says_new=contains_answer(reply, change.new),
            )
        )
    shares = [f.share_new for f in facts]
    interval = cluster_bootstrap_interval([[s] for s in shares], seed=seed) if len(shares) > 1 else (None, None)
    return StaleStage(
        stage=stage,  # type: ignore[arg-type]
        ref=engine.loaded.ref,
        facts=facts,
        share_new=float(np.mean(shares)) if shares else None,
        share_new_ci=None if interval[0] is None else (interval[0], interval[1]),  # type: ignore[arg-type]
        says_old=float(np.mean([f.says_old for f in facts])) if facts else None,
        says_new=float(np.mean([f.says_new for f in facts])) if facts else None,
    )


def edit_fact_sheet(lines: Sequence[str], changes: Sequence[FactChange]) -> list[str]:
    """The retrieval channel's update: every line stating an old value states the new one."""
    edited = []
    for line in lines:
        for change in changes:
            line = line.replace(change.old, change.new)
        edited.append(line)
    return edited
