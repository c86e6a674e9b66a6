"""Scoring helpers several probes share: multiple choice by log-likelihood, chat generation."""

from __future__ import annotations

import re
from collections.abc import Sequence

from tunelens.engine import Engine, GenRequest, LLRequest


def choose(engine: Engine, context: str, choices: Sequence[str]) -> tuple[int, list[float]]:
    """Pick a choice by length-normalised log-likelihood (per character, as lm-eval's acc_norm)."""
    return choose_many(engine, [(context, choices)])[0]


def choose_many(engine: Engine, questions: Sequence[tuple[str, Sequence[str]]]) -> list[tuple[int, list[float]]]:
    """Batched :func:`choose`; a context shared by the choices of a question runs once."""
    requests = [LLRequest(ctx, " " + c.strip()) for ctx, choices in questions for c in choices]
    results = engine.loglikelihood(requests)
    out: list[tuple[int, list[float]]] = []
    at = 0
    for _, choices in questions:
        scores = [results[at + k].logprob / max(1, len(choices[k].strip()) + 1) for k in range(len(choices))]
        at += len(choices)
        out.append((max(range(len(scores)), key=scores.__getitem__), scores))
    return out


def answer_logprob(engine: Engine, pairs: Sequence[tuple[str, str]]) -> list[float]:
    """Total log-probability of each answer (with a leading space) after its context."""
    return [r.logprob for r in engine.loglikelihood([LLRequest(c, " " + a.strip()) for c, a in pairs])]


def chat_replies(engine: Engine, questions: Sequence[str], max_new_tokens: int) -> list[str]:
    """Greedy replies to single-turn chat questions."""
    prompts = [engine.chat_prompt(q) for q in questions]
    return engine.generate([GenRequest(p, max_new_tokens) for p in prompts])


_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower case, unify dashes and collapse white space, for 'does the reply contain X'."""
    text = text.lower().replace("\u2013", "-").replace("\u2014", "-")
    return _SPACE.sub(" ", text).strip()


def contains_answer(reply: str, answer: str) -> bool:
    return normalise(answer) in normalise(reply)
